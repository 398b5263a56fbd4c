// A real model's shape -> the settings of one kernel. Each kernel field a preset can set is mapped from one
// dotted field of the preset's architecture (so the UI can cite its source: config.json key or paper); a
// kernel only takes the fields its schema has, and the form then validates them like any typed value.
import type { AnyKernel, Config } from '../../kernels/contract.ts';
import { fieldSource, type ModelArch, type ModelPreset } from '../../models/presets.ts';

export interface PresetValue {
  field: string;
  value: number | string | boolean;
  /** Dotted arch fields the value comes from ("heads", "moe.routedExperts"). */
  from: string[];
  /** How it is derived, when it is not a copy ("shared experts x expert width"). */
  how?: string;
}

type Rule = (a: ModelArch, def: AnyKernel) => Omit<PresetValue, 'field'> | undefined;

/**
 * A sparse kernel that can run over MLA's latent rows (schema field `mode` = 'mla'): an MLA model runs DSA
 * there (DeepSeek-V3.2: one latent row [c_KV ; k_pe] of 512 + 64 per token, shared by every head, queries
 * absorbed into that space), not over an MHA-equivalent per-head cache.
 */
const latent = (a: ModelArch, def: AnyKernel): boolean => !!a.mla && 'mode' in def.schema && def.schema.mode!.type === 'enum' && def.schema.mode!.values.includes('mla');

/** The note shown beside a preset that gives an MLA model's MHA-equivalent instead of its own layout. */
export const MHA_EQUIVALENT = 'MLA model: the MHA-equivalent, one KV head per query head';

