// What the decoder-layer kernel shares with its study: the config (DeepSeek-V3.2's hyper-parameters under their
// config names, T new of S tokens, the attention and FFN variants), the sub-kernel configs it is built from, the
// rules, and the cost of every stage by the same names the instance times.
import type { DeviceCaps } from '../../gpu/context.ts';
import type { ConfigSchema, Cost, ValidationIssue } from '../contract.ts';
import type { DecoderLayerConfig, LayerAttention, LayerFfn } from '../../reference/layer.ts';
import { denseFfnInter } from '../../reference/layer.ts';
import { dsa, type DsaConfig } from '../sparse/dsa.ts';
import { indexerCost } from '../sparse/indexer.ts';
import { dsaAttentionCost, dsaAttentionRunCost } from '../sparse/dsa-attention.ts';
import { expectedRoutedWork, routedWorkFromIndices } from '../moe/moe-cost.ts';
import { expertCapacity } from '../../reference/moe.ts';
import { mlaDecodeAbsorbed, type MlaAbsorbedConfig } from '../mla/decode-absorbed.ts';
import { mlaDecodeNaive } from '../mla/decode-naive.ts';
import { FLASH_DECODE_MAX_T, flashDecode } from '../attention/flash-decode.ts';
import { flashPrefill } from '../attention/flash-prefill.ts';
import type { AttentionConfig } from '../attention/attention-config.ts';
import { checkForward, forwardStageCosts, type MoeForwardConfig } from '../moe/forward.ts';
import { moeDenseFfn, type DenseFfnConfig } from '../moe/dense-ffn.ts';
import { swigluCost } from '../moe/grouped-ffn.ts';
import { normCost } from './norm.ts';
import { ropeCost } from './rope.ts';
import { addCost } from './residual-add.ts';

/**
 * mla_dsa: V3.2 (MLA absorbed over the indexer's top-k latent rows); mla_dense: V3 (MLA absorbed over every causal
 * row); mla_naive: the latent expanded to per-head K/V every step; mha: the same weights as plain MHA, per-head K
 * [k_nope ; k_pe] and V expanded once per token into the cache. Those three compute the same function. gqa: MHA
 * with gqa_kv_heads KV heads whose K and V projections are the mean of their group's (Ainslie et al. 2023's
 * MHA -> GQA conversion, without the uptraining): a different function of the same weights.
 */
export const ATTENTION_VARIANTS = ['mla_dsa', 'mla_dense', 'mla_naive', 'mha', 'gqa'] as const;
export const FFN_VARIANTS = ['moe', 'dense'] as const;

export type LayerConfig = { [K in keyof DecoderLayerConfig]: DecoderLayerConfig[K] } & { attention: string; ffn: string; gqa_kv_heads: number };

export const refAttention = (c: LayerConfig): LayerAttention => (c.attention === 'mla_dsa' ? 'dsa' : c.attention === 'gqa' ? 'gqa' : 'dense');

/** KV heads of the cache: H for mha, min(gqa_kv_heads, H) for gqa (query head h reads KV head floor(h / (H / Hkv))). */
export const kvHeads = (c: LayerConfig): number => (c.attention === 'gqa' ? Math.min(c.gqa_kv_heads, c.n_heads) : c.n_heads);

/** Per-head K and V in the cache (the flash-attention variants). */
export const perHeadCache = (c: LayerConfig): boolean => c.attention === 'mha' || c.attention === 'gqa';
export const refFfn = (c: LayerConfig): LayerFfn => c.ffn as LayerFfn;

const int = (label: string, def: number, min: number, max: number, doc: string) => ({ type: 'int' as const, label, default: def, min, max, doc });

