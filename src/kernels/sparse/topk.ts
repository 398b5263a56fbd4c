// sparse.topk: host side of shaders/sparse/topk.wgsl. Exports the registered kernel and `createTopKStage`,
// the piece other kernels embed on their own buffers (DSA's index scores, block select's block scores, the
// MoE router's expert scores).
import { instanceOfStage } from '../stage-instance.ts';
import orderKeyWgsl from '../../../shaders/sparse/order-key.wgsl?raw';
import topkWgsl from '../../../shaders/sparse/topk.wgsl?raw';
import * as d from 'typegpu/data';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { GpuContext } from '../../gpu/context.ts';
import type { BenchShape, ConfigSchema, Cost, KernelDefinition, ValidationIssue } from '../contract.ts';
import { causalRowLength, topkReference } from '../../reference/sparse.ts';
import { sumClamped } from './sparse-config.ts';
import type { HostTensor } from '../tensor.ts';
import type { Rng } from '../random.ts';

export type TopKConfig = {
  rows: number;
  S: number;
  k: number;
  /** Row r of `rows` sees only its first S - rows + r + 1 entries (causal index scores). */
  causal: boolean;
  /** Workgroups per row; 0 picks one from the shape. */
  split: number;
};

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

/** Histogram bins per row (11-bit digits), as in topk.wgsl. */
const BINS = 2048;
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

export function topkScratch(s: TopKShape): { name: string; bytes: number }[] {
  const chunks = topkChunks(s.rows, s.cols, s.split);
  if (chunks === 1) return [];
  return [
    { name: 'topk histograms and arrival counters', bytes: s.rows * (BINS + 2) * 4 },
    { name: 'topk row state', bytes: s.rows * 16 },
    { name: 'topk list lengths', bytes: s.rows * chunks * 4 },
    { name: 'topk candidate lists', bytes: s.rows * s.cols * 8 },
  ];
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
  destroy(): void;
}

/**
 * Top-k of each row of `scores` ([rows, cols] f32) into `indices` ([rows, k] i32, ascending position, -1
 * padded) and, when given, `values` ([rows, k] f32, -inf padded). The buffers stay the caller's; the stage
 * owns its pipelines, parameters and scratch.
 */
export async function createTopKStage(
  ctx: GpuContext,
  s: TopKShape,
  io: { scores: GPUBuffer; indices: GPUBuffer; values?: GPUBuffer },
  label = 'sparse.topk',
): Promise<TopKStage> {
  const chunks = topkChunks(s.rows, s.cols, s.split);
  const rowMode = chunks === 1;
  const dispatches = topkDispatches(s);
  const { layout, pipelines } = await kernelPipelines(
    ctx,
    { label, wgsl: orderKeyWgsl + topkWgsl, structs: { TopKParams } },
    ['uniform', 'read', 'rw', 'rw', 'rw', 'rw', 'rw', 'rw'],
    dispatches.map((x) => x.entry),
  );
  const b = ctx.buffers;
  const owned: GPUBuffer[] = [];
  const own = (buf: GPUBuffer) => (owned.push(buf), buf);
  const params = own(
    uniformBuffer(ctx, `${label} params`, TopKParams, {
      rows: s.rows,
      cols: s.cols,
      k: s.k,
      causal: s.causal ? 1 : 0,
      chunks,
      chunk_len: Math.ceil(s.cols / chunks),
      write_values: io.values ? 1 : 0,
    }),
  );
  // Row mode never touches the chunk scratch; the bindings still need a buffer. The histograms and arrival
  // counters start at zero (WebGPU zeroes new buffers) and every run leaves them zero again.
  const values = io.values ?? own(b.storage(`${label} values (unused)`, 4));
  const hist = own(b.storage(`${label} histograms`, rowMode ? 4 : s.rows * (BINS + 2) * 4));
  const state = own(b.storage(`${label} row state`, rowMode ? 16 : s.rows * 16));
  const counts = own(b.storage(`${label} list lengths`, rowMode ? 4 : s.rows * chunks * 4));
  const list = own(b.storage(`${label} candidate lists`, rowMode ? 8 : s.rows * s.cols * 8));
  const group = bindGroup(ctx, layout, [params, io.scores, io.indices, values, hist, state, counts, list], label);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const recorded = dispatches.map((x) => ({ pipeline: pipelines[x.entry], groups: grid(x.workgroups, maxDim) }));
  return {
    chunks,
    encode(pass) {
      pass.setBindGroup(0, group);
      for (const x of recorded) {
        pass.setPipeline(x.pipeline);
        pass.dispatchWorkgroups(...x.groups);
      }
    },
    destroy() {
      for (const buf of owned) b.destroy(buf);
    },
  };
}

export const topkSchema: ConfigSchema<TopKConfig> = {
  rows: { type: 'int', label: 'rows', doc: 'independent rows (queries for DSA, tokens for a MoE router)', default: 1, min: 1, max: 1 << 20 },
  S: { type: 'int', label: 'row length S', doc: 'entries per row (keys for DSA)', default: 32768, min: 1, max: 1 << 24, unit: 'entries' },
  k: { type: 'int', label: 'k', doc: 'entries kept per row (DeepSeek-V3.2: 2048); rows with fewer valid entries are padded with -1', default: 2048, min: 1, max: 1 << 16 },
  causal: { type: 'bool', label: 'causal rows', doc: 'row r of R considers only its first S - R + r + 1 entries (index scores of queries at positions S-R..S-1)', default: false },
  split: { type: 'int', label: 'workgroups per row', doc: '0 = automatic (1 for many rows, chunks of ~1024 entries for few long rows); at most 256', default: 0, min: 0, max: MAX_CHUNKS },
};

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
  check: (c) => checkTopK({ rows: c.rows, cols: c.S, k: c.k, causal: c.causal, split: c.split }),
  inputs: (c) => [{ name: 'scores', shape: [c.rows, c.S], dtype: 'f32' }],
  outputs: (c) => [
    { name: 'indices', shape: [c.rows, c.k], dtype: 'i32', compare: { kind: 'exact' } },
    { name: 'values', shape: [c.rows, c.k], dtype: 'f32' },
  ],
  scratch: (c) => topkScratch({ rows: c.rows, cols: c.S, k: c.k, causal: c.causal, split: c.split }),
  cost: selectionCost,
  randomInputs: normalScores,
  reference(inputs, c) {
    const { indices, values } = topkReference(inputs.scores!, c.rows, c.S, c.k, 'index', topkRowLength(c));
    return { indices, values };
  },
  create: (ctx, c) =>
    instanceOfStage(ctx, [...topk.inputs(c), ...topk.outputs(c)], (t) =>
      createTopKStage(ctx, { rows: c.rows, cols: c.S, k: c.k, causal: c.causal, split: c.split }, t as Record<'scores' | 'indices' | 'values', GPUBuffer>),
    ),
  benchmarks: [
    { name: 'decode row S=32768 k=2048', config: { rows: 1, S: 32768, k: 2048 } },
    { name: 'prefill rows=64 S=2048 k=256 causal', config: { rows: 64, S: 2048, k: 256, causal: true } },
  ],
  testCases: TOPK_TEST_CASES,
};
