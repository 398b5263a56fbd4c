// flash_decode's split plan, scratch, cost and validation, without a device: the split count depends on the
// config only and covers S exactly; the per-device part (lane sums, merge workgroup) fits every profile; refusals name the field and the limit.
import { describe, expect, it } from 'vitest';
import type { DeviceCaps } from '../../gpu/context.ts';
import { withDefaults } from '../contract.ts';
import { validateConfig } from '../common/validate.ts';
import { attentionCost, type AttentionConfig } from './attention-config.ts';
import { resolveShader } from '../../gpu/shader.ts';
import { FLASH_DECODE_MAX_T, flashDecode, flashDecodePlan, flashDecodeShader, flashDecodeSplits, type FlashDecodePlan } from './flash-decode.ts';
import { SWIFTSHADER_LIMITS } from '../../../test/device-caps.ts';

const limits = SWIFTSHADER_LIMITS;
const swiftshader: DeviceCaps = { limits, features: { f16: false, subgroups: true, timestamps: true } };
const minimal: DeviceCaps = { limits: { ...limits, maxComputeWorkgroupStorageSize: 16384 }, features: { f16: false, subgroups: false, timestamps: false } };

const config = (c: Partial<AttentionConfig>) => withDefaults(flashDecode, c);

function plan(c: AttentionConfig, caps: DeviceCaps): FlashDecodePlan {
  const p = flashDecodePlan(c, caps);
  if (!('wg' in p)) throw new Error(p.message);
  return p;
}

