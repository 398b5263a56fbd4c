// DeepSeek Sparse Attention, traced: sparse.dsa runs once on a structured case and its three stages' buffers
// are read back (index_scores from the indexer, topk_indices from top-k, out from the sparse attention).
// Frames: the indexer's scores → each query's top-k threshold (its k-th largest score) → the gathered keys
// → the output. checkDsaFrames compares each with the float64 indexer, top-k and attention references.
import type { GpuContext } from '../../gpu/context.ts';
import { defaults } from '../../kernels/contract.ts';
import { relL2, rowSets } from '../../kernels/compare.ts';
import { runKernel } from '../../kernels/execute.ts';
import { dsa, type DsaConfig } from '../../kernels/sparse/dsa.ts';
import type { Rng } from '../../kernels/random.ts';
import { defaultStructure, structuredAttention, structuredIndexer } from '../../kernels/structured-inputs.ts';
import { host, plain, type PlainTensor, type StageFrame } from './stage-frames.ts';

export interface DsaTrace {
  config: DsaConfig;
  inputs: Record<string, PlainTensor>;
  /** What the GPU wrote: index_scores [T, S], topk_indices [T, k], out [T, Hq, D]. */
  outputs: Record<'index_scores' | 'topk_indices' | 'out', PlainTensor>;
}

/** Four queries over 96 keys; top-k = the structure's strong keys (band, sinks, needles). */
export function dsaTraceConfig(): DsaConfig {
  const S = 96;
  const st = defaultStructure(S);
  return { ...defaults(dsa.schema), T: 4, S, Hq: 2, Hkv: 1, D: 16, Hi: 4, Di: 16, topk: st.band + st.sinks + st.needles.length, causal: true, mode: 'gqa', Dr: 0 } as DsaConfig;
}

export function dsaStructuredInputs(c: DsaConfig, rng: Rng) {
  const scale = c.scale > 0 ? c.scale : 1 / Math.sqrt(c.D);
  return { ...structuredAttention({ ...c, scale }, rng), ...structuredIndexer(c, rng) };
}

export async function traceDsa(ctx: GpuContext, c: DsaConfig, rng: Rng): Promise<DsaTrace> {
  const inputs = dsaStructuredInputs(c, rng);
  const out = await runKernel(ctx, dsa, c, inputs);
  return {
    config: c,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, plain(v)])),
    outputs: { index_scores: plain(out.index_scores!), topk_indices: plain(out.topk_indices!), out: plain(out.out!) },
  };
}

/** Each row's k-th largest finite score: the top-k threshold (keys at or above it are kept, ties to lower index). */
export function thresholds(scores: ArrayLike<number>, T: number, S: number, k: number): number[] {
  return Array.from({ length: T }, (_, t) => {
    const row = Array.from({ length: S }, (_, s) => scores[t * S + s]!).filter(Number.isFinite).sort((a, b) => b - a);
    return row[Math.min(k, row.length) - 1] ?? -Infinity;
  });
}

export function dsaFrames(trace: DsaTrace): StageFrame[] {
  const c = trace.config;
  const { T, S, topk } = c;
  const inHost = Object.fromEntries(Object.entries(trace.inputs).map(([k, v]) => [k, host(v)]));
  const want = dsa.reference(inHost, c);
  const got = trace.outputs;
  const scores = got.index_scores.data;
  const cut = thresholds(scores, T, S, topk);
  const cutWant = thresholds(want.index_scores!.data, T, S, topk);
  const rowOffset = S - T;
  const visible = (v: number) => (Number.isFinite(v) ? v : NaN);
  const scoreMatrix = { rows: T, cols: S, values: Float32Array.from(scores, visible), kind: 'weight' as const, normalise: 'global' as const, rowLabel: 'query position', colLabel: 'key', rowOffset };
  // Scores at or above the row's threshold, the rest blank: what top-k is about to keep.
  const above = Float32Array.from(scores, (v, i) => (Number.isFinite(v) && v >= cut[Math.floor(i / S)]! ? v : Number.isFinite(v) ? 0 : NaN));
  const mask = new Float32Array(T * S);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < topk; j++) {
      const s = got.topk_indices.data[t * topk + j]!;
      if (s >= 0) mask[t * S + s] = 1;
    }
    for (let s = rowOffset + t + 1; s < S; s++) mask[t * S + s] = NaN;
  }
  const width = got.out.data.length / T;
  const st = defaultStructure(S);
  const last = got.topk_indices.data.slice((T - 1) * topk, T * topk);
  return [
    {
      stage: 'indexer',
      caption: `The lightning indexer scores every visible key: I[t,s] = Σ_j w[t,j]·ReLU(q_I[t,j]·k_I[s]). Sinks (keys 0..${st.sinks - 1}), needles (${st.needles.join(', ')}) and the band behind each query score highest.`,
      views: [{ name: 'scores', title: 'index scores (query × key)', matrix: scoreMatrix }],
      checks: [relL2('index_scores', scores, want.index_scores!.data, 1e-4)],
    },
    {
      stage: 'threshold',
      caption: `Top-k keeps ${topk} keys per query: those at or above its k-th largest score (thresholds ${cut.map((x) => x.toFixed(3)).join(', ')}).`,
      views: [{ name: 'above', title: 'scores at or above the threshold', matrix: { ...scoreMatrix, values: above } }],
      checks: [relL2('top-k thresholds', cut, cutWant, 1e-4)],
    },
    {
      stage: 'gathered',
      caption: `The keys top-k wrote to topk_indices, gathered for attention (last query: ${Array.from(last).join(', ')}).`,
      views: [{ name: 'selected', title: 'selected keys', matrix: { rows: T, cols: S, values: mask, kind: 'mask', rowLabel: 'query position', colLabel: 'key', rowOffset } }],
      checks: [rowSets('topk_indices', got.topk_indices.data, want.topk_indices!.data, topk)],
    },
    {
      stage: 'attention',
      caption: `Attention over only those ${topk} keys per query (of up to ${S}): out, all heads.`,
      views: [{ name: 'out', title: 'output (query × head·dim)', matrix: { rows: T, cols: width, values: Float32Array.from(got.out.data), kind: 'weight', normalise: 'global', rowLabel: 'query position', colLabel: 'head·dim', rowOffset } }],
      checks: [relL2('out', got.out.data, want.out!.data, 1e-4)],
    },
  ];
}

