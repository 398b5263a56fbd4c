// Sizing a deployment: weights + KV cache (with DeepSeek-V3.2's indexer keys where the row has them) for a
// preset, per cache layout, against N GPUs of G GiB each, and the largest batch at the chosen context and
// the largest context at the chosen batch that still fit. Only weights and cache are counted: activations,
// workspace, CUDA graphs and allocator fragmentation take a share the caller must leave free.
import { paramCount } from '../models/params.ts';
import { WEIGHT_DTYPE_BYTES, type WeightDType } from '../models/params.ts';
import type { ModelPreset } from '../models/presets.ts';
import { modelCacheRows, type CacheQuery, type MlaRecord, type ModelCacheRow } from './kv-cache.ts';

export const GIB = 1024 ** 3;

export interface SizingQuery extends CacheQuery {
  record: MlaRecord;
  weights: WeightDType;
  /** Memory per GPU, GiB. */
  gpuGiB: number;
  gpus: number;
}

export interface SizingRow {
  row: ModelCacheRow;
  cacheBytes: number;
  totalBytes: number;
  fits: boolean;
  /** Sequences of `context` tokens that fit beside the weights (0 when even one does not). */
  maxBatch: number;
  /** Tokens per sequence that fit at `batch`: Infinity when every layer is windowed, 0 when none fits. */
  maxContext: number;
}

export interface Sizing {
  params: number;
  weightsBytes: number;
  capacityBytes: number;
  rows: SizingRow[];
}

/** Cache bytes of one row for `batch` sequences of `context` tokens. */
function rowBytes(row: ModelCacheRow, context: number, batch: number): number {
  return row.groups.reduce((s, g) => s + g.layers * g.bytesPerTokenPerLayer * Math.min(context, g.window ?? context), 0) * batch;
}

/** Largest context (binary search: the bytes grow with the context, flat once past every window). */
function largestContext(row: ModelCacheRow, batch: number, free: number): number {
  if (free <= 0 || rowBytes(row, 1, batch) > free) return 0;
  if (row.groups.every((g) => g.window !== undefined)) {
    const widest = Math.max(...row.groups.map((g) => g.window!));
    if (rowBytes(row, widest, batch) <= free) return Infinity;
  }
  let lo = 1;
  let hi = 2;
  while (rowBytes(row, hi, batch) <= free) hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (rowBytes(row, mid, batch) <= free) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function sizeDeployment(p: ModelPreset, q: SizingQuery): Sizing {
  const params = paramCount(p).total;
  const weightsBytes = params * WEIGHT_DTYPE_BYTES[q.weights];
  const capacityBytes = q.gpuGiB * GIB * q.gpus;
  const free = capacityBytes - weightsBytes;
  const rows = modelCacheRows(p, q, q.record).map((row) => {
    const cacheBytes = row.totalBytes;
    const perSequence = rowBytes(row, q.context, 1);
    return {
      row,
      cacheBytes,
      totalBytes: weightsBytes + cacheBytes,
      fits: weightsBytes + cacheBytes <= capacityBytes,
      maxBatch: free > 0 ? Math.floor(free / perSequence) : 0,
      maxContext: largestContext(row, q.batch, free),
    };
  });
  return { params, weightsBytes, capacityBytes, rows };
}
