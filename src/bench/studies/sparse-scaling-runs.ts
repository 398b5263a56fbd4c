// The runs of the sparse-attention scaling study: at each context length S, dense flash attention against DSA
// (each stage timed on its own and the whole), sliding window and block select, prefill and decode, with the
// cost model's FLOPs beside the measured times. This module only describes the runs and digests measured
// times; the bench runner times each run like any other kernel config and hands the medians back to
// `scalingTable`.
import type { Config } from '../../kernels/contract.ts';
import { attentionCost, type AttentionConfig } from '../../kernels/attention/attention-config.ts';
import { dsa, type DsaConfig } from '../../kernels/sparse/dsa.ts';
import { indexerCost } from '../../kernels/sparse/indexer.ts';
import { dsaAttentionCost, type DsaAttentionConfig } from '../../kernels/sparse/dsa-attention.ts';
import { windowCost, type SlidingWindowConfig } from '../../kernels/sparse/sliding-window.ts';
import { blockSelectCost, type BlockSelectConfig } from '../../kernels/sparse/block-select.ts';

export type ScalingPhase = 'prefill' | 'decode';
export type ScalingMethod = 'dense' | 'dsa' | 'window' | 'block';
/** DSA is timed whole ('total') and per stage; the other methods are one kernel ('total'). */
export type ScalingStage = 'total' | 'indexer' | 'topk' | 'attention';

export interface ScalingRun {
  method: ScalingMethod;
  stage: ScalingStage;
  /** Registry id; the dense ids belong to the flash kernels (same config type as attention.naive). */
  kernel: string;
  config: Config;
  /** Cost-model FLOPs of this run. */
  flops: number;
}

export interface ScalingPoint {
  phase: ScalingPhase;
  S: number;
  /** Queries: 1 for decode, the prefill length otherwise. */
  T: number;
  runs: ScalingRun[];
  /** Cost-model speed-up over dense (dense FLOPs / method FLOPs): the ideal the measured ratio is held against. */
  idealSpeedup: Record<Exclude<ScalingMethod, 'dense'>, number>;
}

/** The model-like shape the study runs: GQA/MQA attention, a DeepSeek-style indexer and the sparse knobs. */
export interface ScalingShape {
  Hq: number;
  Hkv: number;
  D: number;
  Hi: number;
  Di: number;
  topk: number;
  window: number;
  sinks: number;
  block: number;
  topBlocks: number;
}

/**
 * Defaults keep DeepSeek-V3.2's proportions at a size the flash kernels take (D <= 256): per (query, key) pair
 * dense attention costs Hq * 2D = 8192 multiply-adds and the indexer Hi * Di = 512, the 16:1 of V3.2
 * (128 heads x (576 + 512) against 64 x 128); k = 2048 as in V3.2; window and block budgets attend to about
 * as many keys as DSA (2048 + 4 and 32 x 64).
 */
const DEFAULT_SCALING_SHAPE: ScalingShape = { Hq: 32, Hkv: 1, D: 128, Hi: 8, Di: 64, topk: 2048, window: 2048, sinks: 4, block: 64, topBlocks: 32 };

const DENSE_KERNEL: Record<ScalingPhase, string> = { prefill: 'attention.flash_prefill', decode: 'attention.flash_decode' };

export interface ScalingOptions {
  phase: ScalingPhase;
  /** Context lengths; default powers of two from 1024 to maxS. */
  sizes?: number[];
  /** Largest S (default: 32768 decode, 4096 prefill, what SwiftShader finishes in minutes; a real GPU takes 131072+). */
  maxS?: number;
  /** Prefill queries; 0 = S (the whole prompt). */
  prefillT?: number;
  shape?: Partial<ScalingShape>;
}

function scalingSizes(o: ScalingOptions): number[] {
  if (o.sizes) return o.sizes;
  const maxS = o.maxS ?? (o.phase === 'decode' ? 32768 : 4096);
  const out: number[] = [];
  for (let S = 1024; S <= maxS; S *= 2) out.push(S);
  return out;
}

