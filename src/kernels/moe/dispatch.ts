// moe.dispatch: host side of shaders/moe/dispatch.wgsl (histogram, scan, permute, inverse map, capacity).
import { instanceOfStage } from '../stage-instance.ts';
import wgsl from '../../../shaders/moe/dispatch.wgsl?raw';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { allocate, planned, planScratch, plannedUniform } from '../common/buffer-plan.ts';
import { dispatchReference, expertCapacity } from '../../reference/moe.ts';
import type { ConfigOf, ConfigSchema, KernelDefinition, OutputSpec, TensorSpec, ValidationIssue } from '../contract.ts';
import { DispatchParams, MAX_EXPERTS, WG, checkWorkgroup, pickSchema, skewedIndices, type Stage } from './moe-config.ts';

/** Tokens per rank block (TB), bitmap words per token (E <= 32 * MAX_WORDS = MAX_EXPERTS). */
const TB = 64;
const CONSTANTS = { WG, TB, MAX_WORDS: Math.ceil(MAX_EXPERTS / 32) };

const BINDINGS = {
  params: uniform(DispatchParams),
  indices: storage('i32'),
  counts: storage('i32', 'read_write'),
  offsets: storage('i32', 'read_write'),
  sorted_tokens: storage('i32', 'read_write'),
  slot_of: storage('i32', 'read_write'),
  dropped: storage('i32', 'read_write'),
  block_base: storage('u32', 'read_write'),
};

export const capacityField = {
  type: 'number',
  label: 'capacity factor',
  doc: 'each expert takes at most ceil(factor * N * topk / E) token copies, first come by token index (GShard/Switch); 0 = unlimited',
  default: 0,
  min: 0,
  max: 1024,
} as const;

export const dispatchSchema = {
  ...pickSchema(['N', 'E', 'topk'] as const),
  capacity_factor: capacityField,
} satisfies ConfigSchema;

export type DispatchConfig = ConfigOf<typeof dispatchSchema>;

export function dispatchOutputs(c: { N: number; E: number; topk: number }): OutputSpec[] {
  return [
    { name: 'counts', shape: [c.E], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'offsets', shape: [c.E + 1], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'sorted_tokens', shape: [c.N * c.topk], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'slot_of', shape: [c.N, c.topk], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'dropped', shape: [1], dtype: 'i32', compare: { kind: 'exact' } },
  ];
}

export function dispatchBlocks(N: number): number {
  return Math.ceil(N / TB);
}

export function checkDispatch(c: DispatchConfig, caps: DeviceCaps): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (c.topk > c.E) issues.push({ field: 'topk', message: `${c.topk} is more than the E = ${c.E} experts` });
  if (c.E > MAX_EXPERTS) issues.push({ field: 'E', message: `${c.E} is above the ${MAX_EXPERTS} experts a dispatch block's bitmap holds` });
  return [...issues, ...checkWorkgroup(caps)];
}

export function dispatchCost(c: DispatchConfig) {
  // indices read twice (rank and scatter passes), outputs written once; integer work only.
  const copies = c.N * c.topk;
  return { flops: 0, bytes: 4 * (2 * copies + 2 * c.E + 1 + 2 * copies + 1), intermediateBytes: 4 * copies };
}

export type DispatchBuffers = Record<'indices' | 'counts' | 'offsets' | 'sorted_tokens' | 'slot_of' | 'dropped', GPUBuffer>;

/** What the dispatch stage owns besides its tensors. */
export function dispatchPlan(c: DispatchConfig) {
  const blocks = dispatchBlocks(c.N);
  return {
    block_base: planned('scratch', blocks * c.E * 4),
    params: plannedUniform(DispatchParams, {
      N: c.N,
      topk: c.topk,
      E: c.E,
      blocks,
      capacity: expertCapacity(c.capacity_factor, c.N, c.topk, c.E),
      words: Math.ceil(c.E / 32),
    }),
  };
}

