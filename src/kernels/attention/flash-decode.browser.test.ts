// attention.flash_decode beyond the shared dense cases (which the registry suite runs): split counts and
// remainders, long splits (online softmax across many blocks), GQA ratios and T up to the decode maximum,
// causal splits that a row cannot see at all, D = 4 and 256, the workgroup-memory lane sum, f16,
// agreement with attention.naive on the same inputs, repeat runs, and buffer release.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults } from '../contract.ts';
import { checkAgainstReference, compareOutputs, summarise } from '../check.ts';
import { encodeOnce, makeInputs, poisonOutputs, readOutputs, runKernel, uploadInputs } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import type { AttentionConfig } from './attention-config.ts';
import { createFlashDecode, flashDecode, flashDecodePlan, FLASH_DECODE_MAX_T, type FlashDecodeOptions, type FlashDecodePlan } from './flash-decode.ts';
import { naiveAttention } from './naive.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const config = (c: Partial<AttentionConfig>) => withDefaults(flashDecode, c);

/** The definition with internal options, so checkAgainstReference runs the path under test. */
function withOptions(opts: FlashDecodeOptions) {
  return { ...flashDecode, create: (g: GpuContext, c: AttentionConfig) => createFlashDecode(g, c, opts) };
}

function planOf(c: AttentionConfig, opts: FlashDecodeOptions = {}): FlashDecodePlan {
  const plan = flashDecodePlan(c, ctx, opts);
  if (!('wg' in plan)) throw new Error(plan.message);
  return plan;
}

async function expectMatches(c: AttentionConfig, opts: FlashDecodeOptions = {}) {
  const report = await checkAgainstReference(ctx, withOptions(opts), c, freshSeed());
  expect(report.ok, `${summarise(report)} opts=${JSON.stringify(opts)}`).toBe(true);
}

describe('flash_decode', () => {
  it('many splits with S not a multiple of the split size (last split short)', async () => {
    const c = config({ T: 1, S: 103, Hq: 8, Hkv: 2, D: 32 });
    const opts = { chunk: 7 };
    const plan = planOf(c, opts);
    expect(plan.splits).toBe(15);
    expect(c.S % plan.chunk).not.toBe(0);
    await expectMatches(c, opts);
  });

  it('default split plan at S = 999 (several splits, odd remainder)', async () => {
    const c = config({ T: 1, S: 999, Hq: 4, Hkv: 1, D: 16 });
    const plan = planOf(c);
    expect(plan.splits).toBeGreaterThan(1);
    expect(c.S % plan.chunk).not.toBe(0);
    await expectMatches(c);
  });

  it('S smaller than one split: a single split writes out directly', async () => {
    const c = config({ T: 1, S: 5, Hq: 3, Hkv: 3, D: 12 });
    expect(planOf(c).splits).toBe(1);
    await expectMatches(c);
    // A forced split size larger than S as well.
    await expectMatches(config({ T: 2, S: 50, Hq: 2, Hkv: 1, D: 8 }), { chunk: 64 });
  });

  it('long splits: online softmax across many 4-key blocks of one split, the last block short', async () => {
    const c = config({ T: 2, S: 1198, Hq: 4, Hkv: 2, D: 20, causal: false });
    const opts = { chunk: 599 };
    expect(planOf(c, opts).splits).toBe(2);
    await expectMatches(c, opts);
    // Scores that grow along the keys: the running max moves on almost every step.
    await expectMatches(config({ T: 1, S: 300, Hq: 8, Hkv: 2, D: 64, scale: 3 }), { chunk: 300 });
  });

  it(`T = ${FLASH_DECODE_MAX_T} (the decode maximum), GQA 4: several row blocks`, async () => {
    const c = config({ T: FLASH_DECODE_MAX_T, S: 41, Hq: 8, Hkv: 2, D: 16 });
    expect(planOf(c).quads).toBeGreaterThan(2);
    await expectMatches(c, { chunk: 9 });
  });

  it('causal decode with T > 1: splits past a query\'s position hold no visible key for it', async () => {
    // Queries at positions 18..22; with 4-key splits the last split (keys 20..22) is empty for the first two rows.
    await expectMatches(config({ T: 5, S: 23, Hq: 6, Hkv: 2, D: 8, causal: true }), { chunk: 4 });
  });

  it('D = 4 and D = 256', async () => {
    await expectMatches(config({ T: 3, S: 37, Hq: 4, Hkv: 2, D: 4 }), { chunk: 10 });
    await expectMatches(config({ T: 1, S: 21, Hq: 4, Hkv: 1, D: 256 }), { chunk: 8 });
  });

  it('packed quads (fewer than 4 rows per KV head): MHA, GQA 2, T = 3 MHA, the last quad part dead, causal', async () => {
    for (const [shape, chunk] of [
      [{ T: 1, S: 90, Hq: 7, Hkv: 7, D: 20 }, 13], // 7 heads: 2 quads, the second with one dead row
      [{ T: 1, S: 64, Hq: 6, Hkv: 3, D: 32 }, 64], // G = 2: a quad is 2 KV heads x 2 query heads, one split
      [{ T: 3, S: 40, Hq: 5, Hkv: 5, D: 8 }, 6], // 3 queries per head: a quad straddles heads; causal edges differ per row
      [{ T: 1, S: 1000, Hq: 2, Hkv: 2, D: 64 }, undefined], // default split plan, the single quad half dead
    ] as const) {
      const c = config({ ...shape, causal: true });
      const plan = planOf(c, chunk === undefined ? {} : { chunk });
      expect(plan.packed, JSON.stringify(shape)).toBe(true);
      expect(plan.quads).toBe(Math.ceil((c.T * c.Hq) / 4));
      await expectMatches(c, chunk === undefined ? {} : { chunk });
    }
  });

  it('MQA with 16 query heads over one KV head (16 rows per block), large scores', async () => {
    await expectMatches(config({ T: 1, S: 77, Hq: 16, Hkv: 1, D: 24, scale: 2 }), { chunk: 20 });
  });
});

