// Float64 reference of one DeepSeek-V3.2 decoder layer (DeepSeek-V3.2-Exp inference/model.py, class Block):
//   h = x + attn(attn_norm(x)),   out = h + ffn(ffn_norm(h)).
// The sequence has positions 0..S-1 (x [S, dim], all of them in the cache); the last T are the new tokens, whose
// queries sit at S-T..S-1. Only those T rows of h and out are produced.
// attn = MLA (q: wq_a -> q_norm -> wq_b; kv: wkv_a -> kv_norm, decoupled RoPE interleaved) with the DSA lightning
// indexer choosing min(index_topk, visible) latent rows per query; the absorbed attention runs over those rows.
// ffn = the DeepSeek-V3 MoE (./moe.ts). The FP8 casts and the Hadamard rotation upstream applies to the indexer's
// q and k are left out: the Hadamard is orthogonal (q.k unchanged) and FP8 is a storage format, not the math.
import type { HostTensor } from '../kernels/tensor.ts';
import { mlaCompressReference, mlaDecodeAbsorbedReference, ropeTable } from './mla.ts';
import { denseFfnReference, gateReference, moeLayerReference } from './moe.ts';
import { attentionReference, causalMask } from './attention.ts';
import { causalRowLength, indexerReference, keyListAttentionReference, topkReference } from './sparse.ts';

export interface DecoderLayerConfig {
  dim: number;
  n_heads: number;
  q_lora_rank: number;
  kv_lora_rank: number;
  qk_nope_head_dim: number;
  qk_rope_head_dim: number;
  v_head_dim: number;
  index_n_heads: number;
  index_head_dim: number;
  index_topk: number;
  n_routed_experts: number;
  n_activated_experts: number;
  n_expert_groups: number;
  n_limited_groups: number;
  route_scale: number;
  moe_inter_dim: number;
  n_shared_experts: number;
  rope_theta: number;
  /** As the model computed it (YaRN mscale included); never recomputed here. */
  softmax_scale: number;
  /** The 'gqa' variant's KV heads (not an upstream field). */
  gqa_kv_heads?: number;
  T: number;
  S: number;
}

/** Upstream's eps for RMSNorm and the indexer's LayerNorm. */
export const NORM_EPS = 1e-6;

const CONFIG_KEYS: (keyof DecoderLayerConfig)[] = [
  'dim', 'n_heads', 'q_lora_rank', 'kv_lora_rank', 'qk_nope_head_dim', 'qk_rope_head_dim', 'v_head_dim', 'index_n_heads',
  'index_head_dim', 'index_topk', 'n_routed_experts', 'n_activated_experts', 'n_expert_groups', 'n_limited_groups',
  'route_scale', 'moe_inter_dim', 'n_shared_experts', 'rope_theta', 'softmax_scale', 'T', 'S',
];

/** The config from a golden file's metadata (decimal strings); throws on a missing or non-numeric entry. */
export function decoderLayerConfigFrom(meta: Record<string, string>): DecoderLayerConfig {
  const c = {} as Record<string, number>;
  for (const k of CONFIG_KEYS) {
    const v = Number(meta[k]);
    if (meta[k] === undefined || !Number.isFinite(v)) throw new Error(`layer metadata: "${k}" missing or not a number`);
    c[k] = v;
  }
  return c as unknown as DecoderLayerConfig;
}

/** y [N, out] = x [N, in] W^T, W in nn.Linear layout [out, in]. */
export function linearReference(x: ArrayLike<number>, w: HostTensor, N: number): Float64Array {
  const [outDim, inDim] = w.shape as [number, number];
  const y = new Float64Array(N * outDim);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < outDim; o++) {
      let acc = 0;
      for (let k = 0; k < inDim; k++) acc += x[n * inDim + k]! * w.data[o * inDim + k]!;
      y[n * outDim + o] = acc;
    }
  }
  return y;
}

/** RMSNorm over rows of length d: x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNormReference(x: ArrayLike<number>, weight: HostTensor, N: number, d: number, eps = NORM_EPS): Float64Array {
  const y = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    let sq = 0;
    for (let i = 0; i < d; i++) sq += x[n * d + i]! ** 2;
    const inv = 1 / Math.sqrt(sq / d + eps);
    for (let i = 0; i < d; i++) y[n * d + i] = x[n * d + i]! * inv * weight.data[i]!;
  }
  return y;
}

/** LayerNorm over rows of length d (biased variance, as torch's F.layer_norm): (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNormReference(x: ArrayLike<number>, weight: HostTensor, bias: HostTensor, N: number, d: number, eps = NORM_EPS): Float64Array {
  const y = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[n * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[n * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[n * d + i] = (x[n * d + i]! - mean) * inv * weight.data[i]! + bias.data[i]!;
  }
  return y;
}

/** Which dimensions RoPE turns together: (2i, 2i+1) (MLA, view_as_complex) or (i, i+dr/2) (the indexer, interleaved=False). */
export type RopeLayout = 'interleaved' | 'half';

