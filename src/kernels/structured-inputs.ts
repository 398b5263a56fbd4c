// Structured inputs for the pictures and step-throughs: inputs built so that attention has the shape real
// models show, instead of the noise random inputs give. Timing keeps random inputs (makeInputs).
//
// Attention (and the DSA indexer) get three kinds of strong keys, each from its own slice of the head dim:
//  - a local band: dims 0..2n-1 carry (cos ωj·pos, sin ωj·pos) in both q and k, so q_p·k_s = a² Σ cos(ωj (p−s)),
//    a kernel that peaks at p = s and falls off over `band` keys (frequencies spread over 0..π/band);
//  - attention sinks: one dim that every query and the first `sinks` keys share;
//  - needles: one dim that every query and a few far keys share (a fact the query looks up).
// Other keys carry only small noise. Logit targets are in units of the softmax's natural log.
// MoE gets token clusters: tokens in contiguous blocks near one of C centroids, and each expert group's gate rows
// near one centroid, so group-limited routing sends a cluster to "its" group.
import type { HostTensor } from './tensor.ts';
import type { Rng } from './random.ts';

export type InputKind = 'random' | 'structured';
export const INPUT_KINDS: readonly InputKind[] = ['random', 'structured'];

export interface AttentionStructure {
  /** Keys behind the query that the local band covers (the kernel's half-width). */
  band: number;
  /** The first `sinks` keys draw attention from every query. */
  sinks: number;
  /** Positions of the far "needle" keys. */
  needles: number[];
}

/** Band, sinks and needles for a context of S keys: a band of S/16 (at least 4), 2 sinks, needles at 30% and 55%. */
export function defaultStructure(S: number): AttentionStructure {
  const needles = [Math.floor(S * 0.3), Math.floor(S * 0.55)].filter((p, i, a) => p >= 2 && a.indexOf(p) === i);
  return { band: Math.max(4, Math.round(S / 16)), sinks: Math.min(2, S), needles };
}

/** Logits (scale · q·k) each kind of key reaches at its strongest. */
const BAND_LOGIT = 5;
const SINK_LOGIT = 5.5;
const NEEDLE_LOGIT = 6;
/** Standard deviation of the noise logit every key gets. */
const NOISE_LOGIT = 0.15;

interface Layout {
  freqs: number[];
  /** Weight of each frequency in the band's kernel (sum 1); q and k each carry its square root. */
  weights: number[];
  sinkDim: number;
  needleDim: number;
}

/** Dims: 2 per frequency (at most 8), then the sink and the needle dim; needs D >= 4. */
function layout(D: number, band: number): Layout {
  if (D < 4) throw new Error(`D: structured inputs need at least 4 dims, got ${D}`);
  const n = Math.min(8, Math.floor((D - 2) / 2));
  // ωj spread over (0, π/(1.5·band)) with Hann weights: Σ wj cos(ωj Δ) is a smooth bump, still 0.8 of its
  // peak at Δ = band − 1, with side lobes under 0.1 of it (its period, 6·n·band, lies beyond the picture's S).
  const freqs = Array.from({ length: n }, (_, j) => (Math.PI * (j + 0.5)) / (1.5 * n * band));
  const hann = freqs.map((_, j) => 0.5 + 0.5 * Math.cos((Math.PI * (j + 0.5)) / n));
  const total = hann.reduce((a, b) => a + b, 0);
  return { freqs, weights: hann.map((w) => w / total), sinkDim: 2 * n, needleDim: 2 * n + 1 };
}

/** One query's feature vector at position p: (a cos, a sin) pairs, then the sink and needle amplitudes. */
function queryVector(out: Float32Array, o: number, p: number, L: Layout, amp: { band: number; sink: number; needle: number }) {
  L.freqs.forEach((w, j) => {
    const a = amp.band * Math.sqrt(L.weights[j]!);
    out[o + 2 * j] = a * Math.cos(w * p);
    out[o + 2 * j + 1] = a * Math.sin(w * p);
  });
  out[o + L.sinkDim] = amp.sink;
  out[o + L.needleDim] = amp.needle;
}

/** Key s: the same positional pairs; the sink / needle dim only for those keys; small noise on every dim. */
function keyVector(out: Float32Array, o: number, s: number, D: number, L: Layout, st: AttentionStructure, amp: { band: number; sink: number; needle: number }, noise: number, rng: Rng) {
  for (let d = 0; d < D; d++) out[o + d] = noise * rng.normal();
  // Sinks and needles carry no position: their score is the same from every query.
  const special = s < st.sinks || st.needles.includes(s);
  if (!special) L.freqs.forEach((w, j) => {
    const a = amp.band * Math.sqrt(L.weights[j]!);
    out[o + 2 * j] += a * Math.cos(w * s);
    out[o + 2 * j + 1] += a * Math.sin(w * s);
  });
  if (s < st.sinks) out[o + L.sinkDim] += amp.sink;
  if (st.needles.includes(s)) out[o + L.needleDim] += amp.needle;
}

/** Amplitudes so that scale · q·k hits the logit targets: a² · scale = BAND_LOGIT (weights sum 1), b² · scale = SINK_LOGIT, ... */
function amplitudes(scale: number) {
  return {
    band: Math.sqrt(BAND_LOGIT / scale),
    sink: Math.sqrt(SINK_LOGIT / scale),
    needle: Math.sqrt(NEEDLE_LOGIT / scale),
  };
}

export interface AttentionShapeLike {
  T: number;
  S: number;
  Hq: number;
  Hkv: number;
  D: number;
  scale: number;
}