describe('flash_decode: GQA ratios, speculative rows, lane-sum paths', () => {
  it('GQA ratios 1, 4, 8 and MQA, T = 1..5 (causal), odd S, several splits', async () => {
    for (const [Hq, Hkv] of [[4, 4], [8, 2], [16, 2], [6, 1]] as const) {
      for (let T = 1; T <= 5; T++) {
        const c = config({ T, S: 61 + 2 * T, Hq, Hkv, D: 16, causal: true });
        const opts = { chunk: 13 };
        expect(planOf(c, opts).splits).toBe(Math.ceil(c.S / 13));
        await expectMatches(c, opts);
      }
    }
  });

  it('causal edges for T > 1: a split that ends exactly at a query position, one that only the last rows see', async () => {
    // Queries at 28..31; chunk 4 puts split boundaries at 28 and 32: split 7 (28..31) is seen 1, 2, 3, 4 keys deep.
    await expectMatches(config({ T: 4, S: 32, Hq: 8, Hkv: 2, D: 8, causal: true }), { chunk: 4 });
    // Odd chunk and S: boundaries fall inside the 4-key blocks of the units.
    await expectMatches(config({ T: 5, S: 47, Hq: 4, Hkv: 1, D: 12, causal: true }), { chunk: 9 });
  });

  it('S smaller than one split, with T = 3 and a packed quad', async () => {
    const c = config({ T: 3, S: 7, Hq: 2, Hkv: 2, D: 8 });
    expect(planOf(c).splits).toBe(1);
    expect(planOf(c).packed).toBe(true);
    await expectMatches(c);
  });

  it('a last workgroup with dead units (quads x splits not a multiple of 4)', async () => {
    const c = config({ T: 1, S: 50, Hq: 7, Hkv: 7, D: 20 });
    const plan = planOf(c, { chunk: 17 });
    expect((plan.quads * plan.splits) % 4).not.toBe(0);
    await expectMatches(c, { chunk: 17 });
  });

  it('the workgroup-memory lane sum (forced, as on adapters without subgroups) gives the same results', async () => {
    for (const [c, chunk] of [
      [config({ T: 1, S: 77, Hq: 8, Hkv: 2, D: 32 }), 20],
      [config({ T: 3, S: 40, Hq: 5, Hkv: 5, D: 20 }), 6],
      [config({ T: 4, S: 33, Hq: 8, Hkv: 1, D: 16 }), 33],
    ] as const) {
      const opts = { chunk, subgroups: false };
      const plan = planOf(c, opts);
      expect(plan.subgroups).toBe(false);
      expect(plan.workgroupBytes).toBeGreaterThan(0);
      await expectMatches(c, opts);
    }
  });

  it('f16 storage (same WGSL), where the adapter has shader-f16', async (t) => {
    if (!ctx.features.f16) {
      console.warn(`flash_decode f16 not run: this adapter (${ctx.adapter.architecture}) has no shader-f16`);
      t.skip();
    }
    await expectMatches(config({ T: 2, S: 300, Hq: 8, Hkv: 2, D: 64, dtype: 'f16' }), { chunk: 64 });
  });
});

describe('flash_decode, against attention.naive and itself', () => {
  it('agrees with attention.naive on the same inputs', async () => {
    const c = config({ T: 4, S: 150, Hq: 12, Hkv: 3, D: 36 });
    const seed = freshSeed();
    const inputs = makeInputs(flashDecode, c, createRng(seed));
    const flash = await runKernel(ctx, flashDecode, c, inputs);
    const naive = await runKernel(ctx, naiveAttention, c, inputs);
    const [r] = compareOutputs(flashDecode.outputs(c), flash, naive);
    expect(r!.ok, `seed ${seed}: rel-L2 ${r!.relL2}`).toBe(true);
  });

  it('a second run over the same partial buffers gives the same output; destroy frees every buffer', async () => {
    const c = config({ T: 2, S: 300, Hq: 4, Hkv: 2, D: 32 });
    const before = ctx.buffers.liveBytes;
    const instance = await createFlashDecode(ctx, c, { chunk: 32 });
    expect(instance.plan.splits).toBe(10);
    const inputs = makeInputs(flashDecode, c, createRng(freshSeed()));
    uploadInputs(ctx, instance, flashDecode.inputs(c), inputs);
    const outs = flashDecode.outputs(c);
    poisonOutputs(ctx, instance, outs);
    encodeOnce(ctx, instance);
    const first = await readOutputs(ctx, instance, outs);
    poisonOutputs(ctx, instance, outs);
    encodeOnce(ctx, instance);
    const second = await readOutputs(ctx, instance, outs);
    instance.destroy();
    expect(Array.from(second.out!.data)).toEqual(Array.from(first.out!.data));
    const [r] = compareOutputs(outs, first, flashDecode.reference(inputs, c));
    expect(r!.ok, `rel-L2 ${r!.relL2}`).toBe(true);
    expect(ctx.buffers.liveBytes).toBe(before);
  });
});