/**
 * Rotates, in place, the first dr entries of `heads` vectors of `stride` values per row, row r at position
 * start + r: pair i turns by angle pos * theta^(-2i/dr) (the same frequencies in both layouts).
 */
export function applyRope(v: Float64Array, rows: number, heads: number, stride: number, offset: number, dr: number, start: number, theta: number, layout: RopeLayout): void {
  const half = dr / 2;
  const table = ropeTable(start, rows, dr, theta);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * stride + offset;
      for (let i = 0; i < half; i++) {
        const ia = base + (layout === 'interleaved' ? 2 * i : i);
        const ib = base + (layout === 'interleaved' ? 2 * i + 1 : i + half);
        const cos = table[(r * half + i) * 2]!;
        const sin = table[(r * half + i) * 2 + 1]!;
        const a = v[ia]!;
        const b = v[ib]!;
        v[ia] = a * cos - b * sin;
        v[ib] = a * sin + b * cos;
      }
    }
  }
}

/**
 * 'dsa': V3.2 (indexer + top-k); 'dense': V3 (every causal key), the same weights with the indexer unused;
 * 'gqa': per-head K and V of `gqa_kv_heads` KV heads, each head's K and V projections (W_UK, W_UV) the mean of
 * its group's (Ainslie et al. 2023, MHA -> GQA by mean-pooling; with gqa_kv_heads = n_heads it is 'dense').
 */
export type LayerAttention = 'dsa' | 'dense' | 'gqa';

/**
 * 'moe': DeepSeek-V3's MoE (`ffn.gate`, `ffn.experts`, `ffn.shared_experts`); 'dense': upstream's MLP
 * (`ffn.w1/w2/w3.weight`, the first dense layers' FFN), given the MoE's active width (topk + shared) x moe_inter.
 */
export type LayerFfn = 'moe' | 'dense';

export const denseFfnInter = (c: Pick<DecoderLayerConfig, 'n_activated_experts' | 'n_shared_experts' | 'moe_inter_dim'>) =>
  (c.n_activated_experts + c.n_shared_experts) * c.moe_inter_dim;

export interface DecoderLayerResult {
  h: HostTensor;
  out: HostTensor;
  /** [T, min(index_topk, S)] selected cache rows, ascending, -1 padded ('dsa' only). */
  selected?: HostTensor;
  /** [T, n_activated_experts] routed experts of each new token ('moe' only). */
  experts?: HostTensor;
  /** What the selections were made from, for decision margins: index scores [T, S] ('dsa'), the FFN input [T, dim]. */
  trace: { indexScores?: HostTensor; ffnIn: HostTensor };
}

const slice = (a: ArrayLike<number>, from: number, to: number) => Float64Array.from({ length: to - from }, (_, i) => a[from + i]!);
const tensor = (shape: number[], data: Float64Array): HostTensor => ({ shape, data });

/** KV heads of the 'gqa' variant: min(gqa_kv_heads, n_heads); n_heads must be a multiple of it. */
export function gqaKvHeads(c: DecoderLayerConfig): number {
  if (c.gqa_kv_heads === undefined) throw new Error('layer: the gqa variant needs gqa_kv_heads');
  const G = Math.min(c.gqa_kv_heads, c.n_heads);
  if (c.n_heads % G !== 0) throw new Error(`layer: n_heads = ${c.n_heads} is not a multiple of gqa_kv_heads = ${G}`);
  return G;
}

/**
 * wkv_b [H·(dn+dv), dc] mean-pooled over each group of H/G consecutive heads: [G·(dn+dv), dc]. K = W_UK c_KV and
 * V = W_UV c_KV are linear in the weights, so this is the mean of the group's expanded K and V heads.
 */
export function pooledWkvB(wkvb: HostTensor, H: number, G: number): HostTensor {
  const per = wkvb.data.length / H; // (dn + dv) · dc values per head
  const group = H / G;
  const out = new Float64Array(G * per);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    for (let i = 0; i < per; i++) out[g * per + i] += wkvb.data[h * per + i]! / group;
  }
  return tensor([G * per / wkvb.shape[1]!, wkvb.shape[1]!], out);
}

