// attention.flash_prefill beyond the shared dense cases (which the registry suite runs): S not a whole
// number of 4-key steps, T one either side of a row block, a GQA group split across two row blocks, causal
// keys skipped above the diagonal, D = 4 and 256, every row-quad count and several quads per workgroup with
// both lane sums, large scores (online-softmax rescaling), agreement with attention.naive on the same inputs,
// and release.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults, type KernelDefinition } from '../contract.ts';
import { checkAgainstReference, compareOutputs, summarise } from '../check.ts';
import { makeInputs, runKernel } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import type { AttentionConfig } from './attention-config.ts';
import { createFlashPrefill, flashPrefill, flashPrefillPlan, type FlashPrefillOptions } from './flash-prefill.ts';
import { naiveAttention } from './naive.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const config = (c: Partial<AttentionConfig>) => withDefaults(flashPrefill, c);

async function expectMatches(c: AttentionConfig, opts?: FlashPrefillOptions) {
  const def: KernelDefinition<AttentionConfig> = opts ? { ...flashPrefill, create: (g, cc) => createFlashPrefill(g, cc, opts) } : flashPrefill;
  const report = await checkAgainstReference(ctx, def, c, freshSeed());
  expect(report.ok, `${JSON.stringify(opts ?? {})}: ${summarise(report)}`).toBe(true);
}

describe('flash_prefill', () => {
  it('S not a multiple of the 4-key step (1 to 3 keys of the last step past S), non-causal', async () => {
    for (const S of [5, 6, 7]) {
      await expectMatches(config({ T: 3, S, Hq: 2, Hkv: 1, D: 32, causal: false }));
    }
  });

  it('T one either side of a row block, causal T = S (workgroups stop at their diagonal)', async () => {
    const rows = flashPrefillPlan(config({ T: 1000, S: 1000, D: 8, Hq: 1, Hkv: 1 }), ctx).rowsPerBlock;
    for (const T of [rows - 1, rows + 1]) {
      const c = config({ T, S: T, Hq: 1, Hkv: 1, D: 8, causal: true });
      expect(flashPrefillPlan(c, ctx).workgroups).toBe(Math.ceil(T / rows));
      await expectMatches(c);
    }
  });

  it('a GQA group split across two row blocks (5 heads per KV head), non-causal, T < S', async () => {
    const rows = flashPrefillPlan(config({ T: 8, S: 8, D: 16, Hq: 5, Hkv: 1 }), ctx).rowsPerBlock;
    const T = Math.ceil(rows / 5) + 1; // 5T > rows and 5T is not a multiple of rows
    await expectMatches(config({ T, S: T + 21, Hq: 5, Hkv: 1, D: 16, causal: false }));
  });

  it('D = 4 (three idle lanes) and D = 256 (all 16 column slots)', async () => {
    await expectMatches(config({ T: 9, S: 23, Hq: 4, Hkv: 2, D: 4 }));
    await expectMatches(config({ T: 5, S: 13, Hq: 2, Hkv: 1, D: 256 }));
  });

  it('T = 37 against S = 100 with GQA 4, causal (the diagonal crosses a 4-key step)', async () => {
    await expectMatches(config({ T: 37, S: 100, Hq: 8, Hkv: 2, D: 32, causal: true }));
  });

  it('1, 2 and 3 row quads per invocation quad, with the subgroup and the workgroup-memory lane sum; D = 20 (a partial column slot)', async () => {
    const c = config({ T: 13, S: 29, Hq: 3, Hkv: 1, D: 20, causal: true });
    for (const rowQuads of [1, 2, 3]) {
      for (const subgroups of ctx.features.subgroups ? [true, false] : [false]) {
        expect(flashPrefillPlan(c, ctx, { rowQuads, subgroups })).toMatchObject({ rowQuads, subgroups });
        await expectMatches(c, { rowQuads, subgroups });
      }
    }
  });

  it('2 and 3 quads per workgroup, with both lane sums: quads walk keys past their own diagonal (masked) and past the last row', async () => {
    // 10 rows of 4-row quads: the second workgroup of 3 quads has one live quad and a half.
    const c = config({ T: 10, S: 10, Hq: 1, Hkv: 1, D: 24, causal: true });
    for (const quadsPerWorkgroup of [2, 3]) {
      for (const subgroups of ctx.features.subgroups ? [true, false] : [false]) {
        const opts = { rowQuads: 1, quadsPerWorkgroup, subgroups };
        expect(flashPrefillPlan(c, ctx, opts)).toMatchObject({ wg: 4 * quadsPerWorkgroup, workgroups: Math.ceil(10 / (4 * quadsPerWorkgroup)) });
        await expectMatches(c, opts);
      }
    }
    await expectMatches(config({ T: 7, S: 31, Hq: 6, Hkv: 2, D: 16, causal: true }), { rowQuads: 2, quadsPerWorkgroup: 2 });
  });

  it('large scores: the running max moves by tens of units between key steps', async () => {
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
