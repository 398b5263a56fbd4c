// flash_prefill's tile plan and validation, without a device: every allowed head dim gets a plan whose lanes
// cover it, the rows per quad and quads per workgroup follow the device (CPU emulation: 16 rows, one quad;
// else 4 rows, 16 quads) and the rows there are, and
// configs that break the vec4 / f16 rules are refused naming the field.
import { describe, expect, it } from 'vitest';
import type { AdapterSummary, DeviceCaps } from '../../gpu/context.ts';
import { withDefaults } from '../contract.ts';
import { validateConfig } from '../common/validate.ts';
import type { AttentionConfig } from './attention-config.ts';
import { flashPrefill, flashPrefillPlan } from './flash-prefill.ts';
import { SWIFTSHADER_LIMITS } from '../../../test/device-caps.ts';

const limits = SWIFTSHADER_LIMITS;
const adapter = (architecture: string): AdapterSummary => ({ vendor: 'google', architecture, device: '', description: '', backend: 'dawn' });
const swiftshader: DeviceCaps & { adapter: AdapterSummary } = { limits, features: { f16: false, subgroups: true, timestamps: true }, adapter: adapter('swiftshader') };
const minimal: DeviceCaps = { limits: { ...limits, maxComputeWorkgroupStorageSize: 16384 }, features: { f16: false, subgroups: false, timestamps: false } };
const gpuF16: DeviceCaps & { adapter: AdapterSummary } = {
  limits: { ...limits, maxComputeWorkgroupStorageSize: 65536, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 },
  features: { f16: true, subgroups: true, timestamps: true },
  adapter: adapter('ampere'),
};

const config = (c: Partial<AttentionConfig>) => withDefaults(flashPrefill, c);

describe('flash_prefill tile plan', () => {
  for (const [name, caps] of Object.entries({ swiftshader, minimal, gpuF16 })) {
    it(`${name}: every D % 4 == 0 up to 256 is covered by the 4 lanes' column slots, within the device`, () => {
      for (let D = 4; D <= 256; D += 4) {
        const p = flashPrefillPlan(config({ T: 100, S: 1000, Hq: 8, Hkv: 2, D }), caps);
        expect(p.wg).toBe(4 * p.quadsPerWorkgroup);
        expect(p.wg).toBeLessThanOrEqual(caps.limits.maxComputeInvocationsPerWorkgroup);
        expect(4 * p.laneColumns * 4, `D=${D}`).toBeGreaterThanOrEqual(D);
        expect(4 * (p.laneColumns - 1) * 4, `D=${D}`).toBeLessThan(D);
        expect(p.laneColumns).toBeLessThanOrEqual(16);
        expect(p.workgroupBytes).toBeLessThanOrEqual(caps.limits.maxComputeWorkgroupStorageSize);
        expect(p.rowsPerBlock).toBe(4 * p.rowQuads * p.quadsPerWorkgroup);
      }
    });
  }

  it('CPU emulation: one quad of 16 rows per workgroup; elsewhere 16 quads of 4 rows; one workgroup per row block per KV head', () => {
    const c = config({ T: 1024, S: 1024, Hq: 8, Hkv: 8, D: 64 });
    expect(flashPrefillPlan(c, swiftshader)).toMatchObject({ wg: 4, rowsPerBlock: 16, laneColumns: 4, workgroups: 8 * 64, workgroupBytes: 0, subgroups: true });
    expect(flashPrefillPlan(c, gpuF16)).toMatchObject({ wg: 64, rowQuads: 1, quadsPerWorkgroup: 16, rowsPerBlock: 64, workgroups: 8 * 16 });
    expect(flashPrefillPlan(c, swiftshader, { rowQuads: 2, quadsPerWorkgroup: 3 })).toMatchObject({ wg: 12, rowsPerBlock: 24, workgroups: 8 * Math.ceil(1024 / 24) });
  });

  it('never more row quads than rows; the workgroup-memory lane sum without subgroups', () => {
    // GQA 2, T = 3: 6 rows per KV head, two quads' worth.
    expect(flashPrefillPlan(config({ T: 3, S: 5, Hq: 4, Hkv: 2, D: 16 }), swiftshader)).toMatchObject({ rowQuads: 2, workgroups: 2 });
    // Without an adapter name (a GPU): quads of 4 rows, as many as the 6 rows fill (2), one vec4 of lane_red each lane.
    expect(flashPrefillPlan(config({ T: 3, S: 5, Hq: 4, Hkv: 2, D: 16 }), minimal)).toMatchObject({ quadsPerWorkgroup: 2, wg: 8, subgroups: false, workgroupBytes: 8 * 16 });
    expect(flashPrefillPlan(config({ T: 3, S: 5, Hq: 4, Hkv: 2, D: 16 }), swiftshader, { subgroups: false })).toMatchObject({ subgroups: false });
  });
});

describe('flash_prefill validation', () => {
  it('refuses a head dim that is not a multiple of 4 (vec4 loads), naming D', () => {
    const issues = validateConfig(flashPrefill, config({ D: 18 }), swiftshader);
    expect(issues).toEqual([expect.objectContaining({ field: 'D', message: expect.stringContaining('multiple of 4') })]);
  });

  it('refuses f16 without shader-f16, naming dtype', () => {
    expect(validateConfig(flashPrefill, config({ dtype: 'f16' }), swiftshader)).toEqual([expect.objectContaining({ field: 'dtype' })]);
    expect(validateConfig(flashPrefill, config({ dtype: 'f16' }), gpuF16)).toEqual([]);
  });

  it('accepts D = 256 in the smallest workgroup memory WebGPU allows', () => {
    const tiny: DeviceCaps = { ...minimal, limits: { ...limits, maxComputeWorkgroupStorageSize: 16384 } };
    expect(validateConfig(flashPrefill, config({ D: 256 }), tiny)).toEqual([]);
  });
});
