// Float64 references for the MoE layer. The gate follows DeepSeek-V3's public inference/model.py (class Gate):
//   scores = softmax(x W^T) or sigmoid(x W^T); the optional bias is added for *selection only*;
//   group-limited routing: a group's score is its max score (no bias) or the sum of its top-2 biased scores
//   (with bias), the best `topk_groups` groups are kept and the others set to -inf;
//   top-k on the (biased, masked) scores; weights are gathered from the *unbiased* scores, renormalised to
//   sum 1 only for sigmoid, then multiplied by route_scale.
// The Mixtral variant takes the top-k of the raw logits and softmaxes over the selected ones.
// Ties between equal scores go to the lower expert (or group) index everywhere.
// The layer (class MoE): out = sum_k w[t,k] * expert_{i[t,k]}(x[t]) + shared(x[t]), expert(x) = w2(silu(w1 x) * w3 x).
import type { HostTensor } from '../kernels/tensor.ts';

export interface GateOptions {
  N: number;
  dim: number;
  E: number;
  topk: number;
  n_groups: number;
  topk_groups: number;
  score_func: 'softmax' | 'sigmoid';
  routing: 'deepseek' | 'mixtral';
  route_scale: number;
}

export interface GateResult {
  /** [N, topk] routing weights, in selection order (best first). */
  weights: HostTensor;
  /** [N, topk] expert indices (Int32Array). */
  indices: HostTensor;
  /** [N, E] the score each expert was selected by (biased, -inf in dropped groups): for invariant tests. */
  selectionScores: Float64Array;
}

/** a before b in selection order: higher score, then lower index. */
function before(va: number, ia: number, vb: number, ib: number): boolean {
  return va > vb || (va === vb && ia < ib);
}

/** Indices of the k best entries of v (higher first, ties to the lower index). */
export function topkIndices(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => (before(v[a]!, a, v[b]!, b) ? -1 : 1));
  return idx.slice(0, k);
}

export function gateReference(x: HostTensor, gateWeight: HostTensor, gateBias: HostTensor | undefined, o: GateOptions): GateResult {
  const { N, dim, E, topk } = o;
  const weights = new Float64Array(N * topk);
  const indices = new Int32Array(N * topk);
  const selectionScores = new Float64Array(N * E);
  const logits = new Float64Array(E);
  const scores = new Float64Array(E);
  const key = new Float64Array(E);
  for (let t = 0; t < N; t++) {
    for (let e = 0; e < E; e++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += x.data[t * dim + k]! * gateWeight.data[e * dim + k]!;
      logits[e] = dot;
    }
    if (o.routing === 'mixtral') {
      scores.set(logits);
    } else if (o.score_func === 'softmax') {
      let m = -Infinity;
      for (let e = 0; e < E; e++) m = Math.max(m, logits[e]!);
      let s = 0;
      for (let e = 0; e < E; e++) s += (scores[e] = Math.exp(logits[e]! - m));
      for (let e = 0; e < E; e++) scores[e]! /= s;
    } else {
      for (let e = 0; e < E; e++) scores[e] = 1 / (1 + Math.exp(-logits[e]!));
    }
    for (let e = 0; e < E; e++) key[e] = scores[e]! + (gateBias ? gateBias.data[e]! : 0);
    if (o.n_groups > 1) {
      const gs = E / o.n_groups;
      const groupScore = new Float64Array(o.n_groups);
      for (let g = 0; g < o.n_groups; g++) {
        const members = key.subarray(g * gs, (g + 1) * gs);
        if (gateBias) {
          const [a, b] = topkIndices(members, 2);
          groupScore[g] = members[a!]! + members[b!]!;
        } else {
          groupScore[g] = Math.max(...members);
        }
      }
      const keep = new Set(topkIndices(groupScore, o.topk_groups));
      for (let e = 0; e < E; e++) if (!keep.has(Math.floor(e / gs))) key[e] = -Infinity;
    }
    selectionScores.set(key, t * E);
    const chosen = topkIndices(key, topk);
    const w = chosen.map((e) => scores[e]!);
    if (o.routing === 'mixtral') {
      const m = Math.max(...w);
      const ex = w.map((v) => Math.exp(v - m));
      const s = ex.reduce((a, b) => a + b, 0);
      for (let j = 0; j < topk; j++) w[j] = ex[j]! / s;
    } else if (o.score_func === 'sigmoid') {
      const s = w.reduce((a, b) => a + b, 0);
      for (let j = 0; j < topk; j++) w[j]! /= s;
    }
    for (let j = 0; j < topk; j++) {
      weights[t * topk + j] = w[j]! * o.route_scale;
      indices[t * topk + j] = chosen[j]!;
    }
  }
  return { weights: { shape: [N, topk], data: weights }, indices: { shape: [N, topk], data: indices }, selectionScores };
}

