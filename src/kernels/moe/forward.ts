// moe.forward: the whole MoE layer on the GPU, router -> dispatch -> grouped expert FFN (+ shared experts)
// -> combine, as four stages of one instance (each stage can be encoded alone for per-stage timing).
import type { DeviceCaps } from '../../gpu/context.ts';
import { expertCapacity, gateReference, moeLayerReference } from '../../reference/moe.ts';
import type { ConfigOf, ConfigSchema, Cost, KernelDefinition, OutputSpec, TensorSpec, ValidationIssue } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import { allocate, planned, planScratch, plannedTensors, type BufferPlan } from '../common/buffer-plan.ts';
import { combineCost, createCombineStage } from './combine.ts';
import { capacityField, createDispatchStage, dispatchCost, dispatchOutputs, dispatchPlan } from './dispatch.ts';
import { checkFfnShape, createFfnStage, ffnStagePlan, interField, swigluCost, weightDtypeField, type FfnStageOptions } from './grouped-ffn.ts';
import { needF16 } from '../common/rules.ts';
import { roundTo } from '../tensor.ts';
import { expectedRoutedWork, routedWorkFromIndices, type RoutedWork } from './moe-cost.ts';
import {
  checkRouting,
  ffnWeights,
  gateOptions,
  routingInputs,
  routingSchema,
  type Stage,
  type StagedInstance,
} from './moe-config.ts';
import { forwardFromGolden, forwardGoldenMeta } from './moe-golden.ts';
import { checkRouter, createRouterStage, routerCost, routerInputs, routerScratch } from './router.ts';

export const moeForwardSchema = {
  ...routingSchema,
  inter: interField,
  shared_inter: { type: 'int', label: 'shared expert hidden dim', doc: 'n_shared_experts * moe_inter_dim (DeepSeek-V3: 1 x 2048); 0 = no shared experts', default: 32, min: 0, max: 65536 },
  capacity_factor: capacityField,
  /** the routed and shared experts' weights (the gate stays f32: it is small and decides the routing) */
  dtype: weightDtypeField,
} satisfies ConfigSchema;

export type MoeForwardConfig = ConfigOf<typeof moeForwardSchema>;

function routedOptions(c: MoeForwardConfig): FfnStageOptions {
  return { label: 'moe.forward experts', rows: c.N * c.topk, dim: c.dim, inter: c.inter, E: c.E, gather: true, maxRowsPerExpert: c.N };
}

function sharedOptions(c: MoeForwardConfig): FfnStageOptions {
  return { label: 'moe.forward shared experts', rows: c.N, dim: c.dim, inter: c.shared_inter, E: 1, gather: false, maxRowsPerExpert: c.N };
}

export function checkForward(c: MoeForwardConfig, caps: DeviceCaps): ValidationIssue[] {
  const routing = checkRouting(c);
  if (routing.length) return routing;
  const issues = [...needF16('dtype', c.dtype, caps), ...checkRouter(c, caps), ...checkFfnShape(routedOptions(c), caps)];
  if (c.shared_inter > 0) issues.push(...checkFfnShape(sharedOptions(c), caps, 'shared_inter'));
  // one message per field
  return issues.filter((i, n) => issues.findIndex((j) => j.field === i.field && j.message === i.message) === n);
}

export function forwardInputs(c: MoeForwardConfig): TensorSpec[] {
  return [
    ...routerInputs(c),
    { name: 'w1', shape: [c.E, c.inter, c.dim], dtype: c.dtype },
    { name: 'w2', shape: [c.E, c.dim, c.inter], dtype: c.dtype },
    { name: 'w3', shape: [c.E, c.inter, c.dim], dtype: c.dtype },
    ...(c.shared_inter > 0
      ? ([
          { name: 'shared_w1', shape: [c.shared_inter, c.dim], dtype: c.dtype },
          { name: 'shared_w2', shape: [c.dim, c.shared_inter], dtype: c.dtype },
          { name: 'shared_w3', shape: [c.shared_inter, c.dim], dtype: c.dtype },
        ] as TensorSpec[])
      : []),
  ];
}