/** Every run of the study, grouped by (phase, S). */
export function scalingStudy(o: ScalingOptions): ScalingPoint[] {
  const sh = { ...DEFAULT_SCALING_SHAPE, ...o.shape };
  return scalingSizes(o).map((S) => {
    const T = o.phase === 'decode' ? 1 : Math.min(S, o.prefillT || S);
    const common = { T, S, Hq: sh.Hq, Hkv: sh.Hkv, D: sh.D, causal: true, scale: 0 };
    const dense: AttentionConfig = { ...common, dtype: 'f32' };
    const dsaConfig: DsaConfig = { ...common, Dr: 0, mode: 'gqa', topk: sh.topk, Hi: sh.Hi, Di: sh.Di };
    const window: SlidingWindowConfig = { ...dense, window: sh.window, sinks: sh.sinks, selected: false };
    const block: BlockSelectConfig = { ...dense, block: sh.block, topBlocks: sh.topBlocks, selected: false };
    const index = { T, S, Hi: sh.Hi, Di: sh.Di, causal: true };
    const att: DsaAttentionConfig = { ...common, Dr: 0, mode: 'gqa', topk: sh.topk, dtype: 'f32' };
    const denseFlops = attentionCost(dense).flops;
    const dsaFlops = dsa.cost(dsaConfig).flops;
    const windowFlops = windowCost(window).flops;
    const blockFlops = blockSelectCost(block).flops;
    const runs: ScalingRun[] = [
      { method: 'dense', stage: 'total', kernel: DENSE_KERNEL[o.phase], config: dense, flops: denseFlops },
      { method: 'dsa', stage: 'total', kernel: 'sparse.dsa', config: dsaConfig, flops: dsaFlops },
      { method: 'dsa', stage: 'indexer', kernel: 'sparse.indexer', config: index, flops: indexerCost(index).flops },
      // Top-k on the same causal rows the indexer produces; it does no arithmetic.
      { method: 'dsa', stage: 'topk', kernel: 'sparse.topk', config: { rows: T, S, k: sh.topk, causal: true, split: 0 }, flops: 0 },
      { method: 'dsa', stage: 'attention', kernel: 'sparse.dsa_attention', config: att, flops: dsaAttentionCost(att, 4).flops },
      { method: 'window', stage: 'total', kernel: 'sparse.sliding_window', config: window, flops: windowFlops },
      { method: 'block', stage: 'total', kernel: 'sparse.block_select', config: block, flops: blockFlops },
    ];
    return { phase: o.phase, S, T, runs, idealSpeedup: { dsa: denseFlops / dsaFlops, window: denseFlops / windowFlops, block: denseFlops / blockFlops } };
  });
}

/** A measured median for one run (what the bench runner hands back). */
export interface ScalingMeasurement {
  phase: ScalingPhase;
  S: number;
  method: ScalingMethod;
  stage: ScalingStage;
  ms: number;
}

export interface ScalingRow {
  phase: ScalingPhase;
  S: number;
  denseMs?: number;
  dsaMs?: number;
  /** DSA stage times and each one's share of their sum. */
  dsaStages: Partial<Record<'indexer' | 'topk' | 'attention', { ms: number; share: number }>>;
  windowMs?: number;
  blockMs?: number;
  /** Cost-model speed-up over dense, and the measured one (dense ms / method ms). */
  ideal: ScalingPoint['idealSpeedup'];
  measured: Partial<Record<'dsa' | 'window' | 'block', number>>;
}

/** One row per (phase, S) for the table and the UI's curves. */
export function scalingTable(study: ScalingPoint[], measured: ScalingMeasurement[]): ScalingRow[] {
  const find = (p: ScalingPoint, method: ScalingMethod, stage: ScalingStage) =>
    measured.find((m) => m.phase === p.phase && m.S === p.S && m.method === method && m.stage === stage)?.ms;
  return study.map((p) => {
    const stages = (['indexer', 'topk', 'attention'] as const).map((s) => [s, find(p, 'dsa', s)] as const);
    const stageSum = stages.reduce((a, [, ms]) => a + (ms ?? 0), 0);
    const dsaStages: ScalingRow['dsaStages'] = {};
    for (const [s, ms] of stages) if (ms !== undefined) dsaStages[s] = { ms, share: stageSum > 0 ? ms / stageSum : 0 };
    const row: ScalingRow = {
      phase: p.phase,
      S: p.S,
      denseMs: find(p, 'dense', 'total'),
      dsaMs: find(p, 'dsa', 'total'),
      dsaStages,
      windowMs: find(p, 'window', 'total'),
      blockMs: find(p, 'block', 'total'),
      ideal: p.idealSpeedup,
      measured: {},
    };
    for (const [m, ms] of [['dsa', row.dsaMs], ['window', row.windowMs], ['block', row.blockMs]] as const) {
      if (row.denseMs !== undefined && ms !== undefined && ms > 0) row.measured[m] = row.denseMs / ms;
    }
    return row;
  });
}

/**
 * The smallest S (of one phase) from which the method stays faster than dense at every larger measured S,
 * or undefined if it never does. Between the last slower and the first faster size the crossing is
 * interpolated on log S.
 */
export function crossoverS(rows: ScalingRow[], method: 'dsa' | 'window' | 'block' = 'dsa'): number | undefined {
  const pts = rows.filter((r) => r.measured[method] !== undefined).sort((a, b) => a.S - b.S);
  let i = pts.length;
  while (i > 0 && pts[i - 1]!.measured[method]! > 1) i--;
  if (i === pts.length) return undefined;
  if (i === 0) return pts[0]!.S;
  const [a, b] = [pts[i - 1]!, pts[i]!];
  // Interpolate log(speed-up) = 0 between them on log S.
  const la = Math.log(a.measured[method]!);
  const lb = Math.log(b.measured[method]!);
  const f = la === lb ? 1 : -la / (lb - la);
  return Math.round(Math.exp(Math.log(a.S) + f * (Math.log(b.S) - Math.log(a.S))));
}