describe('flash_decode split plan', () => {
  it('the bench shape (S=4096, Hq=32, Hkv=8, D=128): below 8K keys a split is 256 keys; 4 units of 4 lanes per workgroup', () => {
    const c = config({ T: 1, S: 4096, Hq: 32, Hkv: 8, D: 128 });
    const p = plan(c, swiftshader);
    expect(flashDecodeSplits(c)).toEqual({ splits: 16, chunk: 256 });
    expect(p.quads).toBe(8); // the 4 query heads of a KV head share one read of it
    expect([p.wg, p.lanes, p.chunksPerLane]).toEqual([16, 4, 8]);
    expect(p.workgroups).toBe((8 * 16) / 4);
    expect(p.workgroupBytes).toBe(0); // subgroup lane sums: no workgroup memory
  });

  it('speculative decode T=4 (16 rows per KV head): units of 2 quads, 2 per head; a workgroup is 2 heads on one split', () => {
    const c = config({ T: 4, S: 2048, Hq: 32, Hkv: 8, D: 128 });
    const p = plan(c, swiftshader);
    expect(p.packed).toBe(false);
    expect([p.quads, p.quadsPerUnit, p.groups]).toEqual([32, 2, 16]);
    // Units run in (split, row group) order, 4 to a workgroup.
    expect(p.workgroups).toBe((p.splits * 16) / 4);
    expect(p.bytesPerWorkgroup).toBe(4 * p.chunk * 2 * 128 * 4);
    // 8 rows per KV head (GQA 8, or GQA 4 at T = 2) already pair quads; 4 rows do not.
    expect(plan(config({ T: 1, S: 2048, Hq: 32, Hkv: 4, D: 128 }), swiftshader).quadsPerUnit).toBe(2);
    expect(plan(config({ T: 1, S: 2048, Hq: 32, Hkv: 8, D: 128 }), swiftshader).quadsPerUnit).toBe(1);
    // 12 rows: the second group of a head holds one live quad.
    expect(plan(config({ T: 3, S: 2048, Hq: 8, Hkv: 2, D: 128 }), swiftshader).groups).toBe(2 * 2);
  });

  it('MHA decode (S=4096, 32 heads, D=128) packs 4 KV heads per quad: no dead rows', () => {
    const c = config({ T: 1, S: 4096, Hq: 32, Hkv: 32, D: 128 });
    const p = plan(c, swiftshader);
    expect(p.packed).toBe(true);
    expect(p.quads).toBe(8);
    expect(flashDecodeSplits(c)).toEqual({ splits: 16, chunk: 256 });
    expect(p.workgroups).toBe((8 * 16) / 4);
    // T * G >= 4 rows per KV head: quads stay within one head, which they read once.
    expect(plan(config({ T: 4, S: 2048, Hq: 32, Hkv: 32, D: 128 }), swiftshader).packed).toBe(false);
  });

  it('splits cover S exactly (no empty split) for any S, and short contexts use one split', () => {
    for (const S of [1, 2, 63, 64, 65, 100, 1000, 4097, 100_003]) {
      for (const shape of [{ T: 1, Hq: 32, Hkv: 8 }, { T: 16, Hq: 8, Hkv: 1 }, { T: 3, Hq: 2, Hkv: 2 }]) {
        const { splits, chunk } = flashDecodeSplits(config({ S, D: 64, ...shape }));
        expect(splits * chunk).toBeGreaterThanOrEqual(S);
        expect((splits - 1) * chunk).toBeLessThan(S);
        if (S <= 256) expect(splits).toBe(1);
      }
    }
  });

  for (const [name, caps] of Object.entries({ swiftshader, minimal })) {
    it(`${name}: every D % 4 == 0 up to 256 and T up to ${FLASH_DECODE_MAX_T} fits the device`, () => {
      for (let D = 4; D <= 256; D += 4) {
        for (const T of [1, 5, FLASH_DECODE_MAX_T]) {
          const c = config({ T, S: 3000, Hq: 16, Hkv: 2, D });
          const p = plan(c, caps);
          const at = `D=${D} T=${T}`;
          expect(p.workgroupBytes, at).toBeLessThanOrEqual(caps.limits.maxComputeWorkgroupStorageSize);
          expect(p.rowsPerBlock * p.quads, at).toBeGreaterThanOrEqual(T * 16);
          // The lanes' chunk slots cover D / 4 vec4s, at most 16 slots (the WGSL's unrolled helpers).
          expect(p.lanes * p.chunksPerLane, at).toBeGreaterThanOrEqual(D / 4);
          expect(p.chunksPerLane, at).toBeLessThanOrEqual(16);
          expect(p.subgroups, at).toBe(caps.features.subgroups);
        }
      }
    });
  }

  it('without subgroups (or forced off) the lane sums use workgroup memory: one vec4 per invocation', () => {
    const c = config({ T: 1, S: 500, Hq: 8, Hkv: 2, D: 64 });
    expect(plan(c, minimal).workgroupBytes).toBe(16 * 16);
    const forced = flashDecodePlan(c, swiftshader, { subgroups: false });
    expect('wg' in forced && [forced.subgroups, forced.workgroupBytes]).toEqual([false, 16 * 16]);
  });

  it('scratch holds the partials [splits, T*Hq, D] f32 and (max, sum) pairs; cost adds their round trip', () => {
    const c = config({ T: 2, S: 2048, Hq: 8, Hkv: 2, D: 64 });
    const { splits } = flashDecodeSplits(c);
    expect(splits).toBeGreaterThan(1);
    const acc = splits * 2 * 8 * 64 * 4;
    const ml = splits * 2 * 8 * 8;
    expect(flashDecode.scratch!(c)).toEqual([
      { name: 'part_acc', bytes: acc },
      { name: 'part_ml', bytes: ml },
    ]);
    expect(flashDecode.cost(c).bytes).toBe(attentionCost(c).bytes + 2 * (acc + ml));
    expect(flashDecode.cost(c).flops).toBe(attentionCost(c).flops);
    // One split: pass 1 writes out itself; the partials are the one-element buffers the bindings need.
    const short = config({ T: 1, S: 40, D: 64 });
    expect(flashDecode.scratch!(short)).toEqual([
      { name: 'part_acc', bytes: 16 },
      { name: 'part_ml', bytes: 8 },
    ]);
  });
});