/** GShard/Switch expert capacity: ceil(factor * N * topk / E) token copies per expert; factor 0 = unlimited. */
export function expertCapacity(capacityFactor: number, N: number, topk: number, E: number): number {
  return capacityFactor > 0 ? Math.ceil((capacityFactor * N * topk) / E) : N * topk;
}

export interface DispatchResult {
  /** [E] copies routed to each expert, before capacity. */
  counts: HostTensor;
  /** [E+1] exclusive prefix sum of the kept counts: expert e owns rows offsets[e] .. offsets[e+1]-1. */
  offsets: HostTensor;
  /** [N*topk] token of each row in expert-contiguous order (-1 past offsets[E]). */
  sorted_tokens: HostTensor;
  /** [N, topk] the inverse map: row of copy (t, k), or -1 when it was dropped. */
  slot_of: HostTensor;
  /** [1] copies dropped by the capacity limit. */
  dropped: HostTensor;
}

/**
 * Stable counting sort of the N*topk token copies by expert. Within an expert, copies keep token order, so
 * the capacity limit keeps the first `capacity` tokens (first come by token index, as in Switch/GShard).
 * Indices outside [0, E) are not routed (slot -1, not counted).
 */
export function dispatchReference(indices: HostTensor, N: number, topk: number, E: number, capacity: number): DispatchResult {
  const counts = new Int32Array(E);
  const R = N * topk;
  for (let c = 0; c < R; c++) {
    const e = indices.data[c]!;
    if (e >= 0 && e < E) counts[e]!++;
  }
  const offsets = new Int32Array(E + 1);
  let dropped = 0;
  for (let e = 0; e < E; e++) {
    const kept = Math.min(counts[e]!, capacity);
    dropped += counts[e]! - kept;
    offsets[e + 1] = offsets[e]! + kept;
  }
  const sorted = new Int32Array(R).fill(-1);
  const slotOf = new Int32Array(R).fill(-1);
  const rank = new Int32Array(E);
  for (let c = 0; c < R; c++) {
    const e = indices.data[c]!;
    if (e < 0 || e >= E) continue;
    const r = rank[e]!++;
    if (r >= capacity) continue;
    const pos = offsets[e]! + r;
    sorted[pos] = Math.floor(c / topk);
    slotOf[c] = pos;
  }
  return {
    counts: { shape: [E], data: counts },
    offsets: { shape: [E + 1], data: offsets },
    sorted_tokens: { shape: [R], data: sorted },
    slot_of: { shape: [N, topk], data: slotOf },
    dropped: { shape: [1], data: Int32Array.of(dropped) },
  };
}

const silu = (z: number) => z / (1 + Math.exp(-z));

/**
 * SwiGLU FFN of one row: out[j] += scale * sum_i w2[j,i] * silu(w1[i] . x) * (w3[i] . x), for one expert's
 * slices (w1, w3 [inter, dim] and w2 [dim, inter] starting at the given offsets).
 */
export function swigluAccumulate(
  xRow: ArrayLike<number>,
  xOff: number,
  w1: ArrayLike<number>,
  w3: ArrayLike<number>,
  w2: ArrayLike<number>,
  wOff: number,
  w2Off: number,
  dim: number,
  inter: number,
  out: Float64Array,
  outOff: number,
  scale: number,
): void {
  const h = new Float64Array(inter);
  for (let i = 0; i < inter; i++) {
    let a = 0;
    let b = 0;
    const r = wOff + i * dim;
    for (let k = 0; k < dim; k++) {
      const xv = xRow[xOff + k]!;
      a += w1[r + k]! * xv;
      b += w3[r + k]! * xv;
    }
    h[i] = silu(a) * b;
  }
  for (let j = 0; j < dim; j++) {
    let s = 0;
    const r = w2Off + j * inter;
    for (let i = 0; i < inter; i++) s += w2[r + i]! * h[i]!;
    out[outOff + j] += scale * s;
  }
}

