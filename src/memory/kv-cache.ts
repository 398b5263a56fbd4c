// KV-cache accounting: elements and bytes per token, per layer and per model, for the cache layouts of
// MHA, GQA, MQA, MLA and sliding-window attention, at any element type, context length and batch.
// Per token and layer a cache holds:
//   MHA  2·n_h·d_h     (a key and a value per head)
//   GQA  2·n_kv·d_h    (heads share n_kv key/value heads)
//   MQA  2·d_h         (one key/value head)
//   MLA  d_c + d_rope  (one latent and one shared RoPE key, whatever the head count; DeepSeek-V2 eq. 9-14)
//   sliding window: any of the above, but only the last w tokens are kept (a rolling buffer)
// Totals multiply by the layers l, the tokens kept and the batch.
import type { ModelPreset } from '../models/presets.ts';

export type CacheDType = 'f32' | 'f16' | 'bf16' | 'fp8';
export const CACHE_DTYPES: readonly CacheDType[] = ['f32', 'f16', 'bf16', 'fp8'];
export const CACHE_DTYPE_BYTES: Record<CacheDType, number> = { f32: 4, f16: 2, bf16: 2, fp8: 1 };

export type DenseLayout =
  | { kind: 'mha'; heads: number; headDim: number }
  | { kind: 'gqa'; kvHeads: number; headDim: number }
  | { kind: 'mqa'; headDim: number };

export type CacheLayout = DenseLayout | { kind: 'mla'; latent: number; rope: number } | { kind: 'sliding'; window: number; inner: DenseLayout };

export interface CacheQuery {
  layers: number;
  dtype: CacheDType;
  /** Tokens of context per sequence. */
  context: number;
  /** Sequences held at once. */
  batch: number;
}

export interface CacheSize {
  layout: CacheLayout;
  /** e.g. "2·n_kv·d_h·l" (elements per token for the whole model). */
  formula: string;
  /** The formula with the numbers in, e.g. "2·8·128·32". */
  substituted: string;
  elementsPerTokenPerLayer: number;
  bytesPerTokenPerLayer: number;
  /** All layers. */
  bytesPerToken: number;
  /** Tokens actually kept per sequence: the context, or the window for a sliding-window cache. */
  tokensKept: number;
  /** bytesPerToken x tokensKept x batch. */
  totalBytes: number;
}

export function elementsPerTokenPerLayer(layout: CacheLayout): number {
  switch (layout.kind) {
    case 'mha':
      return 2 * layout.heads * layout.headDim;
    case 'gqa':
      return 2 * layout.kvHeads * layout.headDim;
    case 'mqa':
      return 2 * layout.headDim;
    case 'mla':
      return layout.latent + layout.rope;
    case 'sliding':
      return elementsPerTokenPerLayer(layout.inner);
  }
}

/** Symbolic formula (per token, whole model) and the same with the numbers in. */
export function layoutFormula(layout: CacheLayout, layers: number): { formula: string; substituted: string } {
  switch (layout.kind) {
    case 'mha':
      return { formula: '2·n_h·d_h·l', substituted: `2·${layout.heads}·${layout.headDim}·${layers}` };
    case 'gqa':
      return { formula: '2·n_kv·d_h·l', substituted: `2·${layout.kvHeads}·${layout.headDim}·${layers}` };
    case 'mqa':
      return { formula: '2·d_h·l', substituted: `2·${layout.headDim}·${layers}` };
    case 'mla':
      return { formula: '(d_c + d_rope)·l', substituted: `(${layout.latent} + ${layout.rope})·${layers}` };
    case 'sliding': {
      const inner = layoutFormula(layout.inner, layers);
      return { formula: `${inner.formula}, last w tokens`, substituted: `${inner.substituted}, w = ${layout.window}` };
    }
  }
}

export function cacheSize(layout: CacheLayout, q: CacheQuery): CacheSize {
  if (!Number.isInteger(q.layers) || q.layers < 1) throw new RangeError(`layers must be a positive integer, got ${q.layers}`);
  if (!Number.isInteger(q.context) || q.context < 1) throw new RangeError(`context must be a positive integer, got ${q.context}`);
  if (!Number.isInteger(q.batch) || q.batch < 1) throw new RangeError(`batch must be a positive integer, got ${q.batch}`);
  const el = elementsPerTokenPerLayer(layout);
  const bytesPerTokenPerLayer = el * CACHE_DTYPE_BYTES[q.dtype];
  const bytesPerToken = bytesPerTokenPerLayer * q.layers;
  const tokensKept = layout.kind === 'sliding' ? Math.min(q.context, layout.window) : q.context;
  return {
    layout,
    ...layoutFormula(layout, q.layers),
    elementsPerTokenPerLayer: el,
    bytesPerTokenPerLayer,
    bytesPerToken,
    tokensKept,
    totalBytes: bytesPerToken * tokensKept * q.batch,
  };
}