/**
 * What a server keeps for the layer between steps, as the GPU layer stores it: the cache rows 0..n-1 and, for
 * 'gqa', the pooled wkv_b (converted once). 'dsa': `kv` [n, dc+dr] rows [c_KV ; RoPE(k_pe)] and `k_index` [n, Di];
 * 'dense': `kv_latent` [n, dc] and `k_pe` [n, dr]; 'gqa': `k` [n, G, dn+dr] = [W_UK c_KV ; k_pe] and `v`
 * [n, G, dn+dr] = W_UV c_KV padded with zeros to the key width (the flash kernels take one head width).
 */
export type LayerState = Record<string, HostTensor>;

/** The state's cache rows [from, to) from x's rows [from, to) (attn_norm included, returned as `xn`). */
export function layerCacheRows(w: Record<string, HostTensor>, c: DecoderLayerConfig, attention: LayerAttention, from: number, to: number, wkvbGqa?: HostTensor): LayerState {
  const { dim } = c;
  const n = to - from;
  const dc = c.kv_lora_rank;
  const dr = c.qk_rope_head_dim;
  const xn = rmsNormReference(w.x!.data.subarray(from * dim, to * dim), w['attn_norm.weight']!, n, dim);
  const { kv_latent: kvFull, k_pe: peFull } = mlaCompressReference(tensor([n, dim], xn), w['attn.wkv_a.weight']!, w['attn.kv_norm.weight']!, {
    T: n, S: to, start: from, dim, dc, dr, eps: NORM_EPS, ropeTheta: c.rope_theta,
  });
  const latent = slice(kvFull.data, from * dc, to * dc);
  const pe = slice(peFull.data, from * dr, to * dr);
  const out: LayerState = { xn: tensor([n, dim], xn) };
  if (attention === 'dense') return { ...out, kv_latent: tensor([n, dc], latent), k_pe: tensor([n, dr], pe) };
  if (attention === 'dsa') {
    const Di = c.index_head_dim;
    const D = dc + dr;
    const rows = new Float64Array(n * D);
    for (let s = 0; s < n; s++) {
      rows.set(latent.subarray(s * dc, (s + 1) * dc), s * D);
      rows.set(pe.subarray(s * dr, (s + 1) * dr), s * D + dc);
    }
    const kI = layerNormReference(linearReference(xn, w['attn.indexer.wk.weight']!, n), w['attn.indexer.k_norm.weight']!, w['attn.indexer.k_norm.bias']!, n, Di);
    applyRope(kI, n, 1, Di, 0, dr, from, c.rope_theta, 'half');
    return { ...out, kv: tensor([n, D], rows), k_index: tensor([n, Di], kI) };
  }
  // gqa: K[s, g] = [W_UK[g] c_KV[s] ; k_pe[s]], V[s, g] = W_UV[g] c_KV[s], with the pooled W_UK, W_UV.
  const G = gqaKvHeads(c);
  const dn = c.qk_nope_head_dim;
  const dv = c.v_head_dim;
  const D2 = dn + dr;
  const wb = (wkvbGqa ?? pooledWkvB(w['attn.wkv_b.weight']!, c.n_heads, G)).data;
  const k = new Float64Array(n * G * D2);
  const v = new Float64Array(n * G * D2);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < G; g++) {
      const o = (s * G + g) * D2;
      for (let i = 0; i < dn + dv; i++) {
        let acc = 0;
        for (let j = 0; j < dc; j++) acc += wb[(g * (dn + dv) + i) * dc + j]! * latent[s * dc + j]!;
        if (i < dn) k[o + i] = acc;
        else v[o + i - dn] = acc;
      }
      k.set(pe.subarray(s * dr, (s + 1) * dr), o + dn);
    }
  }
  return { ...out, k: tensor([n, G, D2], k), v: tensor([n, G, D2], v) };
}

/** The state before this step: 'gqa''s pooled wkv_b and the cache rows of the S - T earlier tokens. */
export function layerPrefill(w: Record<string, HostTensor>, c: DecoderLayerConfig, attention: LayerAttention = 'dsa'): LayerState {
  const wkvb = attention === 'gqa' ? pooledWkvB(w['attn.wkv_b.weight']!, c.n_heads, gqaKvHeads(c)) : undefined;
  const { xn: _xn, ...rows } = layerCacheRows(w, c, attention, 0, c.S - c.T, wkvb);
  return wkvb ? { ...rows, wkv_b_gqa: wkvb } : rows;
}

