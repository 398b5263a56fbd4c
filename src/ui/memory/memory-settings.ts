// The KV-cache explorer's settings as a schema, so <kl-kernel-form> renders them with the kernel forms'
// fields, bounds and messages (checkField, the CLI's wording) and url-config writes them to the link.
import { checkField } from '../../kernels/common/validate.ts';
import type { Config, ConfigSchema, FieldSpec, ValidationIssue } from '../../kernels/contract.ts';
import { CACHE_DTYPES, MLA_RECORDS, type CacheDType, type MlaRecord } from '../../memory/kv-cache.ts';
import type { SizingQuery } from '../../memory/sizing.ts';
import { WEIGHT_DTYPES, type WeightDType } from '../../models/params.ts';
import { MODEL_PRESETS, findPreset } from '../../models/presets.ts';
import type { FormSpec } from '../forms/kernel-form.ts';

export const MEMORY_SCHEMA = {
  model: { type: 'enum', label: 'model', default: 'deepseek-v3.2', values: MODEL_PRESETS.map((p) => p.id) },
  cache: { type: 'enum', label: 'cache element type', doc: 'f32 4 B, f16 / bf16 2 B, fp8 1 B per cached value', default: 'bf16', values: CACHE_DTYPES },
  record: {
    type: 'enum',
    label: 'MLA record',
    doc: "DSA models: the latent at the element type (inference/model.py) or FlashMLA's 656-byte FP8 record",
    default: 'latent',
    values: MLA_RECORDS,
  },
  context: { type: 'int', label: 'context', unit: 'tokens', default: 131072, min: 1, max: 1 << 24 },
  batch: { type: 'int', label: 'batch', unit: 'sequences', default: 1, min: 1, max: 1 << 20 },
  weights: { type: 'enum', label: 'weights', doc: 'bf16 2 B, fp8 1 B, mxfp4 4.25 bits per parameter', default: 'fp8', values: WEIGHT_DTYPES },
  gpuGiB: { type: 'number', label: 'memory per GPU', unit: 'GiB', default: 80, min: 1, max: 4096 },
  gpus: { type: 'int', label: 'GPUs', default: 8, min: 1, max: 4096 },
} satisfies ConfigSchema;

export type MemorySettings = { model: string; cache: CacheDType; record: MlaRecord; context: number; batch: number; weights: WeightDType; gpuGiB: number; gpus: number };

export function validateMemory(config: Config): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [field, spec] of Object.entries(MEMORY_SCHEMA) as [string, FieldSpec][]) {
    const issue = checkField(field, spec, config[field]);
    if (issue) issues.push(issue);
  }
  if (issues.length) return issues;
  const preset = findPreset(String(config.model))!;
  if (config.record === 'fp8' && !preset.arch.dsa) {
    issues.push({ field: 'record', message: `the FP8 record is FlashMLA's sparse-decode format for models with the DSA indexer (DeepSeek-V3.2); ${preset.name} has none` });
  }
  return issues;
}

export const MEMORY_FORM: FormSpec = { title: 'KV-cache explorer', schema: MEMORY_SCHEMA, validate: validateMemory };

/** The settings as the sizing and cache functions take them (call only once validateMemory found nothing). */
export function sizingQuery(c: Config): SizingQuery {
  const s = c as MemorySettings;
  return { dtype: s.cache, context: s.context, batch: s.batch, record: s.record, weights: s.weights, gpuGiB: s.gpuGiB, gpus: s.gpus };
}
