// An MoE layer, traced: moe.forward runs once on clustered tokens and every stage's buffers are read back
// (router weights and indices, dispatch offsets and expert-sorted token order, the experts' outputs y, the
// combined out). Frames: the groups the chosen experts come from → the chosen experts and their weights →
// the dispatch order → the expert outputs → the combine. Each is checked against the float64 gate,
// dispatch, grouped-FFN and layer references.
import type { GpuContext } from '../../gpu/context.ts';
import { defaults } from '../../kernels/contract.ts';
import { exact, relL2 } from '../../kernels/compare.ts';
import { createInstance, encodeOnce, poisonOutputs, readOutputs, uploadInputs } from '../../kernels/execute.ts';
import { moeForward, type MoeForwardConfig, type MoeForwardInstance } from '../../kernels/moe/forward.ts';
import { ffnWeights, gateOptions } from '../../kernels/moe/moe-config.ts';
import type { Rng } from '../../kernels/random.ts';
import { clusterCount, structuredRouting, tokenCluster } from '../pictures/token-clusters.ts';
import { decodeTensor, type HostTensor } from '../../kernels/tensor.ts';
import { dispatchReference, expertCapacity, gateReference, groupedFfnReference } from '../../reference/moe.ts';
import { host, plain, type PlainTensor, type StageFrame } from './stage-frames.ts';

export interface MoeTrace {
  config: MoeForwardConfig;
  inputs: Record<string, PlainTensor>;
  /** What each stage wrote on the GPU. */
  stages: Record<'weights' | 'indices' | 'offsets' | 'sorted_tokens' | 'y' | 'out', PlainTensor>;
}

/** 16 tokens in 4 clusters, 16 experts in 4 groups, each token keeps 2 groups and 4 experts; no shared expert. */
export function moeTraceConfig(): MoeForwardConfig {
  return { ...defaults(moeForward.schema), N: 16, dim: 16, E: 16, topk: 4, n_groups: 4, topk_groups: 2, inter: 8, shared_inter: 0, bias: false, capacity_factor: 0, route_scale: 1 } as MoeForwardConfig;
}

export async function traceMoe(ctx: GpuContext, c: MoeForwardConfig, rng: Rng): Promise<MoeTrace> {
  const inputs: Record<string, HostTensor> = { ...structuredRouting(c, rng), ...ffnWeights(rng, '', c.E, c.dim, c.inter) };
  const inst = (await createInstance(ctx, moeForward, c)) as MoeForwardInstance;
  try {
    uploadInputs(ctx, inst, moeForward.inputs(c), inputs);
    poisonOutputs(ctx, inst, moeForward.outputs(c));
    encodeOnce(ctx, inst);
    const R = c.N * c.topk;
    const read = async (buf: GPUBuffer, shape: number[], dtype: 'f32' | 'i32') => plain(decodeTensor(await ctx.buffers.read(buf, shape.reduce((a, b) => a * b, 4)), shape, dtype));
    const out = await readOutputs(ctx, inst, moeForward.outputs(c));
    const stages = {
      weights: await read(inst.routing.weights, [c.N, c.topk], 'f32'),
      indices: await read(inst.routing.indices, [c.N, c.topk], 'i32'),
      offsets: await read(inst.routing.offsets, [c.E + 1], 'i32'),
      sorted_tokens: await read(inst.routing.sorted_tokens, [R], 'i32'),
      y: await read(inst.routing.y, [R, c.dim], 'f32'),
      out: plain(out.out!),
    };
    ctx.assertAlive();
    return { config: c, inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, plain(v)])), stages };
  } finally {
    inst.destroy();
  }
}

/** token × expert matrix of routing weights (0 where not chosen). */
function denseWeights(weights: ArrayLike<number>, indices: ArrayLike<number>, N: number, topk: number, E: number): Float64Array {
  const m = new Float64Array(N * E);
  for (let t = 0; t < N; t++) for (let j = 0; j < topk; j++) m[t * E + indices[t * topk + j]!] = weights[t * topk + j]!;
  return m;
}

/** token × group mask: the groups the token's chosen experts belong to. */
function groupsUsed(indices: ArrayLike<number>, N: number, topk: number, E: number, G: number): Float32Array {
  const m = new Float32Array(N * G);
  for (let t = 0; t < N; t++) for (let j = 0; j < topk; j++) m[t * G + Math.floor(indices[t * topk + j]! / (E / G))] = 1;
  return m;
}

