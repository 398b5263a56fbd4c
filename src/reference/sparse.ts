// Float64 references for the sparse-attention family: the DSA lightning indexer, top-k selection, attention
// over a per-query key list (DSA, GQA and MLA-latent layouts) and block-sparse selection (MoBA / NSA).
// Sliding-window attention needs nothing new: attentionReference with slidingWindowMask.
// Conventions as in ./attention.ts: the T queries sit at positions S-T .. S-1, query head h reads KV head
// floor(h / (Hq/Hkv)), a query that sees no key outputs zeros.
import type { HostTensor } from '../kernels/tensor.ts';

export interface IndexerShape {
  T: number;
  S: number;
  /** Index heads H_I and their dimension D_I. */
  Hi: number;
  Di: number;
  causal: boolean;
}

/**
 * DeepSeek-V3.2-Exp lightning indexer: I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]), ReLU before the
 * (possibly negative) weight. The weights are used as given: DeepSeek's code folds H_I^-0.5 * D_I^-0.5 (and
 * the softmax scale) into w before this sum, so a caller reproducing it passes the scaled w. Causal: keys after
 * the query's position are -inf (never selected).
 */
export function indexerReference(qI: HostTensor, kI: HostTensor, w: HostTensor, shape: IndexerShape): HostTensor {
  const { T, S, Hi, Di, causal } = shape;
  const out = new Float64Array(T * S);
  for (let t = 0; t < T; t++) {
    const p = S - T + t;
    for (let s = 0; s < S; s++) {
      if (causal && s > p) {
        out[t * S + s] = -Infinity;
        continue;
      }
      let score = 0;
      for (let j = 0; j < Hi; j++) {
        const qo = (t * Hi + j) * Di;
        let dot = 0;
        for (let d = 0; d < Di; d++) dot += qI.data[qo + d]! * kI.data[s * Di + d]!;
        score += w.data[t * Hi + j]! * Math.max(0, dot);
      }
      out[t * S + s] = score;
    }
  }
  return { shape: [T, S], data: out };
}

/** Which selected entries come first: ascending position (what the GPU top-k emits) or descending score. */
export type TopKOrder = 'index' | 'score';

/**
 * Per-row top-k of `scores` [rows, cols]: the k largest valid entries (finite or +inf; -inf and NaN are never
 * selected), ties broken towards the lower index, so the selected set is unique. A row with fewer than k valid
 * entries is padded with index -1 / value -inf. `rowLength(r)` limits row r to its first entries (causal rows).
 */
export function topkReference(
  scores: HostTensor,
  rows: number,
  cols: number,
  k: number,
  order: TopKOrder,
  rowLength: (r: number) => number = () => cols,
): { indices: HostTensor; values: HostTensor } {
  const indices = new Int32Array(rows * k).fill(-1);
  const values = new Float64Array(rows * k).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    const len = Math.min(cols, Math.max(0, rowLength(r)));
    const cand: number[] = [];
    for (let i = 0; i < len; i++) {
      const v = scores.data[r * cols + i]!;
      if (v > -Infinity) cand.push(i); // NaN > -Infinity is false: NaN is never selected
    }
    const val = (i: number) => scores.data[r * cols + i]!;
    cand.sort((a, b) => val(b) - val(a) || a - b);
    // +inf - +inf is NaN: the comparator above falls back to the index, which is the tie rule anyway.
    const taken = cand.slice(0, k);
    if (order === 'index') taken.sort((a, b) => a - b);
    taken.forEach((i, j) => {
      indices[r * k + j] = i;
      values[r * k + j] = val(i);
    });
  }
  return { indices: { shape: [rows, k], data: indices }, values: { shape: [rows, k], data: values } };
}

/** Rows of causal scores: query row r of `rows` (at position cols-rows+r) sees its first cols-rows+r+1 keys. */
export const causalRowLength = (rows: number, cols: number) => (r: number) => cols - rows + r + 1;

/**
 * softmax(scale * q . k_s) over the listed keys, times v: one output row. Offsets give where key s's K and V rows
 * start; shared by the key-list and block-select references.
 */
function attendRow(
  q: ArrayLike<number>,
  qo: number,
  keys: readonly number[],
  k: ArrayLike<number>,
  kOffset: (s: number) => number,
  v: ArrayLike<number>,
  vOffset: (s: number) => number,
  D: number,
  Dv: number,
  scale: number,
  out: Float64Array,
  oo: number,
): void {
  if (!keys.length) return; // nothing visible: zeros
  const w = new Float64Array(keys.length);
  let max = -Infinity;
  keys.forEach((s, i) => {
    const ko = kOffset(s);
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
    w[i] = dot * scale;
    max = Math.max(max, w[i]!);
  });
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += w[i] = Math.exp(w[i]! - max);
  keys.forEach((s, i) => {
    const vo = vOffset(s);
    for (let d = 0; d < Dv; d++) out[oo + d] += (w[i]! / sum) * v[vo + d]!;
  });
}

export interface KeyListShape {
  T: number;
  S: number;
  Hq: number;
  Hkv: number;
  /** Key (and query) dimension. */
  D: number;
  /** Value dimension: the first Dv entries of each value row. */
  Dv: number;
  scale: number;
  causal: boolean;
}

