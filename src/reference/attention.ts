// Float64 reference for softmax attention with GQA and an arbitrary visibility mask.
// q [T,Hq,D], k/v [S,Hkv,D]; query t sits at position p = S-T+t; query head h reads KV head
// floor(h / (Hq/Hkv)). A row with no visible key outputs zeros (the kernels follow this convention).
import type { HostTensor } from '../kernels/tensor.ts';

export interface AttentionShape {
  T: number;
  S: number;
  Hq: number;
  Hkv: number;
  D: number;
  /** Scores are scale * q.k. */
  scale: number;
}

/** visible(p, s): may the query at position p see key s? */
export type Visibility = (p: number, s: number) => boolean;

export const causalMask: Visibility = (p, s) => s <= p;
export const fullMask: Visibility = () => true;
/** Key s visible at p when s <= p and (p - s < window or s < sinks). */
export const slidingWindowMask =
  (window: number, sinks: number): Visibility =>
  (p, s) =>
    s <= p && (p - s < window || s < sinks);

export function attentionReference(q: HostTensor, k: HostTensor, v: HostTensor, shape: AttentionShape, visible: Visibility): HostTensor {
  const { T, S, Hq, Hkv, D, scale } = shape;
  const group = Hq / Hkv;
  const out = new Float64Array(T * Hq * D);
  const scores = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    const p = S - T + t;
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const qo = (t * Hq + h) * D;
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        if (!visible(p, s)) {
          scores[s] = -Infinity;
          continue;
        }
        const ko = (s * Hkv + kvh) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[qo + d]! * k.data[ko + d]!;
        scores[s] = dot * scale;
        if (scores[s]! > max) max = scores[s]!;
      }
      if (max === -Infinity) continue; // nothing visible: zeros
      let sum = 0;
      for (let s = 0; s < S; s++) {
        const e = scores[s] === -Infinity ? 0 : Math.exp(scores[s]! - max);
        scores[s] = e;
        sum += e;
      }
      for (let s = 0; s < S; s++) {
        const w = scores[s]! / sum;
        if (w === 0) continue;
        const vo = (s * Hkv + kvh) * D;
        for (let d = 0; d < D; d++) out[qo + d] += w * v.data[vo + d]!;
      }
    }
  }
  return { shape: [T, Hq, D], data: out };
}

/** Attention probabilities P[t, h, s] = softmax_s(scale * q.k) over the visible keys (0 elsewhere; all-0 rows with nothing visible). */
export function attentionProbabilities(q: HostTensor, k: HostTensor, shape: AttentionShape, visible: Visibility): HostTensor {
  const { T, S, Hq, Hkv, D, scale } = shape;
  const group = Hq / Hkv;
  const probs = new Float64Array(T * Hq * S);
  for (let t = 0; t < T; t++) {
    const p = S - T + t;
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const qo = (t * Hq + h) * D;
      const row = (t * Hq + h) * S;
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        if (!visible(p, s)) continue;
        const ko = (s * Hkv + kvh) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[qo + d]! * k.data[ko + d]!;
        probs[row + s] = dot * scale;
        max = Math.max(max, dot * scale);
      }
      if (max === -Infinity) continue;
      let sum = 0;
      for (let s = 0; s < S; s++) {
        if (!visible(p, s)) continue;
        const e = Math.exp(probs[row + s]! - max);
        probs[row + s] = e;
        sum += e;
      }
      for (let s = 0; s < S; s++) if (visible(p, s)) probs[row + s]! /= sum;
    }
  }
  return { shape: [T, Hq, S], data: probs };
}

/** One split of flash decoding's key range: its row statistics and normalised output (float64). */
export interface SplitPartial {
  /** [rows = T * Hq] max score in log2 units (scale · q·k · log2 e, as the kernels keep it); -inf where nothing is visible. */
  m: Float64Array;
  /** [rows] Σ 2^(score2 − m) over the split's visible keys. */
  l: Float64Array;
  /** [rows, D] the split's softmax-weighted sum of V, divided by l (zeros where nothing is visible). */
  o: Float64Array;
}

/**
 * Flash decoding's intermediates: key range [0, S) cut into splits of `chunk` keys, each reduced to (m, l, o)
 * on its own; the merge is out = Σ_j 2^(m_j − M) l_j o_j / Σ_j 2^(m_j − M) l_j with M = max_j m_j.
 */
export function splitPartialsReference(q: HostTensor, k: HostTensor, v: HostTensor, shape: AttentionShape, visible: Visibility, chunk: number): SplitPartial[] {
  const { T, S, Hq, Hkv, D, scale } = shape;
  const group = Hq / Hkv;
  const parts: SplitPartial[] = [];
  for (let start = 0; start < S; start += chunk) {
    const end = Math.min(S, start + chunk);
    const inSplit: Visibility = (p, s) => s >= start && s < end && visible(p, s);
    const o = attentionReference(q, k, v, shape, inSplit).data as Float64Array;
    const m = new Float64Array(T * Hq).fill(-Infinity);
    const l = new Float64Array(T * Hq);
    for (let t = 0; t < T; t++) {
      const p = S - T + t;
      for (let h = 0; h < Hq; h++) {
        const row = t * Hq + h;
        const kvh = Math.floor(h / group);
        const scores: number[] = [];
        for (let s = start; s < end; s++) {
          if (!visible(p, s)) continue;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[row * D + d]! * k.data[(s * Hkv + kvh) * D + d]!;
          scores.push(dot * scale * Math.LOG2E);
        }
        if (!scores.length) continue;
        m[row] = Math.max(...scores);
        l[row] = scores.reduce((acc, x) => acc + 2 ** (x - m[row]!), 0);
      }
    }
    parts.push({ m, l, o });
  }
  return parts;
}