/** [old ; fresh] row-wise, read lazily: element i reads old[i] only when asked (a traced cache stays exact). */
function joined(old: HostTensor['data'] | undefined, fresh: Float64Array): HostTensor['data'] {
  const split = old?.length ?? 0;
  const all = new Float64Array(split + fresh.length);
  return new Proxy(all, {
    get(target, prop) {
      if (typeof prop === 'string' && prop.length > 0 && prop.charCodeAt(0) <= 57) {
        const i = Number(prop);
        if (Number.isInteger(i) && i >= 0 && i < target.length) return i < split ? old![i] : fresh[i - split];
      }
      const v = Reflect.get(target, prop, target);
      if (typeof v === 'function') throw new Error(`layer reference: the joined cache supports indexed reads only, not ${String(prop)}`);
      return v;
    },
  });
}

/** The whole layer on x [S, dim]: prefill (earlier cache rows), then this step. */
export function decoderLayerReference(w: Record<string, HostTensor>, c: DecoderLayerConfig, attention: LayerAttention = 'dsa', ffn: LayerFfn = 'moe'): DecoderLayerResult {
  return decoderLayerStep(w, layerPrefill(w, c, attention), c, attention, ffn);
}

/**
 * One step: the T new tokens' cache rows, then attention over the state's rows and the new ones, and the FFN.
 * It reads x's last T rows, the weights the step uses and the cache rows the attention looks at; nothing else.
 */
