// moe.combine: host side of shaders/moe/combine.wgsl (weighted un-permute + shared experts).
import { instanceOfStage } from '../stage-instance.ts';
import wgsl from '../../../shaders/moe/combine.wgsl?raw';
import type { GpuContext } from '../../gpu/context.ts';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { allocate, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { combineReference, dispatchReference, expertCapacity } from '../../reference/moe.ts';
import type { ConfigOf, ConfigSchema, Cost, KernelDefinition, OutputSpec, TensorSpec } from '../contract.ts';
import { randomNormal } from '../random.ts';
import { capacityField } from './dispatch.ts';
import { keptCopies } from './moe-cost.ts';
import { CombineParams, checkVec4, checkWorkgroup, pickSchema, skewedIndices, type Stage } from './moe-config.ts';

export const combineSchema = {
  ...pickSchema(['N', 'E', 'topk', 'dim'] as const),
  shared: { type: 'bool', label: 'shared experts', doc: 'add the shared experts\' output (computed for every token)', default: true },
  capacity_factor: capacityField,
} satisfies ConfigSchema;

export type CombineConfig = ConfigOf<typeof combineSchema>;

/** Threads per combine workgroup: 64, so decode (N = 1, dim 7168: 1792 threads) still launches 28 workgroups. */
const COMBINE_WG = 64;

const BINDINGS = {
  params: uniform(CombineParams),
  y: storage('vec4<f32>'),
  weights: storage('f32'),
  slot_of: storage('i32'),
  shared_out: storage('vec4<f32>'),
  out: storage('vec4<f32>', 'read_write'),
};

/** The tensors a combine stage reads and writes (buffers its caller owns). */
export interface CombineTensors {
  y: GPUBuffer;
  weights: GPUBuffer;
  slot_of: GPUBuffer;
  /** absent: no shared experts */
  shared_out?: GPUBuffer;
  out: GPUBuffer;
}

/** What the combine stage owns besides its tensors. */
export function combinePlan(c: { N: number; topk: number; dim: number }, shared: boolean) {
  return { params: plannedUniform(CombineParams, { N: c.N, topk: c.topk, dim4: c.dim / 4, has_shared: shared ? 1 : 0 }) };
}

export async function createCombineStage(ctx: GpuContext, c: { N: number; topk: number; dim: number }, t: CombineTensors): Promise<Stage> {
  const kernel = await createKernel(ctx, { label: 'moe.combine', wgsl, bindings: BINDINGS, constants: { WG: COMBINE_WG } }, ['combine_main'] as const);
  const made = allocate(ctx, 'moe.combine', combinePlan(c, t.shared_out !== undefined));
  // Without shared experts y stands in for the unread shared binding.
  const group = kernel.bind({ ...made.buffers, y: t.y, weights: t.weights, slot_of: t.slot_of, shared_out: t.shared_out ?? t.y, out: t.out });
  const groups = grid(Math.ceil((c.N * c.dim) / 4 / COMBINE_WG), ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    name: 'combine',
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.combine_main);
      pass.dispatchWorkgroups(...groups);
    },
    destroy: made.destroy,
  };
}

/** `kept`: copies with a slot (capacity drops have slot -1: their y row and weight are not read). */
export function combineCost(c: { N: number; topk: number; dim: number; shared: boolean }, kept = c.N * c.topk): Cost {
  const copies = c.N * c.topk;
  return {
    flops: 2 * kept * c.dim,
    bytes: 4 * (kept * c.dim + kept + copies + (c.shared ? c.N * c.dim : 0) + c.N * c.dim),
  };
}

function combineInputs(c: CombineConfig): TensorSpec[] {
  return [
    { name: 'y', shape: [c.N * c.topk, c.dim], dtype: 'f32' },
    { name: 'weights', shape: [c.N, c.topk], dtype: 'f32' },
    { name: 'slot_of', shape: [c.N, c.topk], dtype: 'i32' },
    ...(c.shared ? [{ name: 'shared_out', shape: [c.N, c.dim], dtype: 'f32' as const }] : []),
  ];
}

function combineOutputs(c: CombineConfig): OutputSpec[] {
  return [{ name: 'out', shape: [c.N, c.dim], dtype: 'f32' }];
}

export const moeCombine: KernelDefinition<CombineConfig> = {
  id: 'moe.combine',
  family: 'moe',
  title: 'MoE combine (weighted un-permute + shared experts)',
  explain:
    'Brings the expert outputs back to token order: each token gathers its topk rows through the inverse map written by the dispatch ' +
    '(slot_of), weights them by the router and adds the shared experts. A gather instead of a scatter-add needs no float atomics and ' +
    'sums in a fixed order; copies dropped by the capacity limit (slot -1) contribute nothing, as in Switch/GShard.',
  sources: ['DeepSeek-V3 inference/model.py, class MoE (y[idx] += expert(x[idx]) * weights; + shared_experts(x))', 'Gale et al. 2022, "MegaBlocks" (arXiv:2211.15841)'],
  schema: combineSchema,
  check: (c, caps) => [...checkVec4('dim', c.dim), ...checkWorkgroup(caps), ...(c.topk > c.E ? [{ field: 'topk', message: `${c.topk} is more than the E = ${c.E} experts` }] : [])],
  inputs: combineInputs,
  outputs: combineOutputs,
  cost: (c) => combineCost(c),
  runCost: (c, t) => combineCost(c, keptCopies(t.slot_of!.data)),
  randomInputs(c, rng) {
    const routed = dispatchReference(skewedIndices(rng, c.N, c.topk, c.E), c.N, c.topk, c.E, expertCapacity(c.capacity_factor, c.N, c.topk, c.E));
    const weights = randomNormal(rng, [c.N, c.topk]);
    for (let i = 0; i < weights.data.length; i++) weights.data[i] = Math.abs(weights.data[i]!) + 0.01;
    return {
      y: randomNormal(rng, [c.N * c.topk, c.dim]),
      weights,
      slot_of: routed.slot_of,
      ...(c.shared ? { shared_out: randomNormal(rng, [c.N, c.dim]) } : {}),
    };
  },
  reference(inputs, c) {
    return { out: combineReference(inputs.y!, inputs.weights!, inputs.slot_of!, c.shared ? inputs.shared_out : undefined, c) };
  },
  create: (ctx, c) =>
    instanceOfStage(ctx, plannedTensors(combineInputs(c), combineOutputs(c), c.shared ? ['y', 'weights', 'slot_of', 'shared_out', 'out'] : ['y', 'weights', 'slot_of', 'out']), (t) =>
      createCombineStage(ctx, c, { y: t.y, weights: t.weights, slot_of: t.slot_of, shared_out: c.shared ? t.shared_out : undefined, out: t.out }),
    ),
  benchmarks: [
    { name: 'prefill scaled N=4096 top-8 dim=128 + shared', config: { N: 4096, E: 64, topk: 8, dim: 128 } },
    { name: 'decode scaled N=1 top-8 dim=512 + shared', config: { N: 1, E: 64, topk: 8, dim: 512 } },
    { name: 'decode scaled N=64 top-8 dim=512 + shared', config: { N: 64, E: 64, topk: 8, dim: 512 } },
  ],
  testCases: [
    { name: 'odd sizes with shared experts', config: { N: 23, E: 9, topk: 3, dim: 20 } },
    { name: 'capacity drops (slot -1), no shared', config: { N: 40, E: 6, topk: 2, dim: 12, shared: false, capacity_factor: 0.5 } },
    { name: 'decode N = 1, top-8', config: { N: 1, E: 64, topk: 8, dim: 132 } },
  ],
};
