// moe.router: host side of shaders/moe/router.wgsl (DeepSeek-V3 / Kimi K2 / Mixtral gates).
import { instanceOfStage } from '../stage-instance.ts';
import wgsl from '../../../shaders/moe/router.wgsl?raw';
import gemvWgsl from '../../../shaders/moe/router-gemv.wgsl?raw';
import type { AdapterSummary, DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { allocate, planned, planScratch, plannedUniform, type BufferPlan } from '../common/buffer-plan.ts';
import { gemmQuadCore, gemmQuadTile } from '../common/gemm.ts';
import { laneSumSource } from '../attention/flash-lanes.ts';
import { gateReference } from '../../reference/moe.ts';
import type { KernelDefinition, OutputSpec, TensorSpec } from '../contract.ts';
import { routingFromGolden, routingGoldenMeta } from './moe-golden.ts';
import {
  FILL_BYTES_PER_WORKGROUP,
  FILL_WORKGROUPS,
  RouterParams,
  MAX_TOPK,
  MAX_GROUPS,
  checkGrid,
  checkRouting,
  checkVec4,
  checkWorkgroup,
  gateOptions,
  routingComparison,
  routingInputs,
  routingSchema,
  type RoutingConfig,
  type Stage,
} from './moe-config.ts';

/**
 * select_main: one invocation per token, SEL_WG tokens per workgroup. Its work per token is serial (E
 * experts, twice), so small workgroups spread a decode batch: 64 tokens in 4 workgroups, not 1.
 */
const SEL_WG = 16;
const SELECT_CONSTANTS = { SEL_WG, MAX_K: MAX_TOPK, MAX_G: MAX_GROUPS };

/**
 * The prefill logits GEMM on the quad core, W_g as [E, dim] (B as [N, K]): 64 tokens x 64 experts per
 * workgroup on CPU emulation (16 x 16 per quad), 32 x 32 on a GPU (8 x 8 per quad).
 */
const logitsGemm = (caps: DeviceCaps & { adapter?: AdapterSummary }, subgroups = caps.features.subgroups) => gemmQuadCore(gemmQuadTile(caps, true, subgroups));

const ROUTER_BINDINGS = {
  params: uniform(RouterParams),
  x: storage('vec4<f32>'),
  gate_weight: storage('vec4<f32>'),
  gate_bias: storage('f32'),
  logits: storage('f32', 'read_write'),
  weights: storage('f32', 'read_write'),
  indices: storage('i32', 'read_write'),
};

const GEMV_BINDINGS = {
  params: uniform(RouterParams),
  x: storage('vec4<f32>'),
  gate_weight: storage('vec4<f32>'),
  logits: storage('f32', 'read_write'),
};

export function routerInputs(c: RoutingConfig): TensorSpec[] {
  return [
    { name: 'x', shape: [c.N, c.dim], dtype: 'f32' },
    { name: 'gate_weight', shape: [c.E, c.dim], dtype: 'f32' },
    ...(c.bias ? [{ name: 'gate_bias', shape: [c.E], dtype: 'f32' as const }] : []),
  ];
}

export function routerOutputs(c: RoutingConfig): OutputSpec[] {
  return [
    { name: 'weights', shape: [c.N, c.topk], dtype: 'f32', compare: routingComparison(c.topk) },
    { name: 'indices', shape: [c.N, c.topk], dtype: 'i32', compare: { kind: 'row-sets', cols: c.topk } },
  ];
}

export function routerCost(c: RoutingConfig) {
  return {
    // logits matmul; the selection is O(E * topk) compares per token and left out
    flops: 2 * c.N * c.E * c.dim,
    bytes: 4 * (c.N * c.dim + c.E * c.dim + (c.bias ? c.E : 0) + 2 * c.N * c.topk),
  };
}

export interface RouterBuffers {
  x: GPUBuffer;
  gate_weight: GPUBuffer;
  /** Absent without a bias: a 4-byte placeholder is bound (the shader never reads it). */
  gate_bias?: GPUBuffer;
  weights: GPUBuffer;
  indices: GPUBuffer;
}

/** Tokens per logits_gemv tile (MT in shaders/moe/router-gemv.wgsl). */
const GEMV_TOKENS = 8;

/**
 * Gates of at most this dim skip the logits pass (select_main computes each logit, <= 4 vec4 loads of a
 * gate row every token shares, instead of a matmul writing [N, E] and the selection reading it back).
 */
export const FUSED_MAX_DIM = 16;

/** Invocations of a GEMV quad (L in router-gemv.wgsl): WebGPU's smallest subgroup. */
export const ROUTER_GEMV_LANES = 4;

/** Expert rows per GEMV quad (QR in router-gemv.wgsl: the components of its vec4 accumulators). */
export const ROUTER_GEMV_QUAD_ROWS = 8;

export interface RouterPlan {
  /** no logits pass: select_main computes each logit from a gate of <= FUSED_MAX_DIM */
  fused: boolean;
  /** the decode GEMV (router-gemv.wgsl) or the tiled matmul (logits_main, whose grid the device's tile sets) */
  gemv: boolean;
  /** GEMV threads per workgroup (WG / 4 quads of ROUTER_GEMV_QUAD_ROWS expert rows) */
  wg: number;
  /** dim slices of the partial logits */
  splits: number;
  /** the GEMV's grid: [token tiles, expert blocks, dim slices] ([0, 0, 0] otherwise) */
  logitGrid: [number, number, number];
  logitBytes: number;
  /** gate bytes one GEMV workgroup streams (0 for the tiled matmul) */
  bytesPerWorkgroup: number;
}

/**
 * Up to 64 tokens the gate is streamed by a GEMV (a tiled matmul would launch ceil(E / 64) workgroups).
 * The launch must fill a GPU (>= FILL_WORKGROUPS workgroups or <= FILL_BYTES_PER_WORKGROUP of gate per
 * workgroup): the largest workgroup (fewest, least set-up) that gets there with at most 16 slices of dim
 * (each slice is one more partial logit per expert for select_main to add), each lane walking >= 16 vec4s.
 */
export function routerPlan(c: RoutingConfig, knobs: RouterKnobs = {}): RouterPlan {
  const fused = knobs.fused ?? (knobs.gemv === undefined && c.dim <= FUSED_MAX_DIM);
  if (fused) return { fused, gemv: false, wg: 0, splits: 1, logitGrid: [0, 0, 0], logitBytes: 4, bytesPerWorkgroup: 0 };
  const gemv = knobs.gemv ?? c.N <= 64;
  if (!gemv) {
    return { fused, gemv, wg: 0, splits: 1, logitGrid: [0, 0, 0], logitBytes: c.N * c.E * 4, bytesPerWorkgroup: 0 };
  }
  const tiles = Math.ceil(c.N / GEMV_TOKENS);
  const k4 = c.dim / 4;
  const maxSplits = Math.max(1, Math.min(16, Math.floor(k4 / (16 * ROUTER_GEMV_LANES))));
  const option = (wg: number, splits: number) => {
    const rows = (wg / ROUTER_GEMV_LANES) * ROUTER_GEMV_QUAD_ROWS;
    const blocks = Math.ceil(c.E / rows);
    const bytes = rows * Math.ceil(k4 / splits) * 16;
    return { wg, splits, blocks, bytes, fills: tiles * blocks * splits >= FILL_WORKGROUPS || bytes <= FILL_BYTES_PER_WORKGROUP };
  };
  let pick = option(16, maxSplits);
  search: for (const wg of [256, 128, 64, 32, 16]) {
    for (let splits = 1; splits <= maxSplits; splits++) {
      const o = option(wg, splits);
      if (o.fills) {
        pick = o;
        break search;
      }
    }
  }
  return { fused, gemv, wg: pick.wg, splits: pick.splits, logitGrid: [tiles, pick.blocks, pick.splits], logitBytes: pick.splits * c.N * c.E * 4, bytesPerWorkgroup: pick.bytes };
}

/** The scratch buffers the router stage owns (at its default logits path). */
export function routerScratch(c: RoutingConfig): { name: string; bytes: number }[] {
  return planScratch(routerStagePlan(c, routerPlan(c)));
}

/** Internal knobs (tests reach every path with them). */
export interface RouterKnobs {
  gemv?: boolean;
  /** true: no logits pass (any dim); false: never (default: dim <= FUSED_MAX_DIM, unless gemv is forced) */
  fused?: boolean;
  /** false forces lane_sum's workgroup-memory variant */
  subgroups?: boolean;
}

/** The buffers the router stage owns: logits (partial per dim slice at decode), a stand-in for an absent bias, its parameters. */
function routerStagePlan(c: RoutingConfig, plan: RouterPlan): BufferPlan {
  const { score_func, routing, ...sizes } = gateOptions(c);
  return {
    logits: planned('scratch', plan.logitBytes),
    ...(c.bias ? {} : { no_bias: planned('scratch', 4) }),
    params: plannedUniform(RouterParams, {
      ...sizes,
      group_size: c.E / c.n_groups,
      sigmoid: score_func === 'sigmoid' ? 1 : 0,
      mixtral: routing === 'mixtral' ? 1 : 0,
      has_bias: c.bias ? 1 : 0,
      splits: plan.splits,
    }),
  };
}

/** The router's two passes (one for a fused gate) on caller-owned tensors; owns its logits scratch and parameters. */
export async function createRouterStage(ctx: GpuContext, c: RoutingConfig, t: RouterBuffers, knobs: RouterKnobs = {}): Promise<Stage> {
  const plan = routerPlan(c, knobs);
  const subgroups = ctx.features.subgroups && knobs.subgroups !== false;
  const core = logitsGemm(ctx, subgroups);
  const kernel = await createKernel(
    ctx,
    {
      label: 'moe.router',
      wgsl: `${wgsl}\n${core.laneSum}`,
      enable: core.enable,
      bindings: ROUTER_BINDINGS,
      constants: { ...core.constants, ...SELECT_CONSTANTS, FUSED_K4: plan.fused ? c.dim / 4 : 0 },
      workgroup: core.workgroup,
    },
    ['logits_main', 'select_main'] as const,
  );
  const gemv = plan.gemv
    ? await createKernel(
        ctx,
        {
          label: 'moe.router gemv',
          wgsl: [gemvWgsl, laneSumSource(subgroups, plan.wg).wgsl].join('\n'),
          bindings: GEMV_BINDINGS,
          constants: { WG: plan.wg, QR: ROUTER_GEMV_QUAD_ROWS, L: ROUTER_GEMV_LANES, MT: GEMV_TOKENS },
          workgroup: laneSumSource(subgroups, plan.wg).workgroup,
          enable: laneSumSource(subgroups, plan.wg).enable,
        },
        ['logits_gemv'] as const,
      )
    : undefined;
  const made = allocate(ctx, 'moe.router', routerStagePlan(c, plan));
  const m: Readonly<Record<string, GPUBuffer>> = made.buffers;
  const logits = m.logits!;
  // After the GEMV, select_main (the one pipeline of this group that runs) reads the logits and the bias,
  // never x or the gate: the dispatch geometry is told so.
  const group = kernel.bind(
    { params: m.params!, x: t.x, gate_weight: t.gate_weight, gate_bias: t.gate_bias ?? m.no_bias!, logits, weights: t.weights, indices: t.indices },
    undefined,
    plan.gemv ? { x: 0, gate_weight: 0 } : undefined,
  );
  const gemvGroup = gemv?.bind({ params: m.params!, x: t.x, gate_weight: t.gate_weight, logits }, 'moe.router gemv');
  const logitGrid: [number, number, number] = plan.gemv ? plan.logitGrid : [...core.grid(c.N, c.E), 1];
  const selectGrid = grid(Math.ceil(c.N / SEL_WG), ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    name: 'router',
    encode(pass) {
      if (gemv && gemvGroup) {
        pass.setBindGroup(0, gemvGroup);
        pass.setPipeline(gemv.pipelines.logits_gemv);
        pass.dispatchWorkgroups(...plan.logitGrid);
      } else if (!plan.fused) {
        pass.setBindGroup(0, group);
        pass.setPipeline(kernel.pipelines.logits_main);
        pass.dispatchWorkgroups(...logitGrid);
      }
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.select_main);
      pass.dispatchWorkgroups(...selectGrid);
    },
    destroy: made.destroy,
  };
}

