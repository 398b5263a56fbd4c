// Sizing against arithmetic done here: weights (parameters x bytes) + cache per layout, the largest batch
// and context that fit N GPUs, windowed layers included.
import { describe, expect, it } from 'vitest';
import { paramCount } from '../models/params.ts';
import { findPreset } from '../models/presets.ts';
import { GIB, sizeDeployment, type SizingQuery } from './sizing.ts';

const base: SizingQuery = { dtype: 'bf16', context: 131072, batch: 1, record: 'latent', weights: 'fp8', gpuGiB: 80, gpus: 8 };
const row = (s: ReturnType<typeof sizeDeployment>, start: string) => s.rows.find((r) => r.row.name.startsWith(start))!;

describe('sizing a deployment', () => {
  it('DeepSeek-V3.2 in FP8 on 8 x 80 GiB: weights + (1,152 + 132)·61 B per token of cache', () => {
    const p = findPreset('deepseek-v3.2')!;
    const s = sizeDeployment(p, base);
    const weights = paramCount(p).total * 1;
    expect(s.weightsBytes).toBe(weights);
    expect(s.capacityBytes).toBe(8 * 80 * GIB);
    const latent = row(s, 'MLA latent');
    const perSeq = (1152 + 132) * 61 * 131072;
    expect(latent.cacheBytes).toBe(perSeq);
    expect(latent.totalBytes).toBe(weights + perSeq);
    expect(latent.fits).toBe(true);
    expect(latent.maxBatch).toBe(Math.floor((8 * 80 * GIB - weights) / perSeq));
    // Largest context at batch 1: every token costs (1,152 + 132)·61 bytes.
    expect(latent.maxContext).toBe(Math.floor((8 * 80 * GIB - weights) / ((1152 + 132) * 61)));
    const fp8 = row(s, 'MLA FP8 record');
    expect(fp8.maxBatch).toBe(Math.floor((8 * 80 * GIB - weights) / ((656 + 132) * 61 * 131072)));
    // The MHA-equivalent cache of one 128K sequence (488 GiB) does not fit beside the weights.
    expect(row(s, 'MHA').fits).toBe(false);
  });

  it('bf16 weights of V3.2 (1.34 TB) do not fit 8 x 80 GiB: nothing fits, batch and context 0', () => {
    const s = sizeDeployment(findPreset('deepseek-v3.2')!, { ...base, weights: 'bf16' });
    expect(s.weightsBytes).toBeGreaterThan(s.capacityBytes);
    for (const r of s.rows) expect([r.fits, r.maxBatch, r.maxContext]).toEqual([false, 0, 0]);
  });

  it('gpt-oss-120b (MXFP4, 4.25 bits) on one 80 GiB GPU: windowed layers cost 128 tokens, global ones the context', () => {
    const p = findPreset('gpt-oss-120b')!;
    const s = sizeDeployment(p, { ...base, weights: 'mxfp4', gpus: 1 });
    const weights = (paramCount(p).total * 4.25) / 8;
    const free = 80 * GIB - weights;
    const mixed = s.rows.find((r) => r.row.native)!;
    // 18 global layers x 2,048 B x S + 18 windowed layers x 2,048 B x 128.
    const perSeq = 18 * 2048 * 131072 + 18 * 2048 * 128;
    expect(mixed.cacheBytes).toBe(perSeq);
    expect(mixed.maxBatch).toBe(Math.floor(free / perSeq));
    expect(mixed.maxContext).toBe(Math.floor((free - 18 * 2048 * 128) / (18 * 2048)));
  });

  it('every layer windowed (Mistral-7B): any context fits once the window does', () => {
    const s = sizeDeployment(findPreset('mistral-7b-v0.1')!, { ...base, weights: 'bf16', gpus: 1 });
    expect(s.rows.find((r) => r.row.native)!.maxContext).toBe(Infinity);
    expect(row(s, 'MHA').maxContext).toBeLessThan(Infinity);
  });
});
