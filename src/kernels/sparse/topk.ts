// sparse.topk: host side of shaders/sparse/topk.wgsl. Exports the registered kernel and `createTopKStage`,
// the piece other kernels embed on buffers they plan (DSA's index scores, block select's block scores): their
// scores, indices and values plus `topkStageBuffers`.
import { instanceOfStage } from '../stage-instance.ts';
import topkWgsl from '../../../shaders/sparse/topk.wgsl?raw';
import * as d from 'typegpu/data';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { GpuContext } from '../../gpu/context.ts';
import type { BenchShape, ConfigOf, ConfigSchema, Cost, KernelDefinition, OutputSpec, ValidationIssue } from '../contract.ts';
import { planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { causalRowLength, topkReference } from '../../reference/sparse.ts';
import { sumClamped } from './sparse-config.ts';
import type { HostTensor } from '../tensor.ts';
import type { Rng } from '../random.ts';


export const TopKParams = d
  .struct({
    rows: d.u32,
    cols: d.u32,
    k: d.u32,
    causal: d.u32,
    /** Workgroups per row (1 = row mode) and elements per chunk. */
    chunks: d.u32,
    chunk_len: d.u32,
    /** 0 when the caller only needs the indices. */
    write_values: d.u32,
  })
  .$name('TopKParams');

/** Threads per workgroup, histogram bins per row (11-bit digits), elements per thread in a compaction tile, raking threads of the prefix sum. */
const WG = 256;
const BINS = 2048;
const CONSTANTS = { WG, BINS, PER: BINS / WG, ITEMS: 4, RAKE: 16 } as const;

const BINDINGS = {
  params: uniform(TopKParams),
  scores: storage('f32'),
  out_idx: storage('i32', 'read_write'),
  out_val: storage('f32', 'read_write'),
  hist_g: storage('atomic<u32>', 'read_write'),
  state: storage('vec4<u32>', 'read_write'),
  counts: storage('atomic<u32>', 'read_write'),
  list: storage('atomic<u32>', 'read_write'),
};

const WORKGROUP = {
  hist: workgroupArray('atomic<u32>', BINS),
  scan: workgroupArray('u32', WG),
  rake: workgroupArray('u32', CONSTANTS.RAKE),
  found: workgroupArray('vec4<u32>'),
  offs: workgroupArray('u32', WG),
  starts: workgroupArray('u32', WG),
  shared_u32: workgroupArray('u32'),
};
/** Elements per chunk the automatic split aims for. */
const AUTO_CHUNK = 1024;
/** Most workgroups per row in chunk mode (the finishing workgroup keeps one list offset per chunk per thread). */
export const MAX_CHUNKS = 256;

/**
 * Workgroups per row. Many rows already fill the GPU one workgroup each (row mode: no global histogram, one
 * dispatch); few long rows are cut into chunks of ~1024 so up to 256 workgroups per row run at once.
 */
export function topkChunks(rows: number, cols: number, split: number): number {
  if (split > 0) return Math.max(1, Math.min(split, cols, MAX_CHUNKS));
  if (rows >= 64) return 1;
  return Math.max(1, Math.min(Math.ceil(cols / AUTO_CHUNK), Math.ceil(256 / rows), MAX_CHUNKS));
}

/** The dispatches one run records: entry point and workgroup count, in order. */
export function topkDispatches(s: TopKShape): { entry: 'row_main' | 'chunk_hist_main' | 'chunk_finish_main'; workgroups: number }[] {
  const chunks = topkChunks(s.rows, s.cols, s.split);
  if (chunks === 1) return [{ entry: 'row_main', workgroups: s.rows }];
  return [
    { entry: 'chunk_hist_main', workgroups: s.rows * chunks },
    { entry: 'chunk_finish_main', workgroups: s.rows * chunks },
  ];
}

export interface TopKShape {
  rows: number;
  cols: number;
  k: number;
  causal: boolean;
  split: number;
}

/**
 * The stage's own buffers: its parameters and chunk mode's scratch (histograms and arrival counters, row
 * state, list lengths, candidate lists). Row mode never touches the scratch; the bindings still need a buffer
 * each. The histograms and arrival counters start at zero (WebGPU zeroes new buffers) and every run leaves
 * them zero again. `values`: whether the caller wants the values written (else its values buffer may be 4 B).
 */
export function topkStageBuffers(s: TopKShape, values: boolean) {
  const chunks = topkChunks(s.rows, s.cols, s.split);
  const rowMode = chunks === 1;
  return {
    topk_params: plannedUniform(TopKParams, {
      rows: s.rows,
      cols: s.cols,
      k: s.k,
      causal: s.causal ? 1 : 0,
      chunks,
      chunk_len: Math.ceil(s.cols / chunks),
      write_values: values ? 1 : 0,
    }),
    topk_hist: planned('scratch', rowMode ? 4 : s.rows * (BINS + 2) * 4),
    topk_state: planned('scratch', rowMode ? 16 : s.rows * 16),
    topk_counts: planned('scratch', rowMode ? 4 : s.rows * chunks * 4),
    topk_list: planned('scratch', rowMode ? 8 : s.rows * s.cols * 8),
  };
}

export function topkScratch(s: TopKShape): { name: string; bytes: number }[] {
  return planScratch(topkStageBuffers(s, false));
}

/** Cross-field rules of a top-k over [rows, cols] (shared by every kernel that embeds it). */
export function checkTopK(s: TopKShape, fields = { rows: 'rows', cols: 'S' }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (s.causal && s.cols < s.rows) issues.push({ field: fields.rows, message: `${s.rows} causal rows need at least as many columns, ${fields.cols} = ${s.cols}` });
  return issues;
}

export interface TopKStage {
  /** Workgroups per row the stage runs with. */
  chunks: number;
  encode(pass: GPUComputePassEncoder): void;
}

export type TopKStageIo = Record<'scores' | 'indices' | 'values' | keyof ReturnType<typeof topkStageBuffers>, GPUBuffer>;

/**
 * Top-k of each row of `scores` ([rows, cols] f32) into `indices` ([rows, k] i32, ascending position, -1
 * padded) and, when the stage buffers say so, `values` ([rows, k] f32, -inf padded). Every buffer is the
 * caller's; the stage owns its pipelines.
 */
export async function createTopKStage(ctx: GpuContext, s: TopKShape, io: TopKStageIo, label = 'sparse.topk'): Promise<TopKStage> {
  const chunks = topkChunks(s.rows, s.cols, s.split);
  const dispatches = topkDispatches(s);
  const kernel = await createKernel(
    ctx,
    { label, wgsl: topkWgsl, bindings: BINDINGS, constants: CONSTANTS, workgroup: WORKGROUP },
    dispatches.map((x) => x.entry),
  );
  const group = kernel.bind(
    {
      params: io.topk_params,
      scores: io.scores,
      out_idx: io.indices,
      out_val: io.values,
      hist_g: io.topk_hist,
      state: io.topk_state,
      counts: io.topk_counts,
      list: io.topk_list,
    },
    label,
  );
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const recorded = dispatches.map((x) => ({ pipeline: kernel.pipelines[x.entry], groups: grid(x.workgroups, maxDim) }));
  return {
    chunks,
    encode(pass) {
      pass.setBindGroup(0, group);
      for (const x of recorded) {
        pass.setPipeline(x.pipeline);
        pass.dispatchWorkgroups(...x.groups);
      }
    },
  };
}

export const topkSchema = {
  rows: { type: 'int', label: 'rows', doc: 'independent rows (queries for DSA, tokens for a MoE router)', default: 1, min: 1, max: 1 << 20 },
  S: { type: 'int', label: 'row length S', doc: 'entries per row (keys for DSA)', default: 32768, min: 1, max: 1 << 24, unit: 'entries' },
  k: { type: 'int', label: 'k', doc: 'entries kept per row (DeepSeek-V3.2: 2048); rows with fewer valid entries are padded with -1', default: 2048, min: 1, max: 1 << 16 },
  causal: { type: 'bool', label: 'causal rows', doc: 'row r of R considers only its first S - R + r + 1 entries (index scores of queries at positions S-R..S-1)', default: false },
  split: { type: 'int', label: 'workgroups per row', doc: '0 = automatic (1 for many rows, chunks of ~1024 entries for few long rows); at most 256', default: 0, min: 0, max: MAX_CHUNKS },
} satisfies ConfigSchema;

export type TopKConfig = ConfigOf<typeof topkSchema>;

/**
 * A selection does no arithmetic; its cost is the bytes: the scores a row may consider read once (causal
 * row r of R: its first S - R + r + 1), indices and values written.
 */
export function selectionCost(c: { rows: number; S: number; k: number; causal: boolean }): Cost {
  const read = c.causal ? sumClamped(c.S - c.rows + 1, c.S, 0, c.S) : c.rows * c.S;
  return { flops: 0, bytes: 4 * read + 8 * c.rows * c.k };
}

function topkRowLength(c: TopKConfig) {
  return c.causal ? causalRowLength(c.rows, c.S) : () => c.S;
}

/** Normal scores: what an indexer produces, so benchmarks time the realistic case. */
function normalScores(c: TopKConfig, rng: Rng): Record<string, HostTensor> {
  const data = new Float32Array(c.rows * c.S);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { scores: { shape: [c.rows, c.S], data } };
}

function topkShape(c: TopKConfig): TopKShape {
  return { rows: c.rows, cols: c.S, k: c.k, causal: c.causal, split: c.split };
}

function topkInputs(c: TopKConfig) {
  return [{ name: 'scores', shape: [c.rows, c.S], dtype: 'f32' as const }];
}

function topkOutputs(c: TopKConfig): OutputSpec[] {
  return [
    { name: 'indices', shape: [c.rows, c.k], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'values', shape: [c.rows, c.k], dtype: 'f32' },
  ];
}

/** The registered kernel's buffers: scores, indices, values and the stage's own. */
function topkBuffers(c: TopKConfig) {
  return { ...plannedTensors(topkInputs(c), topkOutputs(c), ['scores', 'indices', 'values']), ...topkStageBuffers(topkShape(c), true) };
}

export const TOPK_TEST_CASES: BenchShape<TopKConfig>[] = [
  { name: 'odd row, k < S', config: { rows: 3, S: 1001, k: 37 } },
  { name: 'k = 1', config: { rows: 5, S: 300, k: 1 } },
  { name: 'k = S', config: { rows: 2, S: 129, k: 129 } },
  { name: 'k > S pads -1', config: { rows: 2, S: 50, k: 64 } },
  { name: 'causal rows, some shorter than k', config: { rows: 9, S: 40, k: 33, causal: true } },
  { name: 'chunked rows (3 workgroups per row)', config: { rows: 2, S: 2500, k: 300, split: 3 } },
  { name: 'chunked causal rows, chunk past the end', config: { rows: 4, S: 700, k: 500, causal: true, split: 5 } },
  { name: 'many rows, row mode', config: { rows: 70, S: 97, k: 11 } },
];

export const topk: KernelDefinition<TopKConfig> = {
  id: 'sparse.topk',
  family: 'sparse',
  title: 'Top-k selection (radix select)',
  explain:
    'Keeps the k largest entries of each row without sorting it: floats are mapped to order-preserving unsigned keys, three histogram rounds ' +
    '(11, 11 and 10 bits) find the exact key of the k-th largest entry, and one order-preserving compaction writes every entry above it plus ' +
    'the first of the entries equal to it, so ties go to the lower index and the result is deterministic. Work is a few streaming passes over ' +
    'the row (O(S), not O(S log^2 S) like a sorting network); few long rows are split over many workgroups in two dispatches: a global top-digit histogram whose last-arriving workgroup picks the digit, then per-chunk candidate lists whose last-arriving workgroup finishes the select and the compaction on them alone. ' +
    'Indices come out in ascending position (good for gathering K/V), -1 where a row has fewer than k valid (non -inf) entries. ' +
    'DeepSeek-V3.2 keeps k = 2048 of up to 128K index scores per query this way.',
  sources: [
    'DeepSeek-AI 2025, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention" (top-k of the indexer scores)',
    'Alabi et al. 2012, "Fast k-Selection Algorithms for Graphics Processing Units" (radix select)',
  ],
  schema: topkSchema,
  check: (c) => checkTopK(topkShape(c)),
  inputs: topkInputs,
  outputs: topkOutputs,
  plan: topkBuffers,
  scratch: (c) => planScratch(topkBuffers(c)),
  cost: selectionCost,
  randomInputs: normalScores,
  reference(inputs, c) {
    const { indices, values } = topkReference(inputs.scores!, c.rows, c.S, c.k, 'index', topkRowLength(c));
    return { indices, values };
  },
  create: (ctx, c) => instanceOfStage(ctx, topkBuffers(c), (b) => createTopKStage(ctx, topkShape(c), b)),
  benchmarks: [
    { name: 'decode row S=32768 k=2048', config: { rows: 1, S: 32768, k: 2048 } },
    { name: 'prefill rows=64 S=2048 k=256 causal', config: { rows: 64, S: 2048, k: 256, causal: true } },
  ],
  testCases: TOPK_TEST_CASES,
};