function forwardOutputs(c: MoeForwardConfig): OutputSpec[] {
  return [{ name: 'out', shape: [c.N, c.dim], dtype: 'f32' }];
}

/** Per-stage costs for the routing `w` (default: the uniform expectation). */
export function forwardStageCosts(c: MoeForwardConfig, w: RoutedWork = expectedRoutedWork(c.E, c.topk, c.N)): Record<'router' | 'dispatch' | 'experts' | 'combine', Cost> {
  const routed = swigluCost(w.rows, w.tokens, c.dim, c.inter, w.activeExperts);
  const shared = c.shared_inter > 0 ? swigluCost(c.N, c.N, c.dim, c.shared_inter, 1) : { flops: 0, bytes: 0 };
  return {
    router: routerCost(c),
    dispatch: dispatchCost(c),
    experts: { flops: routed.flops + shared.flops, bytes: routed.bytes + shared.bytes },
    combine: combineCost({ ...c, shared: c.shared_inter > 0 }, w.rows),
  };
}

/**
 * The stages' sum; beyond the layer's minimum (x, the router and every active expert's weights read once,
 * out written once) it is traffic between the stages (logits, routing, h, y, the shared expert's output).
 */
function forwardCost(c: MoeForwardConfig, w: RoutedWork): Cost {
  const total = Object.values(forwardStageCosts(c, w)).reduce((a, b) => ({ flops: a.flops + b.flops, bytes: a.bytes + b.bytes }), { flops: 0, bytes: 0 });
  const minimum = 4 * (2 * c.N * c.dim + c.E * c.dim + (c.bias ? c.E : 0) + 3 * c.dim * (w.activeExperts * c.inter + c.shared_inter));
  return { ...total, intermediateBytes: total.bytes - minimum };
}

/** The buffers moe.forward itself owns: its tensors and the stage-to-stage intermediates. */
function forwardPlan(c: MoeForwardConfig): BufferPlan {
  const R = c.N * c.topk;
  const mid = Object.fromEntries(dispatchOutputs(c).map((s) => [s.name, planned('scratch', tensorBytes(s.shape, s.dtype))]));
  return {
    ...plannedTensors(forwardInputs(c), forwardOutputs(c), [...forwardInputs(c), ...forwardOutputs(c)].map((t) => t.name)),
    ...mid,
    weights: planned('scratch', R * 4),
    indices: planned('scratch', R * 4),
    y: planned('scratch', R * c.dim * 4),
    ...(c.shared_inter > 0 ? { shared_out: planned('scratch', c.N * c.dim * 4) } : {}),
  };
}

/** Every scratch buffer of the layer: its intermediates and what each stage owns (router logits, dispatch block bases, expert h and tile tables). */
function scratchSpecs(c: MoeForwardConfig): { name: string; bytes: number }[] {
  const stage = (prefix: string, list: { name: string; bytes: number }[]) => list.map((s) => ({ name: `${prefix} ${s.name}`, bytes: s.bytes }));
  return [
    ...planScratch(forwardPlan(c)),
    ...stage('router', routerScratch(c)),
    ...stage('dispatch', planScratch(dispatchPlan(c))),
    ...stage('experts', planScratch(ffnStagePlan(routedOptions(c)))),
    ...(c.shared_inter > 0 ? stage('shared experts', planScratch(ffnStagePlan(sharedOptions(c)))) : []),
  ];
}

/** The instance also exposes the routing results (for the UI's expert-load picture). */
export interface MoeForwardInstance extends StagedInstance {
  /** The stages' intermediates (read back by tests and the step-through): router weights/indices [N, topk], dispatch counts [E], offsets [E+1], sorted_tokens [N*topk], slot_of [N, topk], dropped [1], expert outputs y [N*topk, dim]. */
  routing: Record<'weights' | 'indices' | 'counts' | 'dropped' | 'offsets' | 'sorted_tokens' | 'slot_of' | 'y', GPUBuffer>;
}