export const layerSchema: ConfigSchema<LayerConfig> = {
  attention: {
    type: 'enum',
    label: 'attention',
    doc: 'mla_dsa: DeepSeek-V3.2 (absorbed MLA over the indexer\'s top-k latent rows); mla_dense: DeepSeek-V3 (absorbed, every row); mla_naive: latent expanded per head every step; mha: per-head K and V cached (flash attention); gqa: gqa_kv_heads KV heads, each the mean of its group\'s K/V projections (MHA -> GQA conversion); same weights',
    default: 'mla_dsa',
    values: ATTENTION_VARIANTS,
  },
  ffn: {
    type: 'enum',
    label: 'FFN',
    doc: 'moe: routed top-k + shared experts; dense: one SwiGLU of the same active width (n_activated + n_shared) x moe_inter_dim (ffn.w1/w2/w3)',
    default: 'moe',
    values: FFN_VARIANTS,
  },
  gqa_kv_heads: int('GQA KV heads', 8, 1, 256, 'gqa only: KV heads (min with n_heads; n_heads must be a multiple), each the mean of its group of n_heads / KV heads'),
  T: int('new tokens T', 1, 1, 1 << 16, 'tokens this step, at positions S-T .. S-1 (decode: 1)'),
  S: int('tokens S', 64, 1, 1 << 20, 'positions 0 .. S-1, all of them in the cache after this step'),
  dim: int('hidden size', 64, 4, 16384, 'model width (DeepSeek-V3.2: 7168)'),
  n_heads: int('heads', 2, 1, 256, 'attention heads (DeepSeek-V3.2: 128)'),
  q_lora_rank: int('q_lora_rank', 32, 1, 8192, 'compressed query width (DeepSeek-V3.2: 1536)'),
  kv_lora_rank: int('kv_lora_rank d_c', 32, 4, 2048, 'latent cache width, a multiple of 4 (DeepSeek-V3.2: 512)'),
  qk_nope_head_dim: int('qk_nope_head_dim', 16, 1, 512, 'per-head query/key width without RoPE (DeepSeek-V3.2: 128)'),
  qk_rope_head_dim: int('qk_rope_head_dim', 8, 4, 256, 'decoupled RoPE width, a multiple of 4 (DeepSeek-V3.2: 64)'),
  v_head_dim: int('v_head_dim', 16, 1, 512, 'per-head value width (DeepSeek-V3.2: 128)'),
  index_n_heads: int('index heads', 2, 1, 256, 'lightning indexer heads (DeepSeek-V3.2: 64)'),
  index_head_dim: int('index head dim', 16, 4, 512, 'indexer q/k width, at least qk_rope_head_dim (DeepSeek-V3.2: 128)'),
  index_topk: int('index top-k', 8, 1, 1 << 16, 'latent rows each query attends to (DeepSeek-V3.2: 2048)'),
  n_routed_experts: int('routed experts', 8, 1, 384, 'DeepSeek-V3.2: 256'),
  n_activated_experts: int('experts per token', 2, 1, 32, 'DeepSeek-V3.2: 8'),
  n_expert_groups: int('expert groups', 2, 1, 64, 'DeepSeek-V3.2: 8'),
  n_limited_groups: int('groups kept', 1, 1, 64, 'DeepSeek-V3.2: 4'),
  route_scale: { type: 'number', label: 'route scale', doc: 'DeepSeek-V3.2: 2.5', default: 2.5, min: 1e-3, max: 1e3 },
  moe_inter_dim: int('expert hidden dim', 16, 4, 65536, 'DeepSeek-V3.2: 2048'),
  n_shared_experts: int('shared experts', 1, 1, 8, 'DeepSeek-V3.2: 1'),
  rope_theta: { type: 'number', label: 'rope_theta', doc: 'RoPE base (DeepSeek-V3.2: 10000)', default: 10000, min: 1, max: 1e9 },
  softmax_scale: { type: 'number', label: 'softmax scale', doc: "the model's own (dn + dr)^-0.5 times YaRN's mscale^2; never recomputed", default: 0.2041241452319315, min: 1e-6, max: 1e3 },
};

/** DeepSeek-V3.2-Exp config.json (one layer); softmax_scale = 192^-0.5 * mscale^2, mscale = 0.1 ln(40) + 1 (YaRN). */
export const V32: Partial<LayerConfig> = {
  dim: 7168, n_heads: 128, q_lora_rank: 1536, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128,
  index_n_heads: 64, index_head_dim: 128, index_topk: 2048, n_routed_experts: 256, n_activated_experts: 8, n_expert_groups: 8, n_limited_groups: 4,
  route_scale: 2.5, moe_inter_dim: 2048, n_shared_experts: 1, rope_theta: 10000, softmax_scale: 192 ** -0.5 * (0.1 * Math.log(40) + 1) ** 2,
  // Not V3.2's: the GQA variant's KV heads (16 query heads each).
  gqa_kv_heads: 8,
};