describe('flash_decode module', () => {
  it('f16 storage compiles the same WGSL as f32: only the f16 enable and the elem alias differ', () => {
    const f16caps: DeviceCaps = { ...swiftshader, features: { ...swiftshader.features, f16: true } };
    for (const shape of [{ T: 1, S: 4096, Hq: 32, Hkv: 8, D: 128 }, { T: 3, S: 40, Hq: 5, Hkv: 5, D: 20 }]) {
      const text = (dtype: 'f32' | 'f16') => {
        const c = config({ ...shape, dtype });
        return resolveShader(flashDecodeShader(c, plan(c, f16caps))).split('\n');
      };
      const a = text('f32');
      const b = text('f16');
      expect(b.length).toBe(a.length + 1); // the enable line
      expect(b[0]).toBe('enable f16;');
      expect(b.slice(1).filter((line, i) => line !== a[i])).toEqual(['alias elem = f16;']);
    }
  });

  it('without subgroups the module has the workgroup-memory lane sum and no subgroup enable', () => {
    const c = config({ T: 1, S: 500, Hq: 8, Hkv: 2, D: 64 });
    const sub = resolveShader(flashDecodeShader(c, plan(c, swiftshader)));
    const wgm = resolveShader(flashDecodeShader(c, plan(c, minimal)));
    expect(sub).toMatch(/^enable subgroups;/m);
    expect(sub).toMatch(/quadSwapX/);
    expect(sub).not.toMatch(/workgroupBarrier/);
    expect(wgm).not.toMatch(/enable subgroups/);
    expect(wgm).toMatch(/var<workgroup> lane_red/);
  });
});

describe('flash_decode validation', () => {
  it(`refuses T > ${FLASH_DECODE_MAX_T}, pointing to flash_prefill`, () => {
    const issues = validateConfig(flashDecode, config({ T: FLASH_DECODE_MAX_T + 1, S: 100 }), swiftshader);
    expect(issues).toEqual([{ field: 'T', message: `${FLASH_DECODE_MAX_T + 1} queries exceed flash_decode's maximum of ${FLASH_DECODE_MAX_T} (use attention.flash_prefill for longer query blocks)` }]);
    expect(validateConfig(flashDecode, config({ T: FLASH_DECODE_MAX_T, S: 100 }), swiftshader)).toEqual([]);
  });

  it('refuses D % 4 != 0, f16 without the feature, and Hq not a multiple of Hkv, naming each field', () => {
    expect(validateConfig(flashDecode, config({ D: 10 }), swiftshader).map((i) => i.field)).toEqual(['D']);
    expect(validateConfig(flashDecode, config({ dtype: 'f16' }), swiftshader).map((i) => i.field)).toEqual(['dtype']);
    expect(validateConfig(flashDecode, config({ Hq: 12, Hkv: 8 }), swiftshader).map((i) => i.field)).toEqual(['Hq']);
  });

  it('refuses a device whose workgroup memory cannot hold the lane sums, naming the limit', () => {
    const tiny: DeviceCaps = { limits: { ...limits, maxComputeWorkgroupStorageSize: 128 }, features: { f16: false, subgroups: false, timestamps: false } };
    const issues = validateConfig(flashDecode, config({ T: 1, S: 500, Hq: 4, Hkv: 1, D: 64 }), tiny);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/128/);
    // With subgroups the same device needs none.
    expect(validateConfig(flashDecode, config({ T: 1, S: 500, Hq: 4, Hkv: 1, D: 64 }), { ...tiny, features: { ...tiny.features, subgroups: true } })).toEqual([]);
  });

  it('refuses partials over the storage binding limit through scratch()', () => {
    const small: DeviceCaps = { ...swiftshader, limits: { ...limits, maxStorageBufferBindingSize: 1 << 18 } };
    const c = config({ T: 16, S: 100_000, Hq: 64, Hkv: 64, D: 64 });
    const issues = validateConfig(flashDecode, c, small);
    expect(issues.map((i) => i.field)).toContain('part_acc');
  });
});
