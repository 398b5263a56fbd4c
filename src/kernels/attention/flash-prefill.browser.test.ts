// attention.flash_prefill beyond the shared dense cases (which the registry suite runs): S and T one either
// side of the device's K/V tile and row-block sizes, a GQA group split across two row blocks, causal tiles
// skipped above the diagonal, D = 4 and 256 (also in 16 KiB), large scores (online-softmax rescaling),
// agreement with attention.naive on the same inputs, and release.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults } from '../contract.ts';
import { checkAgainstReference, compareOutputs, summarise } from '../check.ts';
import { makeInputs, runKernel } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import type { AttentionConfig } from './attention-config.ts';
import { flashPrefill, flashPrefillPlan, type FlashPrefillPlan } from './flash-prefill.ts';
import { naiveAttention } from './naive.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const config = (c: Partial<AttentionConfig>) => withDefaults(flashPrefill, c);

function planOf(c: AttentionConfig): FlashPrefillPlan {
  const plan = flashPrefillPlan(c, ctx);
  if (!('wg' in plan)) throw new Error(plan.message);
  return plan;
}

async function expectMatches(c: AttentionConfig) {
  const report = await checkAgainstReference(ctx, flashPrefill, c, freshSeed());
  expect(report.ok, summarise(report)).toBe(true);
}

describe('flash_prefill', () => {
  it('S one either side of the K/V tile (a second, one-key tile; a partial group of four)', async () => {
    // D = 128 has the shortest tiles: S = tile + 1 needs two, S = tile - 1 ends mid vec4 of scores.
    const probe = planOf(config({ T: 3, S: 64, D: 128, Hq: 2, Hkv: 1 }));
    const tile = probe.tileKeys;
    for (const S of [tile - 1, tile + 1]) {
      const c = config({ T: 3, S, Hq: 2, Hkv: 1, D: 128 });
      expect(planOf(c).tileKeys).toBeLessThanOrEqual(tile);
      await expectMatches(c);
    }
  });

  it('T one either side of a row block, causal T = S (blocks skip the tiles above their diagonal)', async () => {
    const rows = planOf(config({ T: 1000, S: 1000, D: 8, Hq: 1, Hkv: 1 })).rowsPerBlock;
    for (const T of [rows - 1, rows + 1]) {
      const c = config({ T, S: T, Hq: 1, Hkv: 1, D: 8, causal: true });
      expect(planOf(c).workgroups).toBe(Math.ceil(T / rows));
      await expectMatches(c);
    }
  });

  it('a GQA group split across two row blocks (5 heads per KV head), non-causal, T < S', async () => {
    const rows = planOf(config({ T: 8, S: 8, D: 16, Hq: 5, Hkv: 1 })).rowsPerBlock;
    const T = Math.ceil(rows / 5) + 1; // 5T > rows and 5T is not a multiple of rows
    await expectMatches(config({ T, S: T + 21, Hq: 5, Hkv: 1, D: 16, causal: false }));
  });

  it('D = 4 and D = 256', async () => {
    await expectMatches(config({ T: 9, S: 23, Hq: 4, Hkv: 2, D: 4 }));
    await expectMatches(config({ T: 5, S: 13, Hq: 2, Hkv: 1, D: 256 }));
  });

  it('T = 37 against S = 100 with GQA 4, causal (the diagonal crosses tiles mid vec4)', async () => {
    await expectMatches(config({ T: 37, S: 100, Hq: 8, Hkv: 2, D: 32, causal: true }));
  });

  it('D = 256 in 16 KiB of workgroup memory (4-key tiles, one row quad), odd S', async () => {
    const tight = { ...ctx, limits: { ...ctx.limits, maxComputeWorkgroupStorageSize: 16384 } };
    const c = config({ T: 6, S: 11, Hq: 2, Hkv: 1, D: 256 });
    expect(flashPrefillPlan(c, tight)).toMatchObject({ tileKeys: 4, rowsPerBlock: 4 });
    const report = await checkAgainstReference(tight, flashPrefill, c, freshSeed());
    expect(report.ok, summarise(report)).toBe(true);
  });

  it('large scores: the running max moves by tens of units between tiles', async () => {
    await expectMatches(config({ T: 6, S: 70, Hq: 3, Hkv: 1, D: 16, scale: 3 }));
  });
});

describe('flash_prefill, against attention.naive', () => {
  it('agrees with attention.naive on the same inputs (GQA 3, odd sizes)', async () => {
    const c = config({ T: 19, S: 45, Hq: 6, Hkv: 2, D: 28 });
    const seed = freshSeed();
    const inputs = makeInputs(flashPrefill, c, createRng(seed));
    const before = ctx.buffers.liveBytes;
    const flash = await runKernel(ctx, flashPrefill, c, inputs);
    expect(ctx.buffers.liveBytes).toBe(before);
    const naive = await runKernel(ctx, naiveAttention, c, inputs);
    const [r] = compareOutputs(flashPrefill.outputs(c), flash, naive);
    expect(r!.ok, `seed ${seed}: rel-L2 ${r!.relL2}`).toBe(true);
  });
});