export function moeFrames(trace: MoeTrace): StageFrame[] {
  const c = trace.config;
  const { N, E, topk, dim, n_groups: G } = c;
  const R = N * topk;
  const inputs = Object.fromEntries(Object.entries(trace.inputs).map(([k, v]) => [k, host(v)]));
  const gate = gateReference(inputs.x!, inputs.gate_weight!, undefined, gateOptions(c));
  const disp = dispatchReference(gate.indices, N, topk, E, expertCapacity(c.capacity_factor, N, topk, E));
  const y = groupedFfnReference(inputs.x!, disp.sorted_tokens, disp.offsets, inputs.w1!, inputs.w2!, inputs.w3!, { E, dim, inter: c.inter, rows: R });
  const out = moeForward.reference(inputs, c).out!;
  const g = trace.stages;
  const C = clusterCount(c);
  let home = 0;
  for (let t = 0; t < N; t++) for (let j = 0; j < topk; j++) if (Math.floor(g.indices.data[t * topk + j]! / (E / G)) === tokenCluster(t, N, C)) home++;
  const offsets = g.offsets.data;
  // Each dispatch slot coloured by its token: clustered tokens land in contiguous runs of slots.
  const slots = Float32Array.from(g.sorted_tokens.data, (t) => (t < 0 ? NaN : t));
  return [
    {
      stage: 'groups',
      caption: `The gate scores every expert, ranks the ${G} groups by their best scores and keeps ${c.topk_groups}: the groups each token's experts come from. Tokens come in ${C} clusters (rows of 4); ${home} of ${R} choices fall in the token's own cluster's group.`,
      views: [{ name: 'groups', title: 'groups used (token × group)', matrix: { rows: N, cols: G, values: groupsUsed(g.indices.data, N, topk, E, G), kind: 'mask', rowLabel: 'token', colLabel: 'group' } }],
      checks: [exact('groups used', groupsUsed(g.indices.data, N, topk, E, G), groupsUsed(gate.indices.data, N, topk, E, G))],
    },
    {
      stage: 'experts',
      caption: `Within the kept groups each token takes its ${topk} best experts; their ${c.score_func} scores (renormalised) are the routing weights.`,
      views: [{ name: 'weights', title: 'routing weights (token × expert)', matrix: { rows: N, cols: E, values: Float32Array.from(denseWeights(g.weights.data, g.indices.data, N, topk, E)), kind: 'weight', normalise: 'global', rowLabel: 'token', colLabel: 'expert' } }],
      checks: [relL2('weights by expert', denseWeights(g.weights.data, g.indices.data, N, topk, E), denseWeights(gate.weights.data, gate.indices.data, N, topk, E), 1e-4)],
    },
    {
      stage: 'dispatch',
      caption: `Dispatch sorts the ${R} token copies by expert (a counting sort): expert e owns slots ${Array.from({ length: E }, (_, e) => `${offsets[e]}`).join(', ')} … ${offsets[E]}.`,
      views: [{ name: 'slots', title: 'token in each dispatch slot (expert order)', matrix: { rows: 1, cols: R, values: slots, kind: 'weight', normalise: 'global', rowLabel: 'slots', colLabel: 'slot' } }],
      checks: [exact('offsets', offsets, disp.offsets.data), exact('sorted_tokens', g.sorted_tokens.data, disp.sorted_tokens.data)],
    },
    {
      stage: 'experts FFN',
      caption: `Each expert runs its SwiGLU FFN w2·(silu(w1 x) ⊙ w3 x) over its contiguous slots: y, one row per token copy.`,
      views: [{ name: 'y', title: 'expert outputs y (slot × dim)', matrix: { rows: R, cols: dim, values: Float32Array.from(g.y.data), kind: 'weight', normalise: 'global', rowLabel: 'slot', colLabel: 'dim' } }],
      checks: [relL2('y', g.y.data, y.data, 1e-4)],
    },
    {
      stage: 'combine',
      caption: `Combine adds each token's ${topk} expert outputs, weighted by its routing weights: out.`,
      views: [{ name: 'out', title: 'layer output (token × dim)', matrix: { rows: N, cols: dim, values: Float32Array.from(g.out.data), kind: 'weight', normalise: 'global', rowLabel: 'token', colLabel: 'dim' } }],
      checks: [relL2('out', g.out.data, out.data, 1e-4)],
    },
  ];
}

