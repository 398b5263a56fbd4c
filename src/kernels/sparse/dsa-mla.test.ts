// sparse.dsa_attention's MLA path (the heads-as-M latent core over a top-k list): its split of the list
// covers every position, and at DeepSeek-V3.2 decode shapes every dispatch that gathers latent rows meets the
// split rule (>= 512 workgroups or <= 64 KiB of rows per workgroup).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../contract.ts';
import { validateConfig } from '../common/validate.ts';
import { fakeCaps } from '../../../test/device-caps.ts';
import { dsaAttention } from './dsa-attention.ts';
import { dsaMlaGeometry, planDsaMla } from './dsa-mla.ts';

const rule = (workgroups: number, bytesPerWorkgroup: number) => workgroups >= 512 || bytesPerWorkgroup <= 64 * 1024;

describe('sparse.dsa_attention MLA split', () => {
  it('covers the list with whole ranges, balanced blocks of at most 16 heads, forced chunks honoured', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 256 }),
        fc.integer({ min: 1, max: 1 << 16 }),
        fc.integer({ min: 1, max: 200 }),
        fc.option(fc.integer({ min: 1, max: 5000 })),
        fc.boolean(),
        (T, H, topk, dr4, chunk, f16) => {
          const c = { T, S: 1 << 17, Hq: H, D: 512 + 4 * dr4, Dr: 4 * dr4, topk, causal: true };
          const p = planDsaMla(c, f16 ? 2 : 4, chunk === null ? {} : { chunk });
          expect(p.splits * p.keysPerSplit).toBeGreaterThanOrEqual(topk);
          expect((p.splits - 1) * p.keysPerSplit).toBeLessThan(topk);
          expect(p.HB * p.blocks).toBeGreaterThanOrEqual(H);
          expect(p.HB).toBeLessThanOrEqual(16);
          if (chunk !== null) expect(p.keysPerSplit).toBe(Math.min(chunk, topk));
          else expect(rule(T * p.blocks * p.splits, p.keysPerSplit * c.D * (f16 ? 2 : 4))).toBe(true);
        },
      ),
    );
    expect(planDsaMla({ T: 1, S: 100, Hq: 4, D: 40, Dr: 8, topk: 30, causal: true }, 4, { chunk: Infinity }).splits).toBe(1);
  });

  for (const S of [8192, 32768, 131072]) {
    it(`S = ${S}, k = 2048: the gathering dispatch meets the split rule for 16 and 128 heads, f32 and f16`, () => {
      for (const dtype of ['f32', 'f16'] as const) {
        const el = dtype === 'f32' ? 4 : 2;
        for (const Hq of [16, 128]) {
          const c = withDefaults(dsaAttention, { T: 1, S, Hq, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 2048, dtype });
          const g = dsaMlaGeometry(c, el);
          expect(rule(g.split, g.bytesPerWorkgroup), `${dtype} Hq ${Hq} ${JSON.stringify(g)}`).toBe(true);
          // Heads are the M dimension: blocks of 8 heads at 512 + 64 (each gathered row read once per block).
          expect(g.plan.blocks).toBe(Hq / 8);
        }
      }
    });
  }

  it('the bench shape (S = 32K, k = 2048, 16 heads, f32): 2 head blocks x 74 ranges of 28 rows (63 KiB each) and 128 merge workgroups', () => {
    const g = dsaMlaGeometry(withDefaults(dsaAttention, { T: 1, S: 32768, Hq: 16, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 2048 }), 4);
    expect([g.plan.blocks, g.split, g.plan.keysPerSplit, g.bytesPerWorkgroup, g.merge]).toEqual([2, 148, 28, 28 * 576 * 4, 128]);
  });

  it('validates the V3.2 shapes on a 16 KiB-workgroup-memory device', () => {
    const caps = fakeCaps({ maxComputeWorkgroupStorageSize: 16384 }, { subgroups: false, timestamps: false });
    for (const Hq of [1, 16, 128]) {
      expect(validateConfig(dsaAttention, withDefaults(dsaAttention, { T: 1, S: 32768, Hq, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 2048 }), caps)).toEqual([]);
    }
  });
});
