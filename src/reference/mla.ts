// Float64 references for Multi-head Latent Attention (DeepSeek-V2/V3 `inference/model.py`, class MLA).
//
// Cache per token: c_KV = RMSNorm(x W_DKV) [d_c] and one RoPE key k_pe = RoPE(x W_KR) [d_rope] shared by all
// heads. wkv_b [H*(dn+dv), d_c] holds, per head h, dn rows W_UK[h] then dv rows W_UV[h].
//   naive    : k_nope[s,h] = W_UK[h] c_KV[s], v[s,h] = W_UV[h] c_KV[s];
//              score = scale * (q_nope[h].k_nope[s,h] + q_pe[h].k_pe[s]); out = sum_s P v[s,h]
//   absorbed : q_lat[h] = q_nope[h] W_UK[h] ([d_c]); score = scale * (q_lat[h].c_KV[s] + q_pe[h].k_pe[s]);
//              o_lat = sum_s P c_KV[s]; out[h] = W_UV[h] o_lat
// Both are the same sum reordered (associativity of the matrix products); the reference keeps both so the
// tests can show it. Queries t = 0..T-1 sit at positions S-T+t; causal hides keys s > S-T+t.
import type { HostTensor } from '../kernels/tensor.ts';

export interface MlaDecodeDims {
  T: number;
  S: number;
  H: number;
  /** qk_nope_head_dim */
  dn: number;
  /** qk_rope_head_dim */
  dr: number;
  /** kv_lora_rank */
  dc: number;
  /** v_head_dim */
  dv: number;
  /** softmax_scale, as the model computed it (YaRN mscale included); never recomputed here. */
  scale: number;
  causal: boolean;
}

export interface MlaDecodeInputs {
  q_nope: HostTensor;
  q_pe: HostTensor;
  kv_latent: HostTensor;
  k_pe: HostTensor;
  wkv_b: HostTensor;
}

/** Last key index visible to query t, plus one. */
function keyEnd(d: MlaDecodeDims, t: number): number {
  return d.causal ? Math.min(d.S, d.S - d.T + t + 1) : d.S;
}

/** Softmax of `scores[0..n)` in place (max-subtracted); returns nothing visible as all zeros. */
function softmaxInPlace(scores: Float64Array, n: number): void {
  let max = -Infinity;
  for (let s = 0; s < n; s++) max = Math.max(max, scores[s]!);
  let sum = 0;
  for (let s = 0; s < n; s++) {
    const e = Math.exp(scores[s]! - max);
    scores[s] = e;
    sum += e;
  }
  for (let s = 0; s < n; s++) scores[s] = scores[s]! / sum;
}

/** attn_impl = "naive": expand the latent to per-head K (nope part) and V, then attend. */
export function mlaDecodeReference(x: MlaDecodeInputs, d: MlaDecodeDims): HostTensor {
  const { T, S, H, dn, dr, dc, dv, scale } = d;
  const rows = dn + dv;
  const kNope = new Float64Array(S * H * dn);
  const v = new Float64Array(S * H * dv);
  for (let s = 0; s < S; s++) {
    for (let h = 0; h < H; h++) {
      for (let j = 0; j < rows; j++) {
        const w = (h * rows + j) * dc;
        let acc = 0;
        for (let c = 0; c < dc; c++) acc += x.wkv_b.data[w + c]! * x.kv_latent.data[s * dc + c]!;
        if (j < dn) kNope[(s * H + h) * dn + j] = acc;
        else v[(s * H + h) * dv + (j - dn)] = acc;
      }
    }
  }
  const out = new Float64Array(T * H * dv);
  const p = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    const end = keyEnd(d, t);
    for (let h = 0; h < H; h++) {
      const qn = (t * H + h) * dn;
      const qr = (t * H + h) * dr;
      for (let s = 0; s < end; s++) {
        let dot = 0;
        for (let i = 0; i < dn; i++) dot += x.q_nope.data[qn + i]! * kNope[(s * H + h) * dn + i]!;
        for (let i = 0; i < dr; i++) dot += x.q_pe.data[qr + i]! * x.k_pe.data[s * dr + i]!;
        p[s] = dot * scale;
      }
      softmaxInPlace(p, end);
      const o = (t * H + h) * dv;
      for (let s = 0; s < end; s++) {
        for (let i = 0; i < dv; i++) out[o + i] += p[s]! * v[(s * H + h) * dv + i]!;
      }
    }
  }
  return { shape: [T, H, dv], data: out };
}

