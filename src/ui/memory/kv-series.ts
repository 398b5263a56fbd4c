// KV-cache bytes vs context for every cache layout of a model (MHA, GQA, MQA, MLA, sliding window), from
// src/memory/kv-cache.ts: the data of the memory explorer's log-scale chart. Pure, so it works without a GPU.
import { modelCacheRows, type CacheDType, type MlaRecord } from '../../memory/kv-cache.ts';
import type { ModelPreset } from '../../models/presets.ts';

export interface KvSeries {
  xs: number[];
  series: { label: string; native: boolean; values: number[] }[];
}

/** Contexts 512 .. 1M tokens (powers of two), extended to include `context` itself. */
export function contextPoints(context: number): number[] {
  const xs: number[] = [];
  for (let x = 512; x <= Math.max(1 << 20, context); x *= 2) xs.push(x);
  if (!xs.includes(context)) xs.push(context);
  return xs.sort((a, b) => a - b);
}

export function kvBytesSeries(p: ModelPreset, dtype: CacheDType, batch: number, context: number, record: MlaRecord = 'latent'): KvSeries {
  const xs = contextPoints(context);
  const perX = xs.map((x) => modelCacheRows(p, { dtype, context: x, batch }, record));
  const names = perX[0]!.map((r) => r.name);
  return {
    xs,
    series: names.map((name, i) => ({ label: name, native: perX[0]![i]!.native, values: perX.map((rows) => rows[i]!.totalBytes) })),
  };
}