/** q [T, Hq, D], k, v [S, Hkv, D] with the band, sinks and needles; queries at positions S−T .. S−1. */
export function structuredAttention(c: AttentionShapeLike, rng: Rng, st: AttentionStructure = defaultStructure(c.S)): Record<'q' | 'k' | 'v', HostTensor> {
  const L = layout(c.D, st.band);
  const amp = amplitudes(c.scale);
  // Noise per key dim so the noise logit (q·noise · scale) has the target spread: |q|² σ² scale² = NOISE².
  const qNorm = Math.sqrt(amp.band ** 2 + amp.sink ** 2 + amp.needle ** 2);
  const noise = NOISE_LOGIT / (qNorm * c.scale);
  const q = new Float32Array(c.T * c.Hq * c.D);
  for (let t = 0; t < c.T; t++) for (let h = 0; h < c.Hq; h++) queryVector(q, (t * c.Hq + h) * c.D, c.S - c.T + t, L, amp);
  const k = new Float32Array(c.S * c.Hkv * c.D);
  for (let s = 0; s < c.S; s++) for (let h = 0; h < c.Hkv; h++) keyVector(k, (s * c.Hkv + h) * c.D, s, c.D, L, st, amp, noise, rng);
  const v = new Float32Array(c.S * c.Hkv * c.D);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return { q: { shape: [c.T, c.Hq, c.D], data: q }, k: { shape: [c.S, c.Hkv, c.D], data: k }, v: { shape: [c.S, c.Hkv, c.D], data: v } };
}

/**
 * The DSA lightning indexer's inputs with the same structure: every index head holds the query's feature
 * vector and weighs 1/Hi, so I[t,s] = ReLU(q·k_s) (ReLU clips the band's negative side lobes): its largest
 * scores are the band, the sinks and the needles, which is what top-k then keeps.
 */
export function structuredIndexer(c: { T: number; S: number; Hi: number; Di: number }, rng: Rng, st: AttentionStructure = defaultStructure(c.S)): Record<'q_index' | 'k_index' | 'w_index', HostTensor> {
  const L = layout(c.Di, st.band);
  // Indexer scores need no softmax scale; unit scale keeps them O(logit targets).
  const amp = amplitudes(1);
  const qNorm = Math.sqrt(amp.band ** 2 + amp.sink ** 2 + amp.needle ** 2);
  const qI = new Float32Array(c.T * c.Hi * c.Di);
  for (let t = 0; t < c.T; t++) for (let j = 0; j < c.Hi; j++) queryVector(qI, (t * c.Hi + j) * c.Di, c.S - c.T + t, L, amp);
  const kI = new Float32Array(c.S * c.Di);
  for (let s = 0; s < c.S; s++) keyVector(kI, s * c.Di, s, c.Di, L, st, amp, NOISE_LOGIT / qNorm, rng);
  const w = new Float32Array(c.T * c.Hi).fill(1 / c.Hi);
  return { q_index: { shape: [c.T, c.Hi, c.Di], data: qI }, k_index: { shape: [c.S, c.Di], data: kI }, w_index: { shape: [c.T, c.Hi], data: w } };
}

export interface RoutingShapeLike {
  N: number;
  dim: number;
  E: number;
  n_groups: number;
}

/** Clusters of tokens: one per expert group (4 without groups, at most E). */
export function clusterCount(c: RoutingShapeLike): number {
  return c.n_groups > 1 ? c.n_groups : Math.min(4, c.E);
}

/** Token n's cluster: contiguous blocks of tokens, so the routing picture shows them as bands. */
export const tokenCluster = (n: number, N: number, C: number) => Math.floor((n * C) / N);
/** Expert e's cluster: its group (experts of a group are contiguous), or e mod C without groups. */
export const expertCluster = (e: number, c: RoutingShapeLike) => (c.n_groups > 1 ? Math.floor(e / (c.E / c.n_groups)) : e % clusterCount(c));

/**
 * x [N, dim] and gate_weight [E, dim] (and a zero gate_bias when asked): token n = its cluster's centroid +
 * noise, expert row e = its cluster's centroid · γ + noise, so a token's affinity is high for its cluster's
 * experts; the noise on the gate rows orders the experts within a group.
 */
export function structuredRouting(c: RoutingShapeLike & { bias?: boolean }, rng: Rng): Record<string, HostTensor> {
  const C = clusterCount(c);
  const centroids = Array.from({ length: C }, () => {
    const v = Float64Array.from({ length: c.dim }, () => rng.normal());
    const norm = Math.hypot(...v);
    return v.map((x) => (x / norm) * Math.sqrt(c.dim));
  });
  const x = new Float32Array(c.N * c.dim);
  for (let n = 0; n < c.N; n++) {
    const mu = centroids[tokenCluster(n, c.N, C)]!;
    for (let d = 0; d < c.dim; d++) x[n * c.dim + d] = mu[d]! + 0.3 * rng.normal();
  }
  // Logit of a token for its own cluster's experts ≈ γ · dim / sqrt(dim) ... scaled so it is ≈ 3 above the others.
  const gamma = 3 / c.dim;
  const gate = new Float32Array(c.E * c.dim);
  for (let e = 0; e < c.E; e++) {
    const mu = centroids[expertCluster(e, c)]!;
    for (let d = 0; d < c.dim; d++) gate[e * c.dim + d] = gamma * mu[d]! + (0.5 / Math.sqrt(c.dim)) * rng.normal();
  }
  const out: Record<string, HostTensor> = { x: { shape: [c.N, c.dim], data: x }, gate_weight: { shape: [c.E, c.dim], data: gate } };
  if (c.bias) out.gate_bias = { shape: [c.E], data: new Float32Array(c.E) };
  return out;
}
