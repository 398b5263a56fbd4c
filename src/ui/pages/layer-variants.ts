// The Decoder layer page's model, without the page: the variants one run times (read from the kernel's
// schema, plus the waterfall's steps), a result's step time and stage groups, and the KV-cache layouts of the
// variants as src/memory counts them. Kept apart from the element so Node (the e2e test) can check the page's
// numbers against the results it shows.
import type { KernelResult } from '../../bench/result-schema.ts';
import { withDefaults, type AnyKernel, type Config } from '../../kernels/contract.ts';
import { SCALED } from '../../kernels/layer/layer-config.ts';
import { GROUPS, WATERFALL } from '../../bench/studies/layer.ts';
import { bytesPerTokenPerLayer, layoutFormula, type CacheLayout } from '../../memory/kv-cache.ts';
import { FLASHMLA_FP8_SOURCE, DSA_INDEXER_SOURCE, MLA_LATENT_SOURCE } from '../../memory/kv-cache.ts';

export const LAYER_KERNEL = 'layer.deepseek_v32';

/** What each of the schema's attention / FFN values is called on the page (an unknown value shows as itself). */
export const ATTENTION_NAMES: Record<string, string> = { mla_dsa: 'MLA + DSA (V3.2)', mla_dense: 'MLA absorbed (V3)', mla_naive: 'MLA naive', mha: 'MHA-equivalent' };
export const FFN_NAMES: Record<string, string> = { moe: 'MoE', dense: 'dense FFN' };
/** KV heads a per-head-cache variant keeps: gqa's gqa_kv_heads (at most n_heads), or a "gqaN" value's N. */
const gqaHeads = (attention: string, c: Config): number => {
  if (attention === 'gqa') return Math.min(Number(c.gqa_kv_heads), Number(c.n_heads));
  return Number(/^gqa(\d+)$/.exec(attention)?.[1] ?? NaN);
};
export const attentionName = (a: string, c: Config = {}) => ATTENTION_NAMES[a] ?? (gqaHeads(a, c) > 0 ? `GQA, ${gqaHeads(a, c)} KV heads` : a);

export interface LayerVariant {
  attention: string;
  ffn: string;
  label: string;
}

export const enumValues = (def: AnyKernel, field: string): string[] => {
  const f = def.schema[field];
  return f && f.type === 'enum' ? [...f.values].map(String) : [];
};

/**
 * The variants one run times: every attention value of the schema with the form's FFN, then the waterfall's
 * steps (dense MHA + dense FFN ... V3.2) not already among them.
 */
export function layerVariants(def: AnyKernel, config: Config): LayerVariant[] {
  const attention = enumValues(def, 'attention');
  const ffns = enumValues(def, 'ffn');
  const ffn = String(config.ffn ?? ffns[0]);
  const out: LayerVariant[] = attention.map((a) => ({ attention: a, ffn, label: `${attentionName(a, config)} + ${FFN_NAMES[ffn] ?? ffn}` }));
  for (const w of WATERFALL) {
    if (!attention.includes(w.attention) || !ffns.includes(w.ffn) || out.some((v) => v.attention === w.attention && v.ffn === w.ffn)) continue;
    out.push({ attention: w.attention, ffn: w.ffn, label: `${attentionName(w.attention, config)} + ${FFN_NAMES[w.ffn] ?? w.ffn}` });
  }
  return out;
}

export const variantConfig = (def: AnyKernel, config: Config, v: LayerVariant): Config => withDefaults(def, { ...config, attention: v.attention, ffn: v.ffn });

/** This step's time: the stages' sum (a first run's cache fill stands for the earlier steps and is left out). */
export function stepMs(r: KernelResult): number {
  const stages = (r.stages ?? []).filter((s) => s.name !== 'cache fill');
  return stages.length ? stages.reduce((a, s) => a + s.medianMs, 0) : r.medianMs;
}

/** The stacked bar's segments: the study's stage groups, each the sum of its stages' medians. */
export function stageGroups(r: KernelResult): { name: string; ms: number | null }[] {
  return GROUPS.map(([name, stages]) => {
    const hit = (r.stages ?? []).filter((s) => stages.includes(s.name));
    return { name, ms: hit.length ? hit.reduce((a, s) => a + s.medianMs, 0) : null };
  });
}