export interface ModelCacheRow extends CacheSize {
  /** Short name: "MHA", "GQA (n_kv = 8)", "MLA", ... */
  name: string;
  /** This is the cache the model actually uses. */
  native: boolean;
  /** Why a row is shown for a model that does not use it. */
  note?: string;
  /** totalBytes / the MHA row's totalBytes. */
  ratioToMha: number;
}

/** Hypothetical GQA width for models that are MHA or MLA in their config: Llama-3.1's 8 KV heads. */
export const HYPOTHETICAL_KV_HEADS = 8;

/**
 * One row per cache layout for a model: MHA with the model's heads (for MLA models the "MHA-equivalent"
 * of the DeepSeek-V2 paper, d_h = qk_nope_head_dim), GQA, MQA, MLA where the model has it, and the
 * sliding-window cache where it has one. Each row's total is compared with the MHA row.
 */
export function modelCacheRows(p: ModelPreset, q: Omit<CacheQuery, 'layers'>): ModelCacheRow[] {
  const a = p.arch;
  const query = { ...q, layers: a.layers };
  const mhaLayout: DenseLayout = { kind: 'mha', heads: a.heads, headDim: a.headDim };
  const gqaNative = a.kvHeads > 1 && a.kvHeads < a.heads && !a.mla;
  const kvHeads = gqaNative ? a.kvHeads : HYPOTHETICAL_KV_HEADS;
  const nativeDense: DenseLayout = a.kvHeads === 1 ? { kind: 'mqa', headDim: a.headDim } : gqaNative ? { kind: 'gqa', kvHeads, headDim: a.headDim } : mhaLayout;
  const rows: Omit<ModelCacheRow, 'ratioToMha'>[] = [];
  const add = (name: string, layout: CacheLayout, native: boolean, note?: string) => rows.push({ name, native, note, ...cacheSize(layout, query) });
  const isNative = (kind: string) => !a.mla && !a.slidingWindow && nativeDense.kind === kind;
  add(a.mla ? 'MHA (equivalent)' : 'MHA', mhaLayout, isNative('mha'), a.mla ? `the same ${a.heads} heads of d_h = ${a.headDim} cached as plain keys and values` : undefined);
  if (kvHeads < a.heads) {
    add(`GQA (n_kv = ${kvHeads})`, { kind: 'gqa', kvHeads, headDim: a.headDim }, isNative('gqa'), gqaNative ? undefined : `hypothetical: ${kvHeads} KV heads, as Llama-3.1`);
  }
  add('MQA', { kind: 'mqa', headDim: a.headDim }, isNative('mqa'), a.kvHeads === 1 ? undefined : 'hypothetical: one KV head');
  if (a.mla) add('MLA', { kind: 'mla', latent: a.mla.kvLoraRank, rope: a.mla.qkRopeHeadDim }, true);
  if (a.slidingWindow) add(`sliding window (w = ${a.slidingWindow})`, { kind: 'sliding', window: a.slidingWindow, inner: nativeDense }, true, `rolling buffer of the last ${a.slidingWindow} tokens`);
  const mha = rows[0]!.totalBytes;
  return rows.map((r) => ({ ...r, ratioToMha: r.totalBytes / mha }));
}

/**
 * DeepSeek-V2's "KV cache reduced by 93.3%" compares two different models in deployment: DeepSeek-V2
 * (MLA, 60 layers, cache quantised to about 6 bits per element, paper section 3.2.3) against DeepSeek 67B
 * (GQA, 8 KV heads of 128, 95 layers, 16-bit). The paper gives no formula; this one reproduces 93.3%.
 */
export function deepseekV2PaperReduction(v2: ModelPreset, base67b: ModelPreset, bitsPerElementV2 = 6): { v2Bits: number; baseBits: number; reduction: number } {
  const mla = v2.arch.mla;
  if (!mla) throw new RangeError(`${v2.id} has no MLA dimensions`);
  const v2Bits = elementsPerTokenPerLayer({ kind: 'mla', latent: mla.kvLoraRank, rope: mla.qkRopeHeadDim }) * v2.arch.layers * bitsPerElementV2;
  const baseBits = elementsPerTokenPerLayer({ kind: 'gqa', kvHeads: base67b.arch.kvHeads, headDim: base67b.arch.headDim }) * base67b.arch.layers * 16;
  return { v2Bits, baseBits, reduction: 1 - v2Bits / baseBits };
}