/** The measured shape: V32 with these fields divided by the factor shown (all others as in V32). */
export const SCALE_FACTORS: Record<string, number> = { dim: 7, n_heads: 16, gqa_kv_heads: 8, q_lora_rank: 4, index_n_heads: 4, n_routed_experts: 8, n_activated_experts: 2, n_expert_groups: 2, n_limited_groups: 2, moe_inter_dim: 8 };
export const SCALED: Partial<LayerConfig> = { ...V32, ...Object.fromEntries(Object.entries(SCALE_FACTORS).map(([k, f]) => [k, Math.round(Number(V32[k as keyof LayerConfig]) / f)])) };

export const dims = (c: LayerConfig) => ({
  first: c.S - c.T,
  H: c.n_heads,
  dn: c.qk_nope_head_dim,
  dr: c.qk_rope_head_dim,
  dc: c.kv_lora_rank,
  dv: c.v_head_dim,
  D: c.kv_lora_rank + c.qk_rope_head_dim,
  /** MHA key (and padded value) width per head. */
  D2: c.qk_nope_head_dim + c.qk_rope_head_dim,
  /** KV heads of the per-head cache (mha, gqa). */
  G: kvHeads(c),
  ql: c.q_lora_rank,
  Hi: c.index_n_heads,
  Di: c.index_head_dim,
  topk: Math.min(c.index_topk, c.S),
});

export function dsaConfig(c: LayerConfig): DsaConfig {
  const l = dims(c);
  return { T: c.T, S: c.S, Hq: l.H, Hkv: 1, D: l.D, Dr: l.dr, mode: 'mla', topk: l.topk, causal: true, scale: c.softmax_scale, Hi: l.Hi, Di: l.Di };
}

export function mlaConfig(c: LayerConfig): MlaAbsorbedConfig {
  const l = dims(c);
  return { T: c.T, S: c.S, H: l.H, dn: l.dn, dr: l.dr, dc: l.dc, dv: l.dv, causal: true, softmax_scale: c.softmax_scale, dtype: 'f32', splits: 0 };
}

export function moeConfig(c: LayerConfig): MoeForwardConfig {
  return {
    N: c.T, dim: c.dim, E: c.n_routed_experts, topk: c.n_activated_experts, n_groups: c.n_expert_groups, topk_groups: c.n_limited_groups,
    score_func: 'sigmoid', routing: 'deepseek', bias: true, route_scale: c.route_scale,
    inter: c.moe_inter_dim, shared_inter: c.n_shared_experts * c.moe_inter_dim, capacity_factor: 0, dtype: 'f32',
  };
}

/** MHA / GQA: K heads [k_nope ; k_pe] of width dn + dr, V padded into the same width (flash kernels take one D). */
export function mhaConfig(c: LayerConfig): AttentionConfig {
  const l = dims(c);
  return { T: c.T, S: c.S, Hq: l.H, Hkv: l.G, D: l.dn + l.dr, causal: true, scale: c.softmax_scale, dtype: 'f32' };
}

export const mhaKernel = (c: LayerConfig) => (c.T <= FLASH_DECODE_MAX_T ? flashDecode : flashPrefill);

export const denseConfig = (c: LayerConfig): DenseFfnConfig => ({ N: c.T, dim: c.dim, inter: denseFfnInter(c), dtype: 'f32' });

// Sub-kernel fields under the layer's names, so a refusal names a field the user can change.
const FIELD_NAMES: Record<string, string> = {
  Hq: 'n_heads', H: 'n_heads', D: 'kv_lora_rank', Dr: 'qk_rope_head_dim', dr: 'qk_rope_head_dim', dc: 'kv_lora_rank', dn: 'qk_nope_head_dim', dv: 'v_head_dim',
  Hkv: 'gqa_kv_heads', Hi: 'index_n_heads', Di: 'index_head_dim', topk: 'index_topk', N: 'T', E: 'n_routed_experts', n_groups: 'n_expert_groups',
  topk_groups: 'n_limited_groups', inter: 'moe_inter_dim', shared_inter: 'n_shared_experts',
};

function renamed(issues: ValidationIssue[], context: string, topkField = 'index_topk'): ValidationIssue[] {
  return issues.map((i) => ({ field: i.field === 'topk' ? topkField : (FIELD_NAMES[i.field] ?? i.field), message: `${i.message} (${context})` }));
}

