// KV-cache accounting: bytes per token, per layer and per model, for the cache layouts of MHA, GQA, MQA,
// MLA, DeepSeek-V3.2's deployed records and windowed layers, at any element type, context length and batch.
// Per token and layer a cache holds (b = bytes per element):
//   MHA  2·n_h·d_h·b     (a key and a value per head)
//   GQA  2·n_kv·d_h·b    (heads share n_kv key/value heads)
//   MQA  2·d_h·b         (one key/value head)
//   MLA  (d_c + d_rope)·b (one latent and one shared RoPE key, whatever the head count; DeepSeek-V2 eq. 9-14)
//   MLA as FlashMLA's "FP8 with scale" record: d_c FP8 values, one f32 scale per 128 of them, d_rope bf16
//        values = 512 + 16 + 128 = 656 B, whatever element type the rest of the cache has
//   DSA indexer key: d_i FP8 values and one f32 scale per 128 = 132 B (DeepSeek-V3.2 caches it beside MLA's)
// A model's cache is a sum over groups of layers: each group has a layout, a layer count and, for windowed
// layers, the window w (a rolling buffer keeps only the last w tokens). gpt-oss alternates windowed and
// global layers, Gemma 3 has 5 windowed per global one, and V3.2 adds the indexer's keys to every layer.
// Totals multiply by the tokens kept and the batch.
import type { ModelPreset } from '../models/presets.ts';

export type CacheDType = 'f32' | 'f16' | 'bf16' | 'fp8';
export const CACHE_DTYPES: readonly CacheDType[] = ['f32', 'f16', 'bf16', 'fp8'];
export const CACHE_DTYPE_BYTES: Record<CacheDType, number> = { f32: 4, f16: 2, bf16: 2, fp8: 1 };

/** Which MLA record the rows of a DSA model mark as the cache in use. */
export type MlaRecord = 'latent' | 'fp8';
export const MLA_RECORDS: readonly MlaRecord[] = ['latent', 'fp8'];

/** Where the two deployed V3.2 formats are defined. */
export const FLASHMLA_FP8_SOURCE = 'https://github.com/deepseek-ai/FlashMLA/blob/main/README.md ("FP8 with scale" KV cache: 512 float8_e4m3 + 4 float32 scales + 64 bfloat16 = 656 bytes)';
export const DSA_INDEXER_SOURCE =
  'https://github.com/deepseek-ai/DeepSeek-V3.2-Exp/blob/main/inference/model.py (Indexer: k_cache float8_e4m3fn [.., index_head_dim], k_scale_cache float32 [.., index_head_dim // block_size], block_size = 128)';
export const MLA_LATENT_SOURCE = 'https://github.com/deepseek-ai/DeepSeek-V3.2-Exp/blob/main/inference/model.py (MLA: kv_cache [.., kv_lora_rank] and pe_cache [.., qk_rope_head_dim] in the default bf16)';
/** Values per f32 scale in both FP8 formats. */
export const FP8_SCALE_BLOCK = 128;

export type DenseLayout =
  | { kind: 'mha'; heads: number; headDim: number }
  | { kind: 'gqa'; kvHeads: number; headDim: number }
  | { kind: 'mqa'; headDim: number };

/** What one layer caches for one token. */
export type CacheLayout =
  | DenseLayout
  | { kind: 'mla'; latent: number; rope: number }
  | { kind: 'mla-fp8'; latent: number; rope: number }
  | { kind: 'indexer'; headDim: number };

export interface CacheGroup {
  /** "all layers", "global layers", "sliding layers (w = 128)", "DSA indexer keys", ... */
  name: string;
  layout: CacheLayout;
  layers: number;
  /** Only the last `window` tokens are kept; absent: the whole context. */
  window?: number;
}

export interface CacheQuery {
  dtype: CacheDType;
  /** Tokens of context per sequence. */
  context: number;
  /** Sequences held at once. */
  batch: number;
}

export interface GroupSize extends CacheGroup {
  /** Bytes per token and layer, symbolic: "2·n_kv·d_h·b". */
  formula: string;
  /** The same with the numbers in: "2·8·64·2". */
  substituted: string;
  /** Values cached per token and layer (scales not counted). */
  elementsPerTokenPerLayer: number;
  bytesPerTokenPerLayer: number;
  /** The context, or the window for windowed layers. */
  tokensKept: number;
  /** layers x bytesPerTokenPerLayer x tokensKept x batch. */
  totalBytes: number;
}

/** Values per token and layer (an FP8 record's scales are not values). */
export function elementsPerTokenPerLayer(layout: CacheLayout): number {
  switch (layout.kind) {
    case 'mha':
      return 2 * layout.heads * layout.headDim;
    case 'gqa':
      return 2 * layout.kvHeads * layout.headDim;
    case 'mqa':
      return 2 * layout.headDim;
    case 'mla':
    case 'mla-fp8':
      return layout.latent + layout.rope;
    case 'indexer':
      return layout.headDim;
  }
}

