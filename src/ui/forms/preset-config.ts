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

type Rule = (a: ModelArch) => Omit<PresetValue, 'field'> | undefined;

/** Kernel field -> how to read it from a model's architecture, for every family's field names. */
const RULES: Record<string, Rule> = {
  // dense and sparse attention (attention-config.ts): MLA models cache no per-head K/V, so their MHA-equivalent
  Hq: (a) => ({ value: a.heads, from: ['heads'] }),
  Hkv: (a) => ({ value: a.mla ? a.heads : a.kvHeads, from: ['kvHeads'], how: a.mla ? 'MLA model: the MHA-equivalent, one KV head per query head' : undefined }),
  D: (a) => ({ value: a.headDim, from: ['headDim'] }),
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
  topk: (a) => (a.moe ? { value: a.moe.expertsPerToken, from: ['moe.expertsPerToken'] } : a.dsa ? { value: a.dsa.indexTopk, from: ['dsa.indexTopk'] } : undefined),
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
    const v = rule?.(preset.arch);
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
