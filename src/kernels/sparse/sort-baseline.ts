// sparse.sort_baseline: host side of shaders/sparse/sort-baseline.wgsl, the full bitonic sort that
// sparse.topk is measured against (same rows, same tie rule, results in score order).
import sortWgsl from '../../../shaders/sparse/sort-baseline.wgsl?raw';
import * as d from 'typegpu/data';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray, workgroupBytes } from '../../gpu/wgsl-declarations.ts';
import type { ConfigOf, ConfigSchema, KernelDefinition } from '../contract.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform, type PlannedBuffer } from '../common/buffer-plan.ts';
import { fitWorkgroupMemory } from '../common/rules.ts';
import { causalRowLength, topkReference } from '../../reference/sparse.ts';
import { randomNormal } from '../random.ts';
import { checkTopK, selectionCost, topkSchema } from './topk.ts';
import { WG } from './sparse-config.ts';


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

/** Pairs sorted in workgroup memory at once: up to 2048 (16 KiB, the workgroup memory every WebGPU device has). */
function blockPairs(P: number): number {
  return Math.min(P, 2048);
}

const BINDINGS = {
  params: uniform(SortParams),
  scores: storage('f32'),
  out_idx: storage('i32', 'read_write'),
  out_val: storage('f32', 'read_write'),
  pairs: storage('vec2<u32>', 'read_write'),
};

const blockWorkgroup = (L: number) => ({ block: workgroupArray('vec2<u32>', L) });

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

const schema = {
  rows: topkSchema.rows,
  S: topkSchema.S,
  k: topkSchema.k,
  causal: topkSchema.causal,
} satisfies ConfigSchema;

export type SortBaselineConfig = ConfigOf<typeof schema>;

function inputs(c: SortBaselineConfig) {
  return [{ name: 'scores', shape: [c.rows, c.S], dtype: 'f32' as const }];
}

function outputs(c: SortBaselineConfig) {
  return [
    { name: 'indices', shape: [c.rows, c.k], dtype: 'i32' as const, compare: { kind: 'exact' as const } },
    { name: 'values', shape: [c.rows, c.k], dtype: 'f32' as const },
  ];
}

/** Every buffer an instance owns: the tensors, the sort pairs, and one small parameter buffer per dispatch (each reads its own stage). */
function buffers(c: SortBaselineConfig) {
  const P = paddedLength(c.S);
  const steps = bitonicSchedule(P, blockPairs(P));
  const params = steps.map((s, i) => ({
    name: `params ${i} ${s.entry} k=${s.k} j=${s.j}`,
    buffer: plannedUniform(SortParams, { rows: c.rows, cols: c.S, P, k: c.k, causal: c.causal ? 1 : 0, stage_k: s.k, stage_j: s.j, write_values: 1 }),
  }));
  const plan: Record<string, PlannedBuffer> = {
    ...plannedTensors(inputs(c), outputs(c), ['scores', 'indices', 'values']),
    pairs: planned('scratch', c.rows * P * PAIR),
    ...Object.fromEntries(params.map((p) => [p.name, p.buffer])),
  };
  return { steps: steps.map((s, i) => ({ ...s, params: params[i]!.name })), plan };
}

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
  check: (c, caps) => [
    ...checkTopK({ rows: c.rows, cols: c.S, k: c.k, causal: c.causal, split: 0 }),
    ...fitWorkgroupMemory('S', workgroupBytes(blockWorkgroup(blockPairs(paddedLength(c.S)))), 'a sort block', caps),
  ],
  inputs,
  outputs,
  plan: (c) => buffers(c).plan,
  scratch: (c) => planScratch(buffers(c).plan),
  cost: selectionCost,
  randomInputs: (c, rng) => ({ scores: randomNormal(rng, [c.rows, c.S]) }),
  reference(inputs, c) {
    const { indices, values } = topkReference(inputs.scores!, c.rows, c.S, c.k, 'score', c.causal ? causalRowLength(c.rows, c.S) : undefined);
    return { indices, values };
  },
  async create(ctx, c) {
    const P = paddedLength(c.S);
    const L = blockPairs(P);
    const kernel = await createKernel(
      ctx,
      { label: 'sparse.sort_baseline', wgsl: sortWgsl, bindings: BINDINGS, constants: { WG, L }, workgroup: blockWorkgroup(L) },
      ['local_sort_main', 'local_merge_main', 'global_step_main', 'emit_main'] as const,
    );
    const { steps, plan } = buffers(c);
    const made = allocate(ctx, 'sparse.sort_baseline', plan);
    const [scores, indices, values, pairs] = (['scores', 'indices', 'values', 'pairs'] as const).map((name) => made.buffers[name]!);
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const blockGrid = grid(c.rows * (P / L), maxDim);
    const recorded = steps.map((s) => {
      const groups =
        s.entry === 'global_step_main'
          ? grid(Math.ceil((c.rows * P) / 2 / WG), maxDim)
          : s.entry === 'emit_main'
            ? grid(Math.ceil((c.rows * c.k) / WG), maxDim)
            : blockGrid;
      const group = kernel.bind({ params: made.buffers[s.params]!, scores: scores!, out_idx: indices!, out_val: values!, pairs: pairs! });
      return { pipeline: kernel.pipelines[s.entry], group, groups };
    });
    return {
      tensors: made.tensors,
      encode(pass) {
        for (const s of recorded) {
          pass.setBindGroup(0, s.group);
          pass.setPipeline(s.pipeline);
          pass.dispatchWorkgroups(...s.groups);
        }
      },
      destroy: made.destroy,
    };
  },
  benchmarks: [{ name: 'decode row S=32768 k=2048 (compare sparse.topk)', config: { rows: 1, S: 32768, k: 2048 } }],
  testCases: [
    { name: 'one block, odd length', config: { rows: 3, S: 301, k: 20 } },
    { name: 'global stages (P = 8192), k = 1', config: { rows: 1, S: 5000, k: 1 } },
    { name: 'global stages, k > S pads -1, causal rows', config: { rows: 3, S: 2100, k: 2200, causal: true } },
  ],
};