function scales(n: number): number {
  return Math.ceil(n / FP8_SCALE_BLOCK);
}

/** Bytes per token and layer. The FP8 record and the indexer key have fixed formats; the rest take `dtype`. */
export function bytesPerTokenPerLayer(layout: CacheLayout, dtype: CacheDType): number {
  switch (layout.kind) {
    case 'mla-fp8':
      return layout.latent + 4 * scales(layout.latent) + 2 * layout.rope;
    case 'indexer':
      return layout.headDim + 4 * scales(layout.headDim);
    default:
      return elementsPerTokenPerLayer(layout) * CACHE_DTYPE_BYTES[dtype];
  }
}

/** Symbolic bytes per token and layer, and the same with the numbers in (b = bytes per element of `dtype`). */
export function layoutFormula(layout: CacheLayout, dtype: CacheDType): { formula: string; substituted: string } {
  const b = CACHE_DTYPE_BYTES[dtype];
  switch (layout.kind) {
    case 'mha':
      return { formula: '2·n_h·d_h·b', substituted: `2·${layout.heads}·${layout.headDim}·${b}` };
    case 'gqa':
      return { formula: '2·n_kv·d_h·b', substituted: `2·${layout.kvHeads}·${layout.headDim}·${b}` };
    case 'mqa':
      return { formula: '2·d_h·b', substituted: `2·${layout.headDim}·${b}` };
    case 'mla':
      return { formula: '(d_c + d_rope)·b', substituted: `(${layout.latent} + ${layout.rope})·${b}` };
    case 'mla-fp8':
      return { formula: 'd_c·1 + ⌈d_c/128⌉·4 + d_rope·2', substituted: `${layout.latent}·1 + ${scales(layout.latent)}·4 + ${layout.rope}·2` };
    case 'indexer':
      return { formula: 'd_i·1 + ⌈d_i/128⌉·4', substituted: `${layout.headDim}·1 + ${scales(layout.headDim)}·4` };
  }
}

function checkQuery(q: CacheQuery) {
  if (!Number.isInteger(q.context) || q.context < 1) throw new RangeError(`context must be a positive integer, got ${q.context}`);
  if (!Number.isInteger(q.batch) || q.batch < 1) throw new RangeError(`batch must be a positive integer, got ${q.batch}`);
}

export function groupSize(g: CacheGroup, q: CacheQuery): GroupSize {
  if (!Number.isInteger(g.layers) || g.layers < 1) throw new RangeError(`layers must be a positive integer, got ${g.layers}`);
  checkQuery(q);
  const bpt = bytesPerTokenPerLayer(g.layout, q.dtype);
  const tokensKept = g.window === undefined ? q.context : Math.min(q.context, g.window);
  return {
    ...g,
    ...layoutFormula(g.layout, q.dtype),
    elementsPerTokenPerLayer: elementsPerTokenPerLayer(g.layout),
    bytesPerTokenPerLayer: bpt,
    tokensKept,
    totalBytes: g.layers * bpt * tokensKept * q.batch,
  };
}

export interface ModelCacheRow {
  /** Short name: "MHA", "GQA (n_kv = 8)", "MLA latent + DSA indexer", ... */
  name: string;
  /** This is the cache the model actually uses. */
  native: boolean;
  /** Why a row is shown for a model that does not use it, or what it assumes. */
  note?: string;
  /** Each kind of layer (or each cached tensor) counted separately. */
  groups: GroupSize[];
  layers: number;
  /** Bytes one token adds over all layers while it is inside every window: Σ layers·bytesPerTokenPerLayer. */
  bytesPerToken: number;
  /** Σ of the groups' totals. */
  totalBytes: number;
  /** totalBytes / the MHA row's totalBytes. */
  ratioToMha: number;
}

/** Hypothetical GQA width for models that are MHA or MLA in their config: Llama-3.1's 8 KV heads. */
export const HYPOTHETICAL_KV_HEADS = 8;

/** The dense layout a model's config describes (GQA, MQA or MHA), before any window. */
export function nativeDenseLayout(p: ModelPreset): DenseLayout {
  const a = p.arch;
  if (a.mla) return { kind: 'mha', heads: a.heads, headDim: a.headDim };
  if (a.kvHeads === 1) return { kind: 'mqa', headDim: a.headDim };
  if (a.kvHeads < a.heads) return { kind: 'gqa', kvHeads: a.kvHeads, headDim: a.headDim };
  return { kind: 'mha', heads: a.heads, headDim: a.headDim };
}

function denseName(l: DenseLayout): string {
  return l.kind === 'mha' ? 'MHA' : l.kind === 'gqa' ? `GQA (n_kv = ${l.kvHeads})` : 'MQA';
}

/** The model's attention layers by kind: windowed (with w) and global. */
export function layerKinds(p: ModelPreset): { global: number; local: number; window?: number } {
  const a = p.arch;
  if (!a.slidingWindow) return { global: a.layers, local: 0 };
  const local = a.localLayers ?? a.layers;
  return { global: a.layers - local, local, window: a.slidingWindow };
}