/** attn_impl = "absorb": W_UK folded into the query, P·c_KV accumulated in latent space, W_UV applied last. */
export function mlaDecodeAbsorbedReference(x: MlaDecodeInputs, d: MlaDecodeDims): HostTensor {
  const { T, H, dn, dr, dc, dv, scale } = d;
  const rows = dn + dv;
  const out = new Float64Array(T * H * dv);
  const qLat = new Float64Array(dc);
  const oLat = new Float64Array(dc);
  const p = new Float64Array(d.S);
  for (let t = 0; t < T; t++) {
    const end = keyEnd(d, t);
    for (let h = 0; h < H; h++) {
      qLat.fill(0);
      for (let i = 0; i < dn; i++) {
        const q = x.q_nope.data[(t * H + h) * dn + i]!;
        const w = (h * rows + i) * dc;
        for (let c = 0; c < dc; c++) qLat[c] += q * x.wkv_b.data[w + c]!;
      }
      for (let s = 0; s < end; s++) {
        let dot = 0;
        for (let c = 0; c < dc; c++) dot += qLat[c]! * x.kv_latent.data[s * dc + c]!;
        for (let i = 0; i < dr; i++) dot += x.q_pe.data[(t * H + h) * dr + i]! * x.k_pe.data[s * dr + i]!;
        p[s] = dot * scale;
      }
      softmaxInPlace(p, end);
      oLat.fill(0);
      for (let s = 0; s < end; s++) for (let c = 0; c < dc; c++) oLat[c] += p[s]! * x.kv_latent.data[s * dc + c]!;
      for (let i = 0; i < dv; i++) {
        const w = (h * rows + dn + i) * dc;
        let acc = 0;
        for (let c = 0; c < dc; c++) acc += x.wkv_b.data[w + c]! * oLat[c]!;
        out[(t * H + h) * dv + i] = acc;
      }
    }
  }
  return { shape: [T, H, dv], data: out };
}

export interface MlaCompressDims {
  /** New tokens written this step. */
  T: number;
  /** Cache rows (positions 0..S-1). */
  S: number;
  /** Position of the first new token; token t goes to cache row and RoPE position start + t. */
  start: number;
  /** Model hidden size (input x). */
  dim: number;
  dc: number;
  dr: number;
  /** RMSNorm epsilon (rms_norm_eps). */
  eps: number;
  /** RoPE base (rope_theta). */
  ropeTheta: number;
}

/**
 * cos/sin of the interleaved-pair RoPE, as `precompute_freqs_cis` builds it (without YaRN's frequency
 * correction): pair i of dimensions (2i, 2i+1) turns by angle pos * theta^(-2i/dr). Layout [T, dr/2, 2].
 */
export function ropeTable(start: number, T: number, dr: number, ropeTheta: number): Float64Array {
  const half = dr / 2;
  const table = new Float64Array(T * half * 2);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (start + t) * ropeTheta ** ((-2 * i) / dr);
      table[(t * half + i) * 2] = Math.cos(angle);
      table[(t * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

/**
 * mla.compress: kv = x wkv_a^T (wkv_a [dc+dr, dim] in nn.Linear layout: the first dc rows are W_DKV, the
 * last dr rows W_KR); c_KV = RMSNorm(kv[:dc]) * kv_norm; k_pe = RoPE(kv[dc:]) with pairs (2i, 2i+1) taken as
 * complex numbers (apply_rotary_emb's view_as_complex). Rows start..start+T-1 of the caches are written.
 * The other rows are not the kernel's to touch: they come back NaN here, meaning "left as they were".
 */
export function mlaCompressReference(
  x: HostTensor,
  wkvA: HostTensor,
  kvNorm: HostTensor,
  d: MlaCompressDims,
): { kv_latent: HostTensor; k_pe: HostTensor } {
  const { T, S, start, dim, dc, dr, eps } = d;
  const latent = new Float64Array(S * dc).fill(NaN);
  const pe = new Float64Array(S * dr).fill(NaN);
  const table = ropeTable(start, T, dr, d.ropeTheta);
  const kv = new Float64Array(dc + dr);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < dc + dr; j++) {
      let acc = 0;
      for (let k = 0; k < dim; k++) acc += x.data[t * dim + k]! * wkvA.data[j * dim + k]!;
      kv[j] = acc;
    }
    let sq = 0;
    for (let c = 0; c < dc; c++) sq += kv[c]! * kv[c]!;
    const inv = 1 / Math.sqrt(sq / dc + eps);
    const row = start + t;
    for (let c = 0; c < dc; c++) latent[row * dc + c] = kv[c]! * inv * kvNorm.data[c]!;
    for (let i = 0; i < dr / 2; i++) {
      const a = kv[dc + 2 * i]!;
      const b = kv[dc + 2 * i + 1]!;
      const cos = table[(t * (dr / 2) + i) * 2]!;
      const sin = table[(t * (dr / 2) + i) * 2 + 1]!;
      pe[row * dr + 2 * i] = a * cos - b * sin;
      pe[row * dr + 2 * i + 1] = a * sin + b * cos;
    }
  }
  return { kv_latent: { shape: [S, dc], data: latent }, k_pe: { shape: [S, dr], data: pe } };
}