/** Kernel field -> how to read it from a model's architecture, for every family's field names. */
const RULES: Record<string, Rule> = {
  // dense and sparse attention (attention-config.ts): MLA models cache no per-head K/V, so their MHA-equivalent
  Hq: (a) => ({ value: a.heads, from: ['heads'] }),
  Hkv: (a, def) =>
    latent(a, def)
      ? { value: 1, from: ['mla.kvLoraRank'], how: 'MLA latent layout: one latent row per token, shared by all heads' }
      : { value: a.mla ? a.heads : a.kvHeads, from: ['kvHeads'], how: a.mla ? MHA_EQUIVALENT : undefined },
  D: (a, def) =>
    latent(a, def)
      ? { value: a.mla!.kvLoraRank + a.mla!.qkRopeHeadDim, from: ['mla.kvLoraRank', 'mla.qkRopeHeadDim'], how: 'latent row width kv_lora_rank + rope dims' }
      : { value: a.headDim, from: ['headDim'] },
  mode: (a, def) => (latent(a, def) ? { value: 'mla', from: ['mla.kvLoraRank'], how: 'attention over the cached latent rows (absorbed queries)' } : undefined),
  Dr: (a, def) => (latent(a, def) ? { value: a.mla!.qkRopeHeadDim, from: ['mla.qkRopeHeadDim'] } : undefined),
  scale: (a, def) =>
    latent(a, def)
      ? {
          value: 1 / Math.sqrt(a.mla!.qkNopeHeadDim + a.mla!.qkRopeHeadDim),
          from: ['mla.qkNopeHeadDim', 'mla.qkRopeHeadDim'],
          how: "MLA's softmax_scale (dn + dr)^-0.5 (YaRN's mscale^2 left out)",
        }
      : undefined,
  window: (a) => (a.slidingWindow ? { value: a.slidingWindow, from: ['slidingWindow'] } : undefined),
  // MLA (mla-config.ts)
  H: (a) => ({ value: a.heads, from: ['heads'] }),
  dn: (a) => (a.mla ? { value: a.mla.qkNopeHeadDim, from: ['mla.qkNopeHeadDim'] } : undefined),
  dr: (a) => (a.mla ? { value: a.mla.qkRopeHeadDim, from: ['mla.qkRopeHeadDim'] } : undefined),
  dc: (a) => (a.mla ? { value: a.mla.kvLoraRank, from: ['mla.kvLoraRank'] } : undefined),
  dv: (a) => (a.mla ? { value: a.mla.vHeadDim, from: ['mla.vHeadDim'] } : undefined),
  // DSA lightning indexer (sparse)
  Hi: (a) => (a.dsa ? { value: a.dsa.indexHeads, from: ['dsa.indexHeads'] } : undefined),
  Di: (a) => (a.dsa ? { value: a.dsa.indexHeadDim, from: ['dsa.indexHeadDim'] } : undefined),
  // MoE (moe-config.ts)
  E: (a) => (a.moe ? { value: a.moe.routedExperts, from: ['moe.routedExperts'] } : undefined),
  // `topk` is experts per token in an MoE kernel and keys per query in a sparse one: the kernel's family decides.
  topk: (a, def) =>
    def.family === 'moe'
      ? a.moe
        ? { value: a.moe.expertsPerToken, from: ['moe.expertsPerToken'] }
        : undefined
      : a.dsa
        ? { value: a.dsa.indexTopk, from: ['dsa.indexTopk'] }
        : undefined,
  k: (a) => (a.dsa ? { value: a.dsa.indexTopk, from: ['dsa.indexTopk'] } : undefined),
  n_groups: (a) => (a.moe ? { value: a.moe.nGroup, from: ['moe.nGroup'] } : undefined),
  topk_groups: (a) => (a.moe ? { value: a.moe.topkGroup, from: ['moe.topkGroup'] } : undefined),
  score_func: (a) => (a.moe ? { value: a.moe.scoreFunc, from: ['moe.scoreFunc'] } : undefined),
  route_scale: (a) => (a.moe ? { value: a.moe.routeScale, from: ['moe.routeScale'] } : undefined),
  // Softmax over all experts, top-k, renormalised == softmax over the selected logits (Mixtral, Qwen3).
  routing: (a) =>
    a.moe
      ? {
          value: a.moe.nGroup === 1 && a.moe.scoreFunc === 'softmax' && a.moe.normTopkProb ? 'mixtral' : 'deepseek',
          from: ['moe.nGroup', 'moe.scoreFunc', 'moe.normTopkProb'],
          how: 'softmax without groups and renormalised top-k is the Mixtral rule; anything else DeepSeek\'s gate',
        }
      : undefined,
  // DeepSeek-V3 and Kimi K2 carry e_score_correction_bias with their sigmoid gate (auxiliary-loss-free balancing).
  bias: (a) => (a.moe ? { value: a.moe.scoreFunc === 'sigmoid', from: ['moe.scoreFunc'], how: 'sigmoid gates carry the selection bias' } : undefined),
  dim: (a) => ({ value: a.hidden, from: ['hidden'] }),
  inter: (a) => (a.moe ? { value: a.moe.moeIntermediateSize, from: ['moe.moeIntermediateSize'] } : undefined),
  shared_inter: (a) =>
    a.moe ? { value: a.moe.sharedExperts * a.moe.moeIntermediateSize, from: ['moe.sharedExperts', 'moe.moeIntermediateSize'], how: 'shared experts x expert width' } : undefined,
};

/** The values a preset gives this kernel (only fields in its schema, only what the model has). */
export function presetValues(def: AnyKernel, preset: ModelPreset): PresetValue[] {
  const out: PresetValue[] = [];
  for (const field of Object.keys(def.schema)) {
    const rule = RULES[field];
    const v = rule?.(preset.arch, def);
    if (v) out.push({ field, ...v });
  }
  return out;
}

export function applyPreset(def: AnyKernel, preset: ModelPreset, config: Config): Config {
  const next = { ...config };
  for (const v of presetValues(def, preset)) next[v.field] = v.value;
  return next;
}

/** Fields every model has: a preset that sets only these says nothing about the kernel's own trick. */
const GENERIC = new Set(['Hq', 'H', 'D', 'dim']);

/** Presets that set a characteristic field of this kernel (KV heads, MLA ranks, experts, index heads...). */
export function presetsFor(def: AnyKernel, presets: readonly ModelPreset[]): ModelPreset[] {
  return presets.filter((p) => presetValues(def, p).some((v) => !GENERIC.has(v.field)));
}

/** "config.json num_attention_heads" style citations for one value. */
export function citeValue(preset: ModelPreset, v: PresetValue): string {
  return v.from.map((f) => fieldSource(preset, f) ?? f).join('; ');
}

/** The preset still describes `config`: every value it sets is there unchanged (else the choice is cleared). */
export function presetHolds(def: AnyKernel, preset: ModelPreset, config: Config): boolean {
  return presetValues(def, preset).every((v) => config[v.field] === v.value);
}