export interface KvRow {
  name: string;
  /** The layer variants that cache this (empty: a deployed format beside them). */
  variants: string[];
  layouts: CacheLayout[];
  note: string;
}

const num = (c: Config, k: string) => Number(c[k]);

/** The cache layouts of the variants at a shape (the layer's config names), as src/memory counts them. */
export function kvRows(def: AnyKernel, c: Config): KvRow[] {
  const attention = enumValues(def, 'attention');
  const dc = num(c, 'kv_lora_rank');
  const dr = num(c, 'qk_rope_head_dim');
  const mla: CacheLayout = { kind: 'mla', latent: dc, rope: dr };
  const fp8: CacheLayout = { kind: 'mla-fp8', latent: dc, rope: dr };
  const indexer: CacheLayout = { kind: 'indexer', headDim: num(c, 'index_head_dim') };
  const rows: KvRow[] = [
    { name: 'MLA latent + RoPE key, bf16', variants: attention.filter((a) => a.startsWith('mla')), layouts: [mla], note: MLA_LATENT_SOURCE },
    { name: 'MLA as FlashMLA\'s FP8 record', variants: [], layouts: [fp8], note: FLASHMLA_FP8_SOURCE },
    { name: 'DSA indexer key (FP8 + scale)', variants: attention.filter((a) => a === 'mla_dsa'), layouts: [indexer], note: DSA_INDEXER_SOURCE },
    { name: 'V3.2 as deployed: FP8 record + indexer key', variants: [], layouts: [fp8, indexer], note: 'FlashMLA sparse decode beside the indexer cache' },
    {
      name: 'MHA-equivalent, bf16',
      variants: attention.filter((a) => a === 'mha'),
      layouts: [{ kind: 'mha', heads: num(c, 'n_heads'), headDim: num(c, 'qk_nope_head_dim') }],
      note: 'the same heads cached as plain keys and values of d_h = qk_nope_head_dim (DeepSeek-V2\'s MHA comparison; the layer\'s own MHA variant also keeps each head\'s RoPE key)',
    },
  ];
  for (const a of attention) {
    const n = gqaHeads(a, c);
    if (n > 0) rows.push({ name: a === 'gqa' ? 'GQA (gqa_kv_heads KV heads), bf16' : `GQA, ${n} KV heads, bf16`, variants: [a], layouts: [{ kind: 'gqa', kvHeads: n, headDim: num(c, 'qk_nope_head_dim') }], note: `${n} key/value heads shared by the query heads` });
  }
  return rows;
}

export const kvBytes = (r: KvRow) => r.layouts.reduce((a, l) => a + bytesPerTokenPerLayer(l, 'bf16'), 0);
export const kvFormula = (r: KvRow) => r.layouts.map((l) => layoutFormula(l, 'bf16'));

/** KV bytes per token and layer a variant keeps as deployed (bf16 latent, plus the indexer's keys for DSA). */
export function variantKvBytes(def: AnyKernel, c: Config, attention: string): number {
  return kvRows(def, c)
    .filter((r) => r.variants.includes(attention))
    .reduce((a, r) => a + kvBytes(r), 0);
}

export interface Opening {
  config: Config;
  sweep: number[];
  note: string;
}

/** The page's opening shape: tiny on CPU emulation (a run of every variant in a minute or two), scaled V3.2 on a GPU. */
export function layerOpening(cpu: boolean): Opening {
  return cpu
    ? {
        config: { T: 1, S: 256, n_heads: 4, gqa_kv_heads: 2 },
        sweep: [64, 256, 1024],
        note: 'CPU emulation: the layer at the kernel\'s small default widths with 4 heads (GQA: 2 KV heads; hidden 64, latent 32 + 8, index top-k 8, 8 experts), so every variant runs in seconds; the unscaled V3.2 column of the memory table is analytic. On a GPU this page opens at a scaled V3.2 shape up to S = 64K.',
      }
    : {
        config: { ...SCALED, T: 1, S: 4096 },
        sweep: [1024, 4096, 16384, 65536],
        note: 'DeepSeek-V3.2\'s layer with its widths scaled down (hidden, heads, experts; head dims, the 576-value latent row and index_topk 2048 kept), so the attention stages see real row sizes.',
      };
}