function fail(name: string): never {
  throw new Error(`moe.forward: the buffer plan has no ${name}`);
}

export const moeForward: KernelDefinition<MoeForwardConfig> = {
  id: 'moe.forward',
  family: 'moe',
  title: 'MoE layer end to end (router, dispatch, grouped experts, combine)',
  explain:
    'A DeepSeek-V3 MoE layer on the GPU with no CPU round trip: the router picks topk experts per token, the dispatch sorts the token ' +
    'copies into expert-contiguous rows (stable, optional capacity), one grouped SwiGLU launch per matmul runs every expert over its rows ' +
    '(tiles numbered on the GPU, indirect dispatch), the shared experts run densely for every token, and the combine gathers each ' +
    "token's weighted expert rows back. Only topk + shared experts' weights are touched per token: the whole point of MoE.",
  sources: ['DeepSeek-V3 Technical Report (arXiv:2412.19437), sec. 2.1.2; inference/model.py classes Gate, Expert, MoE'],
  implements: 'moe.forward',
  schema: moeForwardSchema,
  check: checkForward,
  inputs: forwardInputs,
  outputs: forwardOutputs,
  scratch: scratchSpecs,
  cost: (c) => forwardCost(c, expectedRoutedWork(c.E, c.topk, c.N)),
  // The routing this run chose: the gate on its inputs, the dispatch's capacity rule (the GPU router matches
  // the reference gate exactly on the tests' inputs).
  runCost(c, t) {
    const gate = gateReference(t.x!, t.gate_weight!, c.bias ? t.gate_bias : undefined, gateOptions(c));
    return forwardCost(c, routedWorkFromIndices(gate.indices.data, c.N, c.topk, c.E, expertCapacity(c.capacity_factor, c.N, c.topk, c.E)));
  },
  randomInputs(c, rng) {
    return {
      ...routingInputs(c, rng),
      ...ffnWeights(rng, '', c.E, c.dim, c.inter),
      ...(c.shared_inter > 0 ? ffnWeights(rng, 'shared_', undefined, c.dim, c.shared_inter) : {}),
    };
  },
  reference(inputs, c) {
    // f16 storage: the reference sees the expert weights the GPU reads (rounded once), then computes in float64.
    const stored = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, /^(shared_)?w[123]$/.test(name) ? roundTo(t, c.dtype) : t]));
    const used = c.bias ? stored : Object.fromEntries(Object.entries(stored).filter(([name]) => name !== 'gate_bias'));
    return { out: moeLayerReference(used, { ...gateOptions(c), inter: c.inter, shared_inter: c.shared_inter, capacity_factor: c.capacity_factor }) };
  },
  fromGolden: forwardFromGolden,
  goldenMeta: forwardGoldenMeta,
  async create(ctx, c): Promise<MoeForwardInstance> {
    // Everything made so far, freed in reverse if a later step throws.
    const parts: { destroy(): void }[] = [];
    try {
      const made = allocate(ctx, 'moe.forward', forwardPlan(c));
      parts.push(made);
      const m = made.buffers;
      const need = (name: string): GPUBuffer => m[name] ?? fail(name);
      const stage = async <S extends Stage>(p: Promise<S>): Promise<S> => {
        const s = await p;
        parts.push(s);
        return s;
      };
      const router = await stage(createRouterStage(ctx, c, { x: need('x'), gate_weight: need('gate_weight'), gate_bias: m.gate_bias, weights: need('weights'), indices: need('indices') }));
      const dispatch = await stage(
        createDispatchStage(ctx, c, {
          indices: need('indices'),
          counts: need('counts'),
          offsets: need('offsets'),
          sorted_tokens: need('sorted_tokens'),
          slot_of: need('slot_of'),
          dropped: need('dropped'),
        }),
      );
      const routed = await stage(
        createFfnStage(ctx, routedOptions(c), { x: need('x'), w1: need('w1'), w2: need('w2'), w3: need('w3'), y: need('y'), sorted_tokens: need('sorted_tokens'), offsets: need('offsets') }, c.dtype),
      );
      const shared =
        c.shared_inter > 0
          ? await stage(createFfnStage(ctx, sharedOptions(c), { x: need('x'), w1: need('shared_w1'), w2: need('shared_w2'), w3: need('shared_w3'), y: need('shared_out') }, c.dtype))
          : undefined;
      const combine = await stage(createCombineStage(ctx, c, { y: need('y'), weights: need('weights'), slot_of: need('slot_of'), shared_out: m.shared_out, out: need('out') }));
      const experts = (pass: GPUComputePassEncoder) => {
        routed.encode(pass);
        shared?.encode(pass);
      };
      const stages = [
        { name: 'router', encode: router.encode },
        { name: 'dispatch', encode: dispatch.encode },
        { name: 'experts', encode: experts },
        { name: 'combine', encode: combine.encode },
      ];
      return {
        tensors: made.tensors,
        stages,
        routing: {
          weights: need('weights'),
          indices: need('indices'),
          counts: need('counts'),
          dropped: need('dropped'),
          offsets: need('offsets'),
          sorted_tokens: need('sorted_tokens'),
          slot_of: need('slot_of'),
          y: need('y'),
        },
        encode(pass) {
          for (const s of stages) s.encode(pass);
        },
        destroy() {
          for (const p of parts.reverse()) p.destroy();
        },
      };
    } catch (e) {
      for (const p of parts.reverse()) p.destroy();
      throw e;
    }
  },
  benchmarks: [
    // The default suite's sizes; `--study moe` adds prefill N = 4096 and decode N = 8.
    // prefill at the decode shapes' scaled DeepSeek-V3 dims (see moe.grouped_ffn's benchmarks)
    { name: 'prefill scaled N=1024 dim=512 E=64 top-8 groups 8/4 inter=256 shared=256', config: { N: 1024, dim: 512, E: 64, topk: 8, n_groups: 8, topk_groups: 4, inter: 256, shared_inter: 256 } },
    { name: 'decode scaled N=1 dim=512 E=64 top-8 groups 8/4 inter=256 shared=256', config: { N: 1, dim: 512, E: 64, topk: 8, n_groups: 8, topk_groups: 4, inter: 256, shared_inter: 256 } },
    { name: 'decode scaled N=64 dim=512 E=64 top-8 groups 8/4 inter=256 shared=256', config: { N: 64, dim: 512, E: 64, topk: 8, n_groups: 8, topk_groups: 4, inter: 256, shared_inter: 256 } },
  ],
  testCases: [
    { name: 'V3 style: sigmoid + bias, groups, shared expert', config: { N: 21, dim: 20, E: 16, topk: 4, n_groups: 4, topk_groups: 2, inter: 12, shared_inter: 8 } },
    { name: 'softmax flat, no shared, capacity 1.0 drops', config: { N: 30, dim: 12, E: 6, topk: 2, n_groups: 1, topk_groups: 1, score_func: 'softmax', bias: false, route_scale: 1, inter: 8, shared_inter: 0, capacity_factor: 1 } },
    { name: 'Mixtral top-2 of 8', config: { N: 9, dim: 16, E: 8, topk: 2, n_groups: 1, topk_groups: 1, routing: 'mixtral', bias: false, route_scale: 1, inter: 20, shared_inter: 0 } },
    { name: 'decode N = 1, E = 64 groups 8/4', config: { N: 1, dim: 24, E: 64, topk: 8, n_groups: 8, topk_groups: 4, inter: 16, shared_inter: 16 } },
  ],
};