export function decoderLayerStep(w: Record<string, HostTensor>, state: LayerState, c: DecoderLayerConfig, attention: LayerAttention = 'dsa', ffn: LayerFfn = 'moe'): DecoderLayerResult {
  const { dim, T, S } = c;
  const H = c.n_heads;
  const dn = c.qk_nope_head_dim;
  const dr = c.qk_rope_head_dim;
  const dc = c.kv_lora_rank;
  const dv = c.v_head_dim;
  const Hi = c.index_n_heads;
  const Di = c.index_head_dim;
  const x = w.x!.data;
  const first = S - T;
  const fresh = layerCacheRows(w, c, attention, first, S, state.wkv_b_gqa);
  const all = (name: string, shape: number[]) => tensor(shape, joined(state[name]?.data, fresh[name]!.data as Float64Array) as Float64Array);
  const xnNew = fresh.xn!.data;

  // Queries: qr = q_norm(wq_a x) is shared by MLA and the indexer.
  const qr = rmsNormReference(linearReference(xnNew, w['attn.wq_a.weight']!, T), w['attn.q_norm.weight']!, T, c.q_lora_rank);
  const q = linearReference(qr, w['attn.wq_b.weight']!, T); // [T, H, dn+dr]
  applyRope(q, T, H, dn + dr, dn, dr, first, c.rope_theta, 'interleaved');
  const qNope = new Float64Array(T * H * dn);
  const qPe = new Float64Array(T * H * dr);
  for (let r = 0; r < T * H; r++) {
    qNope.set(q.subarray(r * (dn + dr), r * (dn + dr) + dn), r * dn);
    qPe.set(q.subarray(r * (dn + dr) + dn, (r + 1) * (dn + dr)), r * dr);
  }
  const dims = { T, S, H, dn, dr, dc, dv, scale: c.softmax_scale, causal: true };

  let o: Float64Array; // [T, H, dv]
  let selected: HostTensor | undefined;
  let indexScores: HostTensor | undefined;
  if (attention === 'dense') {
    const mlaIn = { q_nope: tensor([T, H, dn], qNope), q_pe: tensor([T, H, dr], qPe), kv_latent: all('kv_latent', [S, dc]), k_pe: all('k_pe', [S, dr]), wkv_b: w['attn.wkv_b.weight']! };
    o = mlaDecodeAbsorbedReference(mlaIn, dims).data as Float64Array;
  } else if (attention === 'gqa') {
    // Plain GQA over the per-head cache: query [q_nope ; q_pe] per head, V padded to the key width, first dv kept.
    const G = gqaKvHeads(c);
    const D2 = dn + dr;
    const shape = { T, S, Hq: H, Hkv: G, D: D2, scale: c.softmax_scale };
    const att = attentionReference(tensor([T, H, D2], q), all('k', [S, G, D2]), all('v', [S, G, D2]), shape, causalMask).data;
    o = new Float64Array(T * H * dv);
    for (let r = 0; r < T * H; r++) o.set(att.subarray(r * D2, r * D2 + dv), r * dv);
  } else {
    // Indexer: q_I = wq_b(qr) [T, Hi, Di] (RoPE, half layout, on the first dr dims) against the cached k_index.
    const qI = linearReference(qr, w['attn.indexer.wq_b.weight']!, T);
    applyRope(qI, T, Hi, Di, 0, dr, first, c.rope_theta, 'half');
    const wI = linearReference(xnNew, w['attn.indexer.weights_proj.weight']!, T).map((v) => v * Hi ** -0.5 * Di ** -0.5);
    const scores = (indexScores = indexerReference(tensor([T, Hi, Di], qI), all('k_index', [S, Di]), tensor([T, Hi], wI), { T, S, Hi, Di, causal: true }));
    const k = Math.min(c.index_topk, S);
    selected = topkReference(scores, T, S, k, 'index', causalRowLength(T, S)).indices;

    // Absorbed attention over the selected rows: query [q_nope W_UK ; q_pe] against the rows [c_KV ; k_pe],
    // values = the c_KV part of the same rows, then W_UV per head.
    const D = dc + dr;
    const wkvb = w['attn.wkv_b.weight']!.data;
    const qAbs = new Float64Array(T * H * D);
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const qo = (t * H + h) * D;
        for (let i = 0; i < dn; i++) {
          const qv = qNope[(t * H + h) * dn + i]!;
          const wr = (h * (dn + dv) + i) * dc;
          for (let j = 0; j < dc; j++) qAbs[qo + j] += qv * wkvb[wr + j]!;
        }
        qAbs.set(qPe.subarray((t * H + h) * dr, (t * H + h + 1) * dr), qo + dc);
      }
    }
    const lat = all('kv', [S, D]);
    const oLat = keyListAttentionReference(tensor([T, H, D], qAbs), lat, lat, selected, { T, S, Hq: H, Hkv: 1, D, Dv: dc, scale: c.softmax_scale, causal: true }, D).data;
    o = new Float64Array(T * H * dv);
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < dv; i++) {
          const wr = (h * (dn + dv) + dn + i) * dc;
          let acc = 0;
          for (let j = 0; j < dc; j++) acc += wkvb[wr + j]! * oLat[(t * H + h) * dc + j]!;
          o[(t * H + h) * dv + i] = acc;
        }
      }
    }
  }

  const attnOut = linearReference(o, w['attn.wo.weight']!, T);
  const h = new Float64Array(T * dim);
  for (let i = 0; i < T * dim; i++) h[i] = x[first * dim + i]! + attnOut[i]!;

  const hn = tensor([T, dim], rmsNormReference(h, w['ffn_norm.weight']!, T, dim));
  const trace = { indexScores, ffnIn: hn };
  if (ffn === 'dense') {
    const f = denseFfnReference(hn, w['ffn.w1.weight']!, w['ffn.w2.weight']!, w['ffn.w3.weight']!, { N: T, dim, inter: denseFfnInter(c) });
    return { h: tensor([T, dim], h), out: tensor([T, dim], h.map((v, i) => v + f.data[i]!)), selected, trace };
  }
  const moeOptions = {
    N: T, dim, E: c.n_routed_experts, topk: c.n_activated_experts, n_groups: c.n_expert_groups, topk_groups: c.n_limited_groups,
    score_func: 'sigmoid' as const, routing: 'deepseek' as const, route_scale: c.route_scale,
    inter: c.moe_inter_dim, shared_inter: c.n_shared_experts * c.moe_inter_dim, capacity_factor: 0,
  };
  // The routing again, only to report it: moeLayerReference routes internally by the same gate.
  const experts = gateReference(hn, w['ffn.gate.weight']!, w['ffn.gate.bias']!, moeOptions).indices;
  const moe = moeLayerReference({
    x: hn, gate_weight: w['ffn.gate.weight']!, gate_bias: w['ffn.gate.bias']!,
    w1: w['ffn.experts.w1']!, w2: w['ffn.experts.w2']!, w3: w['ffn.experts.w3']!,
    shared_w1: w['ffn.shared_experts.w1.weight']!, shared_w2: w['ffn.shared_experts.w2.weight']!, shared_w3: w['ffn.shared_experts.w3.weight']!,
  }, moeOptions);
  const out = new Float64Array(T * dim);
  for (let i = 0; i < T * dim; i++) out[i] = h[i]! + moe.data[i]!;
  return { h: tensor([T, dim], h), out: tensor([T, dim], out), selected, experts, trace };
}
