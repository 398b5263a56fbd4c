// The two MLA decode orders on the GPU, on the same random inputs at odd sizes: each equals the float64
// reference, and they equal each other (the absorbed order is the naive one with the products reassociated);
// the absorbed order once more with its workgroup-memory lane_sum forced (latent core and W_UV GEMV), and with
// scores that climb along the cache, so the latent core's running max moves past its lazy-rescale threshold.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { relL2 } from '../compare.ts';
import { withDefaults } from '../contract.ts';
import { runKernel } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import { createAbsorbed, mlaDecodeAbsorbed, planAbsorbed } from './decode-absorbed.ts';
import { mlaDecodeNaive } from './decode-naive.ts';
import { mlaDecodeRandomInputs, type MlaDecodeConfig } from './mla-config.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const cases: Partial<MlaDecodeConfig>[] = [
  { T: 1, S: 211, H: 7, dn: 13, dr: 8, dc: 44, dv: 11 },
  { T: 5, S: 23, H: 3, dn: 9, dr: 4, dc: 28, dv: 17 },
  { T: 2, S: 97, H: 11, dn: 5, dr: 12, dc: 60, dv: 3, causal: false, softmax_scale: 0.37 },
];

describe('mla.decode_naive and mla.decode_absorbed agree', () => {
  for (const partial of cases) {
    it(JSON.stringify(partial), async () => {
      const seed = freshSeed();
      const naiveConfig = withDefaults(mlaDecodeNaive, partial);
      const inputs = mlaDecodeRandomInputs(naiveConfig, createRng(seed));
      const naive = (await runKernel(ctx, mlaDecodeNaive, naiveConfig, inputs)).out!;
      const absorbed = (await runKernel(ctx, mlaDecodeAbsorbed, withDefaults(mlaDecodeAbsorbed, partial), inputs)).out!;
      const want = mlaDecodeNaive.reference(inputs, naiveConfig).out!;
      const each = relL2('out', absorbed.data, naive.data, 1e-5);
      expect(each.ok, `seed ${seed}: absorbed vs naive rel-L2 ${each.relL2}`).toBe(true);
      for (const [name, got] of [['naive', naive], ['absorbed', absorbed]] as const) {
        const r = relL2('out', got.data, want.data, 1e-4);
        expect(r.ok, `seed ${seed}: ${name} vs float64 rel-L2 ${r.relL2}`).toBe(true);
      }
    });
  }
});

describe('mla.decode_absorbed with the workgroup-memory lane_sum (devices without subgroups)', () => {
  it('equals the float64 reference, several splits, 5 queries, dv = 70 (not a multiple of 4)', async () => {
    const c = withDefaults(mlaDecodeAbsorbed, { T: 5, S: 300, H: 6, dn: 10, dr: 8, dc: 76, dv: 70 });
    expect(planAbsorbed(c).splits).toBeGreaterThan(1);
    const seed = freshSeed();
    const inputs = mlaDecodeRandomInputs(c, createRng(seed));
    const got = (await runKernel(ctx, mlaDecodeAbsorbed, c, inputs, () => createAbsorbed(ctx, c, { subgroups: false }))).out!;
    const r = relL2('out', got.data, mlaDecodeAbsorbed.reference(inputs, c).out!.data, 1e-4);
    expect(r.ok, `seed ${seed}: rel-L2 ${r.relL2}`).toBe(true);
  });
});

describe('mla.decode_absorbed with scores that climb along the cache', () => {
  it('rescales its accumulators each time a score passes the running max by the threshold, and equals the float64 reference', async () => {
    const c = withDefaults(mlaDecodeAbsorbed, { T: 1, S: 211, H: 6, dn: 13, dr: 8, dc: 44, dv: 11 });
    const seed = freshSeed();
    const inputs = mlaDecodeRandomInputs(c, createRng(seed));
    // k_pe[s] = 0.05 s + noise and q_pe = 1: the RoPE part of the score rises by ~27 in base 2 over the cache.
    const kpe = inputs.k_pe!.data;
    for (let i = 0; i < kpe.length; i++) kpe[i] = 0.05 * Math.floor(i / c.dr) + 0.3 * kpe[i]!;
    inputs.q_pe!.data.fill(1);
    const got = (await runKernel(ctx, mlaDecodeAbsorbed, c, inputs)).out!;
    const r = relL2('out', got.data, mlaDecodeAbsorbed.reference(inputs, c).out!.data, 1e-4);
    expect(r.ok, `seed ${seed}: rel-L2 ${r.relL2}`).toBe(true);
  });
});