/**
 * One row per cache layout for a model: MHA with the model's heads (for MLA models the "MHA-equivalent" of
 * the DeepSeek-V2 paper, d_h = qk_nope_head_dim), GQA, MQA, every layer global; then the cache the model
 * uses: MLA (plus, for DSA models, the indexer's keys, with the latent at the element type or as FlashMLA's
 * FP8 record), or the dense layout with its windowed layers counted apart from its global ones.
 */
export function modelCacheRows(p: ModelPreset, q: CacheQuery, record: MlaRecord = 'latent'): ModelCacheRow[] {
  const a = p.arch;
  const kinds = layerKinds(p);
  const windowed = kinds.local > 0;
  const dense = nativeDenseLayout(p);
  const rows: Omit<ModelCacheRow, 'ratioToMha'>[] = [];
  const add = (name: string, groups: CacheGroup[], native: boolean, note?: string) => {
    const sized = groups.filter((g) => g.layers > 0).map((g) => groupSize(g, q));
    rows.push({
      name,
      native,
      note,
      groups: sized,
      layers: a.layers,
      bytesPerToken: sized.reduce((s, g) => s + g.layers * g.bytesPerTokenPerLayer, 0),
      totalBytes: sized.reduce((s, g) => s + g.totalBytes, 0),
    });
  };
  const allGlobal = (layout: CacheLayout): CacheGroup[] => [{ name: 'all layers', layout, layers: a.layers }];
  const nativeAllGlobal = (kind: DenseLayout['kind']) => !a.mla && !windowed && dense.kind === kind;
  const everyGlobal = windowed ? 'every layer global' : undefined;

  const mha: DenseLayout = { kind: 'mha', heads: a.heads, headDim: a.headDim };
  add(a.mla ? 'MHA (equivalent)' : 'MHA', allGlobal(mha), nativeAllGlobal('mha'), a.mla ? `the same ${a.heads} heads of d_h = ${a.headDim} cached as plain keys and values` : everyGlobal);
  const gqaNative = dense.kind === 'gqa';
  const kvHeads = gqaNative ? dense.kvHeads : HYPOTHETICAL_KV_HEADS;
  if (kvHeads < a.heads) {
    const note = gqaNative ? everyGlobal && `hypothetical: ${everyGlobal}` : `hypothetical: ${kvHeads} KV heads, as Llama-3.1`;
    add(`GQA (n_kv = ${kvHeads})`, allGlobal({ kind: 'gqa', kvHeads, headDim: a.headDim }), nativeAllGlobal('gqa'), note);
  }
  add('MQA', allGlobal({ kind: 'mqa', headDim: a.headDim }), nativeAllGlobal('mqa'), a.kvHeads === 1 && !windowed ? undefined : 'hypothetical: one KV head');

  if (a.mla) {
    const m = a.mla;
    const latent: CacheGroup = { name: 'MLA latent + RoPE key', layout: { kind: 'mla', latent: m.kvLoraRank, rope: m.qkRopeHeadDim }, layers: a.layers };
    if (!a.dsa) {
      add('MLA', [latent], true);
    } else {
      const indexer: CacheGroup = { name: 'DSA indexer key (FP8 + scale)', layout: { kind: 'indexer', headDim: a.dsa.indexHeadDim }, layers: a.layers };
      const fp8: CacheGroup = { name: 'MLA FP8 record (FlashMLA)', layout: { kind: 'mla-fp8', latent: m.kvLoraRank, rope: m.qkRopeHeadDim }, layers: a.layers };
      add(`MLA latent (${q.dtype}) + DSA indexer`, [latent, indexer], record === 'latent', `latent as inference/model.py caches it; the indexer's keys in every layer`);
      add('MLA FP8 record + DSA indexer', [fp8, indexer], record === 'fp8', 'FlashMLA\'s 656-byte sparse-decode record; the indexer\'s keys in every layer');
    }
  }
  if (a.slidingWindow) {
    const w = kinds.window!;
    if (kinds.global === 0) {
      add(`sliding window (w = ${w})`, [{ name: `windowed layers (w = ${w})`, layout: dense, layers: a.layers, window: w }], true, `rolling buffer of the last ${w} tokens in every layer`);
    } else {
      add(
        `${denseName(dense)}, ${kinds.local} windowed (w = ${w}) + ${kinds.global} global layers`,
        [
          { name: 'global layers', layout: dense, layers: kinds.global },
          { name: `windowed layers (w = ${w})`, layout: dense, layers: kinds.local, window: w },
        ],
        true,
        `windowed layers keep a rolling buffer of the last ${w} tokens; global layers keep the whole context`,
      );
    }
  }
  const base = rows[0]!.totalBytes;
  return rows.map((r) => ({ ...r, ratioToMha: r.totalBytes / base }));
}

/** The row the model uses (for DSA models, the one `record` selects). */
export function nativeRow(rows: readonly ModelCacheRow[]): ModelCacheRow {
  return rows.find((r) => r.native) ?? rows[0]!;
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