export function checkLayer(c: LayerConfig, caps: DeviceCaps): ValidationIssue[] {
  const l = dims(c);
  const issues: ValidationIssue[] = [];
  if (c.T > c.S) issues.push({ field: 'T', message: `${c.T} new tokens exceed S = ${c.S} (they are the last T of the S positions)` });
  if (l.dc % 4 !== 0) issues.push({ field: 'kv_lora_rank', message: `${l.dc} must be a multiple of 4 (latent rows are read as vec4)` });
  if (l.dr % 4 !== 0) issues.push({ field: 'qk_rope_head_dim', message: `${l.dr} must be a multiple of 4 (the rope part of a latent row is read as vec4)` });
  if (c.attention === 'mla_dsa' && l.dr > l.Di) issues.push({ field: 'index_head_dim', message: `${l.Di} is below qk_rope_head_dim = ${l.dr} (the indexer rotates its first qk_rope_head_dim dims)` });
  if (issues.length) return issues;
  if (c.attention === 'mla_dsa') issues.push(...renamed(dsa.check!(dsaConfig(c), caps), 'DSA attention'));
  else if (c.attention === 'mla_dense') issues.push(...renamed(mlaDecodeAbsorbed.check!(mlaConfig(c), caps), 'absorbed MLA'));
  else if (c.attention === 'mla_naive') issues.push(...renamed(mlaDecodeNaive.check!(mlaConfig(c), caps), 'naive MLA'));
  else {
    if (l.dv > l.dn + l.dr) issues.push({ field: 'v_head_dim', message: `${l.dv} exceeds qk_nope_head_dim + qk_rope_head_dim = ${l.dn + l.dr} (the ${c.attention.toUpperCase()} variant pads V into the key width)` });
    else if (l.H % l.G !== 0) issues.push({ field: 'gqa_kv_heads', message: `n_heads = ${l.H} is not a multiple of ${l.G} KV heads (each KV head is the mean of n_heads / KV heads heads)` });
    else issues.push(...renamed(mhaKernel(c).check!(mhaConfig(c), caps), `${c.attention.toUpperCase()} attention`).map((i) => (i.field === 'kv_lora_rank' ? { ...i, field: 'qk_nope_head_dim' } : i)));
  }
  if (c.ffn === 'moe') issues.push(...renamed(checkForward(moeConfig(c), caps), 'MoE', 'n_activated_experts'));
  else issues.push(...renamed(moeDenseFfn.check!(denseConfig(c), caps), 'dense FFN'));
  return issues.filter((i, n) => issues.findIndex((j) => j.field === i.field) === n);
}

const linearCost = (M: number, N: number, K: number): Cost => ({ flops: 2 * M * N * K, bytes: 4 * (M * K + N * K + M * N) });
const sum = (...cs: Cost[]): Cost =>
  cs.reduce((a, b) => ({ flops: a.flops + b.flops, bytes: a.bytes + b.bytes, intermediateBytes: (a.intermediateBytes ?? 0) + (b.intermediateBytes ?? 0) }), { flops: 0, bytes: 0, intermediateBytes: 0 });

/** What a step chose, where its reads depend on it: the DSA key lists [T, topk] and the MoE's experts [T, n_activated]. */
export interface LayerRun {
  selected?: ArrayLike<number>;
  experts?: ArrayLike<number>;
}

const MOE_STAGES = ['router', 'dispatch', 'experts', 'combine'];

/**
 * The stages in encoding order, with 'cache fill' first when S > T: the earlier tokens' cache rows, written by an
 * instance's first run only (not a stage of the instance; not this step's work).
 */
