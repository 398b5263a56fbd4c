// flash_prefill's tile plan and validation, without a device: tiles fit the workgroup memory they are given
// on every device profile, and configs that cannot fit (or break the vec4 / f16 rules) are refused naming
// the field and the limit.
import { describe, expect, it } from 'vitest';
import type { DeviceCaps } from '../../gpu/context.ts';
import { withDefaults } from '../contract.ts';
import { validateConfig } from '../common/validate.ts';
import type { AttentionConfig } from './attention-config.ts';
import { flashPrefill, flashPrefillPlan, type FlashPrefillPlan } from './flash-prefill.ts';
import { SWIFTSHADER_LIMITS } from '../../../test/device-caps.ts';

const limits = SWIFTSHADER_LIMITS;
const swiftshader: DeviceCaps = { limits, features: { f16: false, subgroups: true, timestamps: true } };
const minimal: DeviceCaps = { limits: { ...limits, maxComputeWorkgroupStorageSize: 16384 }, features: { f16: false, subgroups: false, timestamps: false } };
const bigF16: DeviceCaps = { limits: { ...limits, maxComputeWorkgroupStorageSize: 65536, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 }, features: { f16: true, subgroups: true, timestamps: true } };

const config = (c: Partial<AttentionConfig>) => withDefaults(flashPrefill, c);

function plan(c: AttentionConfig, caps: DeviceCaps): FlashPrefillPlan {
  const p = flashPrefillPlan(c, caps);
  if (!('wg' in p)) throw new Error(p.message);
  return p;
}

describe('flash_prefill tile plan', () => {
  for (const [name, caps] of Object.entries({ swiftshader, minimal, bigF16 })) {
    it(`${name}: every D % 4 == 0 up to 256, both dtypes, fits the device`, () => {
      for (let D = 4; D <= 256; D += 4) {
        for (const dtype of caps.features.f16 ? (['f32', 'f16'] as const) : (['f32'] as const)) {
          const p = plan(config({ T: 100, S: 1000, Hq: 8, Hkv: 2, D, dtype }), caps);
          expect(p.workgroupBytes, `D=${D} ${dtype}`).toBeLessThanOrEqual(caps.limits.maxComputeWorkgroupStorageSize);
          expect(p.tileKeys % 4).toBe(0);
          expect(p.tileKeys).toBeGreaterThanOrEqual(4);
          expect(p.wg).toBeLessThanOrEqual(caps.limits.maxComputeInvocationsPerWorkgroup);
          expect(p.rowsPerBlock % 4).toBe(0);
          // Exactly one invocation per 8 x 8 micro-tile (quad pair, vec4 column pair) of O.
          expect(p.wg).toBe(Math.ceil(p.rowsPerBlock / 8) * Math.ceil(D / 8));
        }
      }
    });
  }

  it('tiles never stage more keys than exist, and one workgroup per row block per KV head', () => {
    const p = plan(config({ T: 2, S: 5, Hq: 4, Hkv: 2, D: 16 }), swiftshader);
    expect(p.tileKeys).toBe(8);
    const q = plan(config({ T: 1024, S: 1024, Hq: 8, Hkv: 8, D: 64 }), swiftshader);
    expect(q.workgroups).toBe(8 * Math.ceil(1024 / q.rowsPerBlock));
  });

  it('the bench shape: 32-row blocks, K/V tiles of 36 keys, one invocation per 8 x 8 tile of O, under 32 KiB', () => {
    const p = plan(config({ T: 1024, S: 1024, Hq: 8, Hkv: 8, D: 64 }), swiftshader);
    expect(p.rowsPerBlock).toBe(32);
    expect(p.wg).toBe((32 / 8) * (64 / 8));
    expect(p.tileKeys).toBe(36);
    expect(p.workgroups).toBe(8 * 32);
    expect(p.workgroupBytes).toBeLessThanOrEqual(32768);
  });
});

describe('flash_prefill validation', () => {
  it('refuses a head dim that is not a multiple of 4 (vec4 loads), naming D', () => {
    const issues = validateConfig(flashPrefill, config({ D: 18 }), swiftshader);
    expect(issues).toEqual([expect.objectContaining({ field: 'D', message: expect.stringContaining('multiple of 4') })]);
  });

  it('refuses f16 without shader-f16, naming dtype', () => {
    expect(validateConfig(flashPrefill, config({ dtype: 'f16' }), swiftshader)).toEqual([expect.objectContaining({ field: 'dtype' })]);
    expect(validateConfig(flashPrefill, config({ dtype: 'f16' }), bigF16)).toEqual([]);
  });

  it('refuses a tile that cannot fit, naming D, the bytes and the limit', () => {
    const tiny: DeviceCaps = { ...swiftshader, limits: { ...limits, maxComputeWorkgroupStorageSize: 4096 } };
    const issues = validateConfig(flashPrefill, config({ D: 256 }), tiny);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toBe('D');
    expect(issues[0]!.message).toMatch(/^256 needs \d+ B of workgroup memory .* maxComputeWorkgroupStorageSize of 4096 B$/);
    expect(validateConfig(flashPrefill, config({ D: 64 }), tiny)).toEqual([]);
  });
});
