// sparse.sort_baseline: host side of shaders/sparse/sort-baseline.wgsl, the full bitonic sort that
// sparse.topk is measured against (same rows, same tie rule, results in score order).
import orderKeyWgsl from '../../../shaders/sparse/order-key.wgsl?raw';
import sortWgsl from '../../../shaders/sparse/sort-baseline.wgsl?raw';
import * as d from 'typegpu/data';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { ConfigSchema, KernelDefinition } from '../contract.ts';
import { causalRowLength, topkReference } from '../../reference/sparse.ts';
import { randomNormal } from '../random.ts';
import { checkTopK, selectionCost, topkSchema } from './topk.ts';
import { WG } from './sparse-config.ts';

export type SortBaselineConfig = { rows: number; S: number; k: number; causal: boolean };

export const SortParams = d
  .struct({
    rows: d.u32,
    cols: d.u32,
    /** Row length padded to a power of two. */
    P: d.u32,
    k: d.u32,
    causal: d.u32,
    /** The bitonic stage (run size) and partner distance of this dispatch. */
    stage_k: d.u32,
    stage_j: d.u32,
    write_values: d.u32,
  })
  .$name('SortParams');

/** Bytes of one (key, index) pair. */
const PAIR = 8;

export function paddedLength(S: number): number {
  return Math.max(2, 2 ** Math.ceil(Math.log2(S)));
}

/** Pairs sorted in workgroup memory at once: up to 2048, a power of two that fits the device. */
function blockPairs(P: number, workgroupBytes: number): number {
  return Math.min(P, 2048, 2 ** Math.floor(Math.log2(workgroupBytes / PAIR)));
}

type Step = { entry: 'local_sort_main' | 'local_merge_main' | 'global_step_main' | 'emit_main'; k: number; j: number };

/** The dispatch schedule of a bitonic sort of P pairs with blocks of L: wide partner distances go global. */
export function bitonicSchedule(P: number, L: number): Step[] {
  const steps: Step[] = [{ entry: 'local_sort_main', k: L, j: 1 }];
  for (let k = 2 * L; k <= P; k *= 2) {
    for (let j = k / 2; j >= L; j /= 2) steps.push({ entry: 'global_step_main', k, j });
    steps.push({ entry: 'local_merge_main', k, j: L / 2 });
  }
  steps.push({ entry: 'emit_main', k: P, j: 1 });
  return steps;
}

const schema: ConfigSchema<SortBaselineConfig> = {
  rows: topkSchema.rows,
  S: topkSchema.S,
  k: topkSchema.k,
  causal: topkSchema.causal,
};

export const sortBaseline: KernelDefinition<SortBaselineConfig> = {
  id: 'sparse.sort_baseline',
  family: 'sparse',
  title: 'Top-k by full bitonic sort (baseline)',
  explain:
    'What a top-k costs without a selection algorithm: every row is padded to a power of two P and sorted completely by a bitonic network ' +
    '(key descending, index ascending: the same deterministic tie rule as sparse.topk), then the first k entries are kept. ' +
    'That is P log2(P) (log2(P) + 1) / 4 compare-exchanges and log2(P)^2 / 2 passes, most of them in workgroup memory, against the radix ' +
    "select's few streaming passes: the bench runs both on the same rows.",
  sources: ['Batcher 1968, "Sorting networks and their applications" (bitonic sort)'],
  schema,
  check: (c) => checkTopK({ rows: c.rows, cols: c.S, k: c.k, causal: c.causal, split: 0 }),
  inputs: (c) => [{ name: 'scores', shape: [c.rows, c.S], dtype: 'f32' }],
  outputs: (c) => [
    { name: 'indices', shape: [c.rows, c.k], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'values', shape: [c.rows, c.k], dtype: 'f32' },
  ],
  scratch: (c) => [{ name: 'sort pairs', bytes: c.rows * paddedLength(c.S) * PAIR }],
  cost: selectionCost,
  randomInputs: (c, rng) => ({ scores: randomNormal(rng, [c.rows, c.S]) }),
  reference(inputs, c) {
    const { indices, values } = topkReference(inputs.scores!, c.rows, c.S, c.k, 'score', c.causal ? causalRowLength(c.rows, c.S) : undefined);
    return { indices, values };
  },
  async create(ctx, c) {
    const P = paddedLength(c.S);
    const L = blockPairs(P, ctx.limits.maxComputeWorkgroupStorageSize);
    const { layout, pipelines } = await kernelPipelines(
      ctx,
      { label: 'sparse.sort_baseline', wgsl: orderKeyWgsl + sortWgsl, structs: { SortParams } },
      ['uniform', 'read', 'rw', 'rw', 'rw'],
      ['local_sort_main', 'local_merge_main', 'global_step_main', 'emit_main'] as const,
      { L },
    );
    const b = ctx.buffers;
    const tensors = {
      scores: b.storage('scores', 4 * c.rows * c.S),
      indices: b.storage('indices', 4 * c.rows * c.k),
      values: b.storage('values', 4 * c.rows * c.k),
    };
    const pairs = b.storage('sort pairs', c.rows * P * PAIR);
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const blockGrid = grid(c.rows * (P / L), maxDim);
    const steps = bitonicSchedule(P, L).map((s) => {
      // Each dispatch reads its own stage from its own small uniform buffer.
      const params = uniformBuffer(ctx, `sparse.sort_baseline ${s.entry} k=${s.k} j=${s.j}`, SortParams, {
        rows: c.rows,
        cols: c.S,
        P,
        k: c.k,
        causal: c.causal ? 1 : 0,
        stage_k: s.k,
        stage_j: s.j,
        write_values: 1,
      });
      const groups =
        s.entry === 'global_step_main'
          ? grid(Math.ceil((c.rows * P) / 2 / WG), maxDim)
          : s.entry === 'emit_main'
            ? grid(Math.ceil((c.rows * c.k) / WG), maxDim)
            : blockGrid;
      return { params, pipeline: pipelines[s.entry], group: bindGroup(ctx, layout, [params, tensors.scores, tensors.indices, tensors.values, pairs]), groups };
    });
    return {
      tensors,
      encode(pass) {
        for (const s of steps) {
          pass.setBindGroup(0, s.group);
          pass.setPipeline(s.pipeline);
          pass.dispatchWorkgroups(...s.groups);
        }
      },
      destroy() {
        for (const s of steps) b.destroy(s.params);
        for (const buf of [...Object.values(tensors), pairs]) b.destroy(buf);
      },
    };
  },
  benchmarks: [{ name: 'decode row S=32768 k=2048 (compare sparse.topk)', config: { rows: 1, S: 32768, k: 2048 } }],
  testCases: [
    { name: 'one block, odd length', config: { rows: 3, S: 301, k: 20 } },
    { name: 'global stages (P = 8192), k = 1', config: { rows: 1, S: 5000, k: 1 } },
    { name: 'global stages, k > S pads -1, causal rows', config: { rows: 3, S: 2100, k: 2200, causal: true } },
  ],
};