/** y[p] = expert_e(x[token(p)]) for every row p < offsets[E] of expert e (rows past offsets[E] stay 0). */
export function groupedFfnReference(
  x: HostTensor,
  sortedTokens: HostTensor,
  offsets: HostTensor,
  w1: HostTensor,
  w2: HostTensor,
  w3: HostTensor,
  s: { E: number; dim: number; inter: number; rows: number },
): HostTensor {
  const y = new Float64Array(s.rows * s.dim);
  for (let e = 0; e < s.E; e++) {
    for (let p = offsets.data[e]!; p < offsets.data[e + 1]!; p++) {
      const t = sortedTokens.data[p]!;
      swigluAccumulate(x.data, t * s.dim, w1.data, w3.data, w2.data, e * s.inter * s.dim, e * s.dim * s.inter, s.dim, s.inter, y, p * s.dim, 1);
    }
  }
  return { shape: [s.rows, s.dim], data: y };
}

/** out[t] = shared[t] + sum_k weights[t,k] * y[slot_of[t,k]] (dropped copies, slot -1, add nothing). */
export function combineReference(y: HostTensor, weights: HostTensor, slotOf: HostTensor, shared: HostTensor | undefined, s: { N: number; topk: number; dim: number }): HostTensor {
  const out = new Float64Array(s.N * s.dim);
  for (let t = 0; t < s.N; t++) {
    for (let j = 0; j < s.dim; j++) out[t * s.dim + j] = shared ? shared.data[t * s.dim + j]! : 0;
    for (let k = 0; k < s.topk; k++) {
      const p = slotOf.data[t * s.topk + k]!;
      if (p < 0) continue;
      const w = weights.data[t * s.topk + k]!;
      for (let j = 0; j < s.dim; j++) out[t * s.dim + j] += w * y.data[p * s.dim + j]!;
    }
  }
  return { shape: [s.N, s.dim], data: out };
}

/** A dense SwiGLU FFN over N tokens: w1, w3 [inter, dim], w2 [dim, inter]. */
export function denseFfnReference(x: HostTensor, w1: HostTensor, w2: HostTensor, w3: HostTensor, s: { N: number; dim: number; inter: number }): HostTensor {
  const out = new Float64Array(s.N * s.dim);
  for (let t = 0; t < s.N; t++) swigluAccumulate(x.data, t * s.dim, w1.data, w3.data, w2.data, 0, 0, s.dim, s.inter, out, t * s.dim, 1);
  return { shape: [s.N, s.dim], data: out };
}

export interface MoeLayerOptions extends GateOptions {
  inter: number;
  /** Shared-expert hidden size (0 = no shared experts). */
  shared_inter: number;
  /** 0 = no capacity limit. */
  capacity_factor: number;
}

/**
 * The whole layer the way the upstream MoE.forward computes it (per token, per chosen expert), with copies
 * over capacity left out: an independent path from the kernels' dispatch/permute/combine.
 */
export function moeLayerReference(inputs: Record<string, HostTensor>, o: MoeLayerOptions): HostTensor {
  const { N, dim, topk, E, inter } = o;
  const gate = gateReference(inputs.x!, inputs.gate_weight!, inputs.gate_bias, o);
  const capacity = expertCapacity(o.capacity_factor, N, topk, E);
  const used = new Int32Array(E);
  const out = new Float64Array(N * dim);
  const x = inputs.x!.data;
  for (let t = 0; t < N; t++) {
    for (let k = 0; k < topk; k++) {
      const e = gate.indices.data[t * topk + k]!;
      if (used[e]!++ >= capacity) continue; // tokens arrive in index order: the first `capacity` are kept
      swigluAccumulate(x, t * dim, inputs.w1!.data, inputs.w3!.data, inputs.w2!.data, e * inter * dim, e * dim * inter, dim, inter, out, t * dim, gate.weights.data[t * topk + k]!);
    }
    if (o.shared_inter > 0) {
      swigluAccumulate(x, t * dim, inputs.shared_w1!.data, inputs.shared_w3!.data, inputs.shared_w2!.data, 0, 0, dim, o.shared_inter, out, t * dim, 1);
    }
  }
  return { shape: [N, dim], data: out };
}