/**
 * Attention where query t sees only the keys listed in `indices` [T, n] (-1 = no entry; entries >= S or,
 * when causal, after the query's position are skipped; every listed entry counts once per listing).
 * GQA: k [S,Hkv,D], v [S,Hkv,Dv]. MLA latent mode is the same math with Hkv = 1, k = the latent rows
 * [c_KV ; k_pe] [S, D] and v = the same rows read as their first Dv (= kv_lora_rank) entries: pass the
 * latent tensor as both k and v with vRowStride = D.
 */
export function keyListAttentionReference(
  q: HostTensor,
  k: HostTensor,
  v: HostTensor,
  indices: HostTensor,
  shape: KeyListShape,
  vRowStride = shape.Dv,
): HostTensor {
  const { T, S, Hq, Hkv, D, Dv, scale, causal } = shape;
  const n = indices.data.length / T;
  const group = Hq / Hkv;
  const out = new Float64Array(T * Hq * Dv);
  for (let t = 0; t < T; t++) {
    const p = S - T + t;
    const keys: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = indices.data[t * n + i]!;
      if (s >= 0 && s < S && (!causal || s <= p)) keys.push(s);
    }
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      attendRow(q.data, (t * Hq + h) * D, keys, k.data, (s) => (s * Hkv + kvh) * D, v.data, (s) => (s * Hkv + kvh) * vRowStride, D, Dv, scale, out, (t * Hq + h) * Dv);
    }
  }
  return { shape: [T, Hq, Dv], data: out };
}

export interface BlockSelectShape {
  T: number;
  S: number;
  Hq: number;
  Hkv: number;
  D: number;
  scale: number;
  causal: boolean;
  /** Keys per block B. */
  block: number;
  /** Blocks each (query, head) attends to, its own block included. */
  topBlocks: number;
}

/** Mean-pooled block keys [nB, Hkv, D]: block b covers keys b*B .. min(S, (b+1)*B) - 1. */
export function pooledBlockKeys(k: HostTensor, S: number, Hkv: number, D: number, B: number): Float64Array {
  const nB = Math.ceil(S / B);
  const pooled = new Float64Array(nB * Hkv * D);
  for (let b = 0; b < nB; b++) {
    const end = Math.min(S, (b + 1) * B);
    for (let kvh = 0; kvh < Hkv; kvh++) {
      const po = (b * Hkv + kvh) * D;
      for (let s = b * B; s < end; s++) for (let d = 0; d < D; d++) pooled[po + d] += k.data[(s * Hkv + kvh) * D + d]!;
      for (let d = 0; d < D; d++) pooled[po + d] /= end - b * B;
    }
  }
  return pooled;
}

/**
 * Block-sparse attention with MoBA's gate (Lu et al. 2025; NSA's selection branch is the same idea): keys are
 * cut into blocks of B, block b's key is the mean of its keys (the last block may be shorter), and each
 * (query, head) pair scores block b by q . mean(K_b). It always keeps its own block (the one holding its
 * position), then the best other eligible blocks (causal: blocks that start at or before the query) up to
 * `topBlocks`, ties to the lower block, and attends to the keys of those blocks (causal inside its own block).
 * Returns the output and the selected block ids [T, Hq, topBlocks] (ascending, -1 padded).
 */
export function blockSelectReference(q: HostTensor, k: HostTensor, v: HostTensor, shape: BlockSelectShape): { out: HostTensor; selected: HostTensor } {
  const { T, S, Hq, Hkv, D, block: B, topBlocks, causal, scale } = shape;
  const nB = Math.ceil(S / B);
  const group = Hq / Hkv;
  const pooled = pooledBlockKeys(k, S, Hkv, D, B);
  const selected = new Int32Array(T * Hq * topBlocks).fill(-1);
  const out = new Float64Array(T * Hq * D);
  const blockScores = new Float64Array(nB);
  for (let t = 0; t < T; t++) {
    const p = S - T + t;
    const own = Math.floor(p / B);
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const qo = (t * Hq + h) * D;
      for (let b = 0; b < nB; b++) {
        if (causal && b * B > p) blockScores[b] = -Infinity;
        else if (b === own) blockScores[b] = Infinity; // always kept
        else {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[qo + d]! * pooled[(b * Hkv + kvh) * D + d]!;
          blockScores[b] = dot;
        }
      }
      const chosen = topkReference({ shape: [1, nB], data: blockScores }, 1, nB, topBlocks, 'index').indices.data;
      const keys: number[] = [];
      for (let i = 0; i < topBlocks; i++) {
        const b = chosen[i]!;
        selected[(t * Hq + h) * topBlocks + i] = b;
        if (b < 0) continue;
        for (let s = b * B; s < Math.min(S, (b + 1) * B); s++) if (!causal || s <= p) keys.push(s);
      }
      attendRow(q.data, qo, keys, k.data, (s) => (s * Hkv + kvh) * D, v.data, (s) => (s * Hkv + kvh) * D, D, D, scale, out, qo);
    }
  }
  return { out: { shape: [T, Hq, D], data: out }, selected: { shape: [T, Hq, topBlocks], data: selected } };
}