export function layerStageCosts(c: LayerConfig, run: LayerRun = {}): { name: string; cost: Cost }[] {
  const l = dims(c);
  const stages: { name: string; cost: Cost }[] = [];
  const cacheRows = (rows: number) =>
    sum(
      normCost({ rows, d: c.dim, kind: 'rms' }),
      linearCost(rows, l.dc + l.dr, c.dim),
      normCost({ rows, d: l.dc, kind: 'rms' }),
      // MHA / GQA: k_pe goes into every KV head's key (the rotation read once per head).
      ropeCost({ rows, heads: perHeadCache(c) ? l.G : 1, width: l.dr, rot: l.dr }),
      ...(c.attention === 'mla_dsa' ? [linearCost(rows, l.Di, c.dim), normCost({ rows, d: l.Di, kind: 'layer' }), ropeCost({ rows, heads: 1, width: l.Di, rot: l.dr })] : []),
      // MHA / GQA expand each new latent row into G keys and values once, as it enters the cache.
      ...(perHeadCache(c) ? [{ flops: 2 * rows * l.G * l.dc * (l.dn + l.dv), bytes: 4 * (rows * l.dc + l.G * (l.dn + l.dv) * l.dc + rows * l.G * (l.dn + l.dv)) }] : []),
    );
  if (l.first > 0) stages.push({ name: 'cache fill', cost: cacheRows(l.first) });
  stages.push({ name: 'kv + index-key write', cost: cacheRows(c.T) });
  stages.push({
    name: 'q projection',
    cost: sum(linearCost(c.T, l.ql, c.dim), normCost({ rows: c.T, d: l.ql, kind: 'rms' }), linearCost(c.T, l.H * (l.dn + l.dr), l.ql), ropeCost({ rows: c.T, heads: l.H, width: l.dr, rot: l.dr })),
  });
  if (c.attention === 'mla_dsa') {
    const d = dsaConfig(c);
    stages.push({ name: 'index queries', cost: sum(linearCost(c.T, l.Hi * l.Di, l.ql), ropeCost({ rows: c.T, heads: l.Hi, width: l.Di, rot: l.dr }), linearCost(c.T, l.Hi, c.dim)) });
    stages.push({ name: 'indexer', cost: indexerCost({ T: c.T, S: c.S, Hi: l.Hi, Di: l.Di, causal: true }) });
    stages.push({ name: 'top-k', cost: { flops: 0, bytes: 4 * (c.T * c.S + c.T * l.topk) } });
    stages.push({ name: 'absorb W_UK', cost: { flops: 2 * c.T * l.H * l.dn * l.dc, bytes: 4 * (c.T * l.H * l.dn + l.H * l.dn * l.dc + c.T * l.H * l.dc) } });
    stages.push({ name: 'attention', cost: run.selected ? dsaAttentionRunCost(d, 4, { shape: [c.T, l.topk], data: Float64Array.from(run.selected) }) : dsaAttentionCost(d, 4) });
    stages.push({ name: 'un-absorb W_UV', cost: { flops: 2 * c.T * l.H * l.dc * l.dv, bytes: 4 * (c.T * l.H * l.dc + l.H * l.dv * l.dc + c.T * l.H * l.dv) } });
  } else if (c.attention === 'mla_dense') {
    stages.push({ name: 'attention', cost: mlaDecodeAbsorbed.cost(mlaConfig(c)) });
  } else if (c.attention === 'mla_naive') {
    stages.push({ name: 'attention', cost: mlaDecodeNaive.cost(mlaConfig(c)) });
  } else {
    stages.push({ name: 'attention', cost: sum(mhaKernel(c).cost(mhaConfig(c)), { flops: 0, bytes: 8 * c.T * l.H * l.dv }) });
  }
  stages.push({ name: 'output projection', cost: linearCost(c.T, c.dim, l.H * l.dv) });
  stages.push({ name: 'residual + ffn_norm', cost: sum(addCost(c.T * c.dim), normCost({ rows: c.T, d: c.dim, kind: 'rms' })) });
  if (c.ffn === 'moe') {
    const m = moeConfig(c);
    const f = forwardStageCosts(m, run.experts ? routedWorkFromIndices(run.experts, m.N, m.topk, m.E, expertCapacity(m.capacity_factor, m.N, m.topk, m.E)) : undefined);
    stages.push({ name: 'router', cost: f.router }, { name: 'dispatch', cost: f.dispatch }, { name: 'experts', cost: f.experts }, { name: 'combine', cost: f.combine });
  } else {
    stages.push({ name: 'dense ffn', cost: swigluCost(c.T, c.T, c.dim, denseFfnInter(c), 1) });
  }
  stages.push({ name: 'residual', cost: addCost(c.T * c.dim) });
  return stages;
}