export async function createDispatchStage(ctx: GpuContext, c: DispatchConfig, t: DispatchBuffers): Promise<Stage> {
  const kernel = await createKernel(ctx, { label: 'moe.dispatch', wgsl, bindings: BINDINGS, constants: CONSTANTS }, ['rank_main', 'scan_main', 'scatter_main'] as const);
  const pipelines = kernel.pipelines;
  const blocks = dispatchBlocks(c.N);
  const made = allocate(ctx, 'moe.dispatch', dispatchPlan(c));
  const group = kernel.bind({ ...t, ...made.buffers });
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const rankGrid = grid(blocks, maxDim);
  const scatterGrid = grid(Math.ceil((c.N * c.topk) / WG), maxDim);
  return {
    name: 'dispatch',
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipelines.rank_main);
      pass.dispatchWorkgroups(...rankGrid);
      pass.setPipeline(pipelines.scan_main);
      pass.dispatchWorkgroups(1);
      pass.setPipeline(pipelines.scatter_main);
      pass.dispatchWorkgroups(...scatterGrid);
    },
    destroy: made.destroy,
  };
}

export function dispatchInputs(c: DispatchConfig): TensorSpec[] {
  return [{ name: 'indices', shape: [c.N, c.topk], dtype: 'i32' }];
}

export const moeDispatch: KernelDefinition<DispatchConfig> = {
  id: 'moe.dispatch',
  family: 'moe',
  title: 'MoE dispatch (histogram, scan, permute, capacity)',
  explain:
    'Groups the N*topk token copies by expert so each expert sees one contiguous block of rows: a per-block histogram built from ' +
    'a token x expert bitmap in workgroup memory (atomicOr), an exclusive prefix sum over blocks and experts, and a scatter that writes ' +
    'the permutation (sorted_tokens) and its inverse (slot_of) used by the combine. The sort is stable, so with a capacity factor ' +
    'each expert keeps its first ceil(factor*N*topk/E) tokens by index (Switch/GShard) and the drops are counted, identically run to run.',
  sources: [
    'Lepikhin et al. 2020, "GShard" (arXiv:2006.16668), sec. 2.2 expert capacity',
    'Fedus et al. 2021, "Switch Transformers" (arXiv:2101.03961), sec. 2.2',
    'Gale et al. 2022, "MegaBlocks" (arXiv:2211.15841): permute into expert-contiguous rows',
  ],
  schema: dispatchSchema,
  check: checkDispatch,
  inputs: dispatchInputs,
  outputs: dispatchOutputs,
  scratch: (c) => planScratch(dispatchPlan(c)),
  cost: dispatchCost,
  randomInputs: (c, rng) => ({ indices: skewedIndices(rng, c.N, c.topk, c.E) }),
  reference(inputs, c) {
    return { ...dispatchReference(inputs.indices!, c.N, c.topk, c.E, expertCapacity(c.capacity_factor, c.N, c.topk, c.E)) };
  },
  create: (ctx, c) => instanceOfStage(ctx, [...dispatchInputs(c), ...dispatchOutputs(c)], (t) => createDispatchStage(ctx, c, { indices: t.indices!, counts: t.counts!, offsets: t.offsets!, sorted_tokens: t.sorted_tokens!, slot_of: t.slot_of!, dropped: t.dropped! })),
  benchmarks: [
    { name: 'prefill scaled N=4096 E=256 top-8', config: { N: 4096, E: 256, topk: 8 } },
    { name: 'prefill scaled N=4096 E=256 top-8 capacity 1.25', config: { N: 4096, E: 256, topk: 8, capacity_factor: 1.25 } },
    { name: 'decode scaled N=1 E=256 top-8', config: { N: 1, E: 256, topk: 8 } },
    { name: 'decode scaled N=64 E=256 top-8', config: { N: 64, E: 256, topk: 8 } },
  ],
  testCases: [
    { name: 'odd sizes, no capacity limit', config: { N: 37, E: 13, topk: 3 } },
    { name: 'capacity 1.0 on a skewed stream (drops)', config: { N: 100, E: 10, topk: 2, capacity_factor: 1 } },
    { name: 'tight capacity 0.3', config: { N: 65, E: 7, topk: 4, capacity_factor: 0.3 } },
    { name: 'decode N = 1, E = 256, top-8', config: { N: 1, E: 256, topk: 8 } },
    { name: 'several blocks, E = 300 (10 bitmap words), top-8', config: { N: 129, E: 300, topk: 8 } },
    { name: 'topk = E (every expert)', config: { N: 5, E: 6, topk: 6 } },
    { name: 'topk = 1, E = 1', config: { N: 33, E: 1, topk: 1 } },
  ],
};