/** moe.router's instance with the internal knobs set (tests force the logits path and row_sum variant). */
export function createRouter(ctx: GpuContext, c: RoutingConfig, knobs: RouterKnobs = {}) {
  return instanceOfStage(ctx, [...routerInputs(c), ...routerOutputs(c)], (t) =>
    createRouterStage(ctx, c, { x: t.x!, gate_weight: t.gate_weight!, gate_bias: t.gate_bias, weights: t.weights!, indices: t.indices! }, knobs),
  );
}

export function checkRouter(c: RoutingConfig, caps: DeviceCaps & { adapter?: AdapterSummary }) {
  return [
    ...checkRouting(c),
    ...checkVec4('dim', c.dim),
    ...checkWorkgroup(caps),
    ...checkGrid('N', logitsGemm(caps).grid(c.N, c.E)[1], caps),
  ];
}

export const moeRouter: KernelDefinition<RoutingConfig> = {
  id: 'moe.router',
  family: 'moe',
  title: 'MoE router (DeepSeek-V3 gate: sigmoid + bias, group-limited top-k)',
  explain:
    'Scores every expert for every token (x W_g^T: a tiled matmul, or at decode a GEMV split over dim), then one invocation per token picks its experts: ' +
    'DeepSeek-V3 adds a per-expert bias to the scores for the choice only (auxiliary-loss-free balancing) and first keeps the best ' +
    'topk_groups of n_groups expert groups (max score, or top-2 sum with the bias), so a token touches few devices; the top-k is ' +
    'an insertion into a sorted list in registers (without a bias the logit ranks like the score, so no exp per expert). Weights come from the unbiased scores (sigmoid: renormalised), times route_scale. ' +
    'The Mixtral variant takes the top-k of the logits and softmaxes over the selected.',
  sources: [
    'DeepSeek-V3 Technical Report (arXiv:2412.19437), sec. 2.1.2 and inference/model.py class Gate',
    'Mixtral of Experts (arXiv:2401.04088), eq. 1-2',
  ],
  implements: 'moe.gate',
  schema: routingSchema,
  check: checkRouter,
  inputs: routerInputs,
  outputs: routerOutputs,
  scratch: routerScratch,
  cost: routerCost,
  randomInputs: routingInputs,
  reference(inputs, c) {
    const r = gateReference(inputs.x!, inputs.gate_weight!, c.bias ? inputs.gate_bias : undefined, gateOptions(c));
    return { weights: r.weights, indices: r.indices };
  },
  fromGolden: routingFromGolden,
  goldenMeta: routingGoldenMeta,
  create: (ctx, c) => createRouter(ctx, c),
  benchmarks: [
    { name: 'prefill scaled N=1024 dim=256 E=256 top-8 groups 8/4', config: { N: 1024, dim: 256, E: 256, topk: 8, n_groups: 8, topk_groups: 4 } },
    { name: 'decode scaled N=1 dim=256 E=256 top-8 groups 8/4', config: { N: 1, dim: 256, E: 256, topk: 8, n_groups: 8, topk_groups: 4 } },
    { name: 'decode scaled N=64 dim=256 E=256 top-8 groups 8/4', config: { N: 64, dim: 256, E: 256, topk: 8, n_groups: 8, topk_groups: 4 } },
    { name: 'decode scaled N=64 dim=256 E=384 top-8 (Kimi K2 routing)', config: { N: 64, dim: 256, E: 384, topk: 8, n_groups: 1, topk_groups: 1, route_scale: 2.827 } },
  ],
  testCases: [
    { name: 'V3 style: sigmoid + bias, 8 groups of 5 (E = 40, not a multiple of 32)', config: { N: 13, dim: 36, E: 40, topk: 4, n_groups: 8, topk_groups: 3 } },
    { name: 'softmax, no groups, topk = 1, odd E', config: { N: 17, dim: 20, E: 23, topk: 1, n_groups: 1, topk_groups: 1, score_func: 'softmax', bias: false, route_scale: 1 } },
    { name: 'softmax group max, topk = E / n_groups', config: { N: 11, dim: 28, E: 48, topk: 8, n_groups: 6, topk_groups: 2, score_func: 'softmax', bias: false, route_scale: 1 } },
    { name: 'sigmoid + bias, topk = topk_groups * E / n_groups', config: { N: 9, dim: 16, E: 24, topk: 12, n_groups: 4, topk_groups: 2 } },
    { name: 'sigmoid without bias, groups', config: { N: 10, dim: 12, E: 60, topk: 6, n_groups: 5, topk_groups: 2, bias: false, route_scale: 1.5 } },
    { name: 'Mixtral 8 experts top-2', config: { N: 19, dim: 44, E: 8, topk: 2, n_groups: 1, topk_groups: 1, routing: 'mixtral', bias: false, route_scale: 1 } },
    { name: 'Kimi K2 style E = 384 flat sigmoid + bias', config: { N: 5, dim: 32, E: 384, topk: 8, n_groups: 1, topk_groups: 1, route_scale: 2.827 } },
    { name: 'decode N = 1, E = 256, groups 8/4', config: { N: 1, dim: 24, E: 256, topk: 8, n_groups: 8, topk_groups: 4 } },
    { name: 'N = 70 spans several token tiles', config: { N: 70, dim: 8, E: 33, topk: 3, n_groups: 3, topk_groups: 2 } },
    { name: 'decode N = 3, dim = 520: the logits GEMV in slices of dim', config: { N: 3, dim: 520, E: 40, topk: 4, n_groups: 8, topk_groups: 3 } },
    { name: 'N = 61: 8 GEMV token tiles, the last one of 5', config: { N: 61, dim: 44, E: 24, topk: 3, n_groups: 4, topk_groups: 2 } },
    { name: 'N = 300, dim = 4: logits fused into the selection, flat sigmoid top-8 of 256', config: { N: 300, dim: 4, E: 256, topk: 8, n_groups: 1, topk_groups: 1, bias: false, route_scale: 1 } },
  ],
};