/**
 * One step's cost (the stages, cache fill left out) and its intermediates: what the stages count beyond the
 * step's own reads (x's T new rows, the weights, the earlier tokens' cache rows it looks at) and writes (h, out).
 * The intermediates are counted from the dataflow, not as a difference: each stage's own (a norm's second pass, a
 * RoPE table, partials), the MoE's between its stages (moe.forward's split), the constants (positions), and every
 * buffer one stage writes and the next reads (written once, read once per consumer) plus the re-reads of x and h.
 * `run` gives the selections a run made (the bench's cost without it is the uniform expectation).
 */
export function layerStepCost(c: LayerConfig, run: LayerRun = {}): Cost & { intermediateBytes: number } {
  const l = dims(c);
  const T = c.T;
  const stages = layerStageCosts(c, run).filter((s) => s.name !== 'cache fill');
  const total = sum(...stages.map((s) => s.cost));
  const moe = stages.filter((s) => MOE_STAGES.includes(s.name));
  const own = sum(...stages.filter((s) => !MOE_STAGES.includes(s.name)).map((s) => s.cost)).intermediateBytes ?? 0;
  let moeBetween = 0;
  if (moe.length) {
    // moe.forward's split: beyond x, out, the router and each active expert's weights read once.
    const m = moeConfig(c);
    const active = (run.experts ? routedWorkFromIndices(run.experts, m.N, m.topk, m.E, expertCapacity(m.capacity_factor, m.N, m.topk, m.E)) : expectedRoutedWork(m.E, m.topk, m.N)).activeExperts;
    moeBetween = sum(...moe.map((s) => s.cost)).bytes - 4 * (2 * T * c.dim + m.E * c.dim + m.E + 3 * c.dim * (active * m.inter + m.shared_inter));
  }
  const dsaMode = c.attention === 'mla_dsa';
  const kvMode = perHeadCache(c);
  // Buffer traffic in floats: [written + read] per buffer between stages.
  const flow: number[] = [
    T * c.dim * (3 + (dsaMode ? 2 : 0)), // xn: attn_norm -> wkv_a, wq_a (+ indexer wk, weights_proj)
    T * (l.dc + l.dr) + T * l.dc + T * l.dr * (kvMode ? l.G : 1), // wkv_a's output -> kv_norm, k_pe RoPE
    T * (2 + (dsaMode ? 2 : 0)), // positions, read by each RoPE stage
    2 * T * l.ql, // q_a -> q_norm
    T * l.ql * (2 + (dsaMode ? 1 : 0)), // qr -> wq_b (+ indexer wq_b)
    2 * T * l.H * l.dr, // q_pe before RoPE
    2 * T * c.dim, // attention output -> residual
    T * c.dim, // x's new rows again, in the residual
    2 * T * c.dim, // h, read by ffn_norm and the last residual
    2 * T * c.dim, // ffn_norm -> FFN
    2 * T * c.dim, // FFN -> residual
  ];
  if (dsaMode) {
    // New latent rows (written whole) and the gathered ones among them; one query per new token, each with a key.
    const newGathered = run.selected ? new Set(Array.from(run.selected).filter((s) => s >= l.first)).size : T;
    flow.push(
      T * l.D + newGathered * l.D,
      2 * T * l.Di * 3, // index key before LayerNorm, after it, and the cached key's new rows -> indexer
      2 * T * l.Hi * l.Di * 2 + 2 * T * l.Hi, // index queries before and after RoPE, head weights
      2 * T * c.S + 2 * T * l.topk, // scores -> top-k -> key lists
      2 * T * l.H * l.dn, // q_nope -> absorb
      2 * T * l.H * l.D, // absorbed query -> attention
      2 * T * l.H * l.dc, // latent output -> un-absorb
      2 * T * l.H * l.dv, // heads -> wo
    );
  } else if (kvMode) {
    flow.push(
      2 * T * l.dc, // latent rows -> K / V expansion
      T * l.G * (l.dn + l.dr + l.dv) + 2 * T * l.G * l.D2, // new K and V rows (V unpadded) -> flash (padded)
      2 * T * l.H * l.D2, // query -> flash
      T * l.H * l.D2 + 3 * T * l.H * l.dv, // flash output -> head gather -> wo
    );
  } else {
    flow.push(2 * T * (l.dc + l.dr), 2 * T * l.H * (l.dn + l.dr), 2 * T * l.H * l.dv); // new cache rows, query, heads -> wo
  }
  return { ...total, intermediateBytes: own + moeBetween + 4 * flow.reduce((a, b) => a + b, 0) };
}
