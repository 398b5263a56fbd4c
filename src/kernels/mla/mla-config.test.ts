// MLA kernels without a GPU: validation messages, the golden-file mapping (fromGolden / goldenMeta and the
// kernels' own reference on the shared samples), the absorbed kernel's split-K plan against the fixed
// sizes in its WGSL, the cost model, and compress's untouched-rows comparison.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceCaps } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import { readSafetensors } from '../../io/safetensors.ts';
import { caseTally, GOLDEN_DIR, goldenFilesFor } from '../../../test/golden-fixtures.ts';
import { relL2 } from '../compare.ts';
import { withDefaults, type AnyKernel } from '../contract.ts';
import { createRng, freshSeed } from '../random.ts';
import type { HostTensor } from '../tensor.ts';
import { validateConfig } from '../common/validate.ts';
import { mlaCompress } from './compress.ts';
import { mlaDecodeAbsorbed, planAbsorbed, uvRows } from './decode-absorbed.ts';
import { mlaDecodeNaive } from './decode-naive.ts';
import { PRIVATE_FLOATS } from './latent-split.ts';
import { latentCacheBytes, mlaDecodeInputs, type MlaDecodeConfig } from './mla-config.ts';
import { mlaDecodeGoldenMeta } from './mla-golden.ts';
import { fakeCaps } from '../../../test/device-caps.ts';

const caps = fakeCaps({ maxComputeWorkgroupStorageSize: 16384 }, { subgroups: false, timestamps: false });

const decoders: AnyKernel[] = [mlaDecodeNaive, mlaDecodeAbsorbed];

function issuesOf(def: AnyKernel, partial: Record<string, unknown>, c: DeviceCaps = caps) {
  return validateConfig(def, withDefaults(def, partial), c);
}

describe('MLA validation: one line naming the field, the value and the limit', () => {
  for (const def of [...decoders, mlaCompress]) {
    it(`${def.id}: d_c = 0`, () => {
      const issues = issuesOf(def, { dc: 0 });
      expect(issues).toEqual([{ field: 'dc', message: '0 is below the minimum 1' }]);
    });
    it(`${def.id}: odd d_rope`, () => {
      const issues = issuesOf(def, { dr: 7 });
      expect(issues.map((i) => i.field)).toContain('dr');
      expect(issues.find((i) => i.field === 'dr')!.message).toMatch(/^7 is odd; RoPE rotates pairs/);
    });
    it(`${def.id}: f16 without shader-f16`, () => {
      expect(issuesOf(def, { dtype: 'f16' })).toEqual([{ field: 'dtype', message: 'f16 needs the shader-f16 feature, which this adapter does not offer' }]);
    });
  }
  for (const def of decoders) {
    it(`${def.id}: H = 0`, () => {
      expect(issuesOf(def, { H: 0 })).toEqual([{ field: 'H', message: '0 is below the minimum 1' }]);
    });
    it(`${def.id}: latent cache over the storage binding limit`, () => {
      const issues = issuesOf(def, { S: 1 << 20, dc: 512 });
      const latent = issues.find((i) => i.field === 'kv_latent');
      expect(latent?.message).toBe('needs 2.00 GiB (2147483648 B), over this device\'s maxStorageBufferBindingSize of 1.00 GiB (1073741824 B)');
    });
    it(`${def.id}: too few storage buffers per stage`, () => {
      const small = { ...caps, limits: { ...caps.limits, maxStorageBuffersPerShaderStage: 6 } };
      const issue = issuesOf(def, {}, small).find((i) => i.field === 'device');
      expect(issue?.message).toBe("this kernel binds 8 storage buffers, over this device's maxStorageBuffersPerShaderStage of 6");
    });
    it(`${def.id}: more queries than cached tokens`, () => {
      expect(issuesOf(def, { T: 5, S: 4 })).toEqual([{ field: 'T', message: '5 queries exceed S = 4 cached tokens (queries sit at positions S-T .. S-1)' }]);
    });
  }
  it('naive: the expanded K/V of DeepSeek-V3 at 32K tokens and 128 heads does not fit one binding', () => {
    const issue = issuesOf(mlaDecodeNaive, { S: 32768, H: 128 }).find((i) => i.field === 'kv_full');
    expect(issue?.message).toMatch(/^needs 4\.00 GiB .* over this device's maxStorageBufferBindingSize of 1\.00 GiB/);
  });
  it('absorbed: the latent must fit the written-out column loops; any even rope width', () => {
    expect(issuesOf(mlaDecodeAbsorbed, { dc: 4096 })).toEqual([
      { field: 'dc', message: "4096 latent columns exceed this kernel's 1024; mla.decode_naive takes wider latents" },
    ]);
    expect(issuesOf(mlaDecodeAbsorbed, { dc: 510, dr: 6 })).toEqual([]);
    expect(issuesOf(mlaDecodeNaive, { dc: 510, dr: 6 })).toEqual([]);
  });
  it('compress: the new rows must fit the cache', () => {
    expect(issuesOf(mlaCompress, { S: 10, start: 8, T: 3 })).toEqual([{ field: 'start', message: "8 + T = 3 runs past the cache's S = 10 rows" }]);
  });
  it('every message is a single line', () => {
    const all = [
      ...issuesOf(mlaDecodeAbsorbed, { dc: 4094, dr: 3, dtype: 'f16', T: 9, S: 2 }),
      ...issuesOf(mlaDecodeNaive, { S: 1 << 22, H: 1024 }),
      ...issuesOf(mlaCompress, { dr: 5, start: 2000 }),
    ];
    expect(all.length).toBeGreaterThan(4);
    for (const i of all) expect(i.message).not.toContain('\n');
  });
});

describe('mla.decode golden mapping', () => {
  const files = goldenFilesFor('mla.decode');
  const tally = caseTally(files.flatMap((f) => decoders.map((d) => `${d.id}:${f}`)));
  for (const file of files) {
    for (const def of decoders) {
      it(`${def.id} takes ${file} and its reference reproduces "out"`, () => {
        const st = readSafetensors(readFileSync(path.join(GOLDEN_DIR, file)), file);
        const shapes = Object.fromEntries(Object.entries(st.tensors).map(([k, v]) => [k, v.shape]));
        const config = def.fromGolden!(st.metadata, shapes) as MlaDecodeConfig;
        expect(config.softmax_scale).toBe(Number(st.metadata.softmax_scale));
        expect(validateConfig(def, config, caps)).toEqual([]);
        const inputs = Object.fromEntries(def.inputs(config).map((s) => [s.name, st.tensors[s.name]! as HostTensor]));
        for (const spec of def.inputs(config)) expect(inputs[spec.name]!.shape).toEqual(spec.shape);
        const out = def.reference(inputs, config).out!;
        expect(relL2('out', out.data, st.tensors.out!.data, 1e-5).ok).toBe(true);
        tally.ran(`${def.id}:${file}`);
      });
    }
  }
  it('ran every mla.decode sample through every decoder', () => expect(tally.missing()).toEqual([]));
  it('goldenMeta is the inverse of fromGolden', () => {
    const c = withDefaults(mlaDecodeNaive, { T: 3, S: 11, H: 5, dn: 7, dr: 4, dc: 20, dv: 9, causal: false, softmax_scale: 0.1234 }) as MlaDecodeConfig;
    const shapes = Object.fromEntries(mlaDecodeInputs(c).map((s) => [s.name, s.shape]));
    expect(mlaDecodeNaive.fromGolden!(mlaDecodeGoldenMeta(c), shapes)).toEqual(c);
    expect(mlaDecodeAbsorbed.fromGolden!(mlaDecodeGoldenMeta(c), shapes)).toEqual({ ...c, splits: 0 });
  });
  it('refuses files it cannot take, naming the field', () => {
    const c = withDefaults(mlaDecodeNaive, { T: 1, S: 4, H: 2, dn: 3, dr: 2, dc: 5, dv: 4 }) as MlaDecodeConfig;
    const shapes = Object.fromEntries(mlaDecodeInputs(c).map((s) => [s.name, s.shape]));
    const fieldOf = (meta: Record<string, string>, sh: Record<string, number[]>) => {
      try {
        mlaDecodeNaive.fromGolden!(meta, sh);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues[0]!.field;
      }
      return 'accepted';
    };
    expect(fieldOf({ causal: '1' }, shapes)).toBe('softmax_scale');
    expect(fieldOf({ softmax_scale: '0.5', causal: 'yes' }, shapes)).toBe('causal');
    expect(fieldOf({ softmax_scale: '0.5' }, { ...shapes, wkv_b: [15, 5] })).toBe('wkv_b');
    expect(fieldOf({ softmax_scale: '0.5' }, { ...shapes, k_pe: [4, 4] })).toBe('k_pe');
    expect(fieldOf({ softmax_scale: '0.5' }, { ...shapes, q_pe: [1, 2] })).toBe('q_pe');
  });
});

describe('absorbed split-K plan', () => {
  it('fits one workgroup, covers every head and key, and tiles the ranges', () => {
    fc.assert(
      fc.property(
        fc.record({
          T: fc.integer({ min: 1, max: 64 }),
          S: fc.integer({ min: 1, max: 1 << 20 }),
          H: fc.integer({ min: 1, max: 1024 }),
          dc: fc.integer({ min: 1, max: 960 }),
          dr2: fc.integer({ min: 1, max: 32 }),
          splits: fc.integer({ min: 0, max: 256 }),
          f16: fc.boolean(),
        }),
        ({ T, S, H, dc, dr2, splits, f16 }) => {
          const c = withDefaults(mlaDecodeAbsorbed, { T: Math.min(T, S), S, H, dc, dr: 2 * dr2, splits, dtype: f16 ? 'f16' : 'f32' });
          const p = planAbsorbed(c);
          expect(p.HB).toBeLessThanOrEqual(16); // a walker's score registers
          expect(p.HB * p.blocks).toBeGreaterThanOrEqual(c.H);
          expect((p.HB - 1) * p.blocks).toBeLessThan(c.H); // balanced blocks
          expect(4 * p.QC).toBeGreaterThanOrEqual(dc + c.dr); // 4 lanes x QC column quads cover the row
          expect(p.HB === 1 || p.HB * (p.QC + p.VQ) <= PRIVATE_FLOATS).toBe(true); // private columns per lane
          expect(p.splits * p.keysPerSplit).toBeGreaterThanOrEqual(S);
          expect((p.splits - 1) * p.keysPerSplit).toBeLessThan(S);
          expect(p.splits).toBeLessThanOrEqual(Math.max(1024, splits));
          expect(validateConfig(mlaDecodeAbsorbed, c, { ...caps, limits: { ...caps.limits, maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: 2 ** 40 }, features: { ...caps.features, f16: true } })).toEqual([]);
        },
      ),
    );
  });
  it('DeepSeek-V3 with 128 heads: 16 blocks of 8 heads, so the cache streams 16 times, not 128', () => {
    const p = planAbsorbed(withDefaults(mlaDecodeAbsorbed, { S: 32768, H: 128 }));
    expect([p.blocks, p.HB, p.QC, p.VQ]).toEqual([16, 8, 144, 128]);
    expect(p.splits * p.blocks).toBeGreaterThanOrEqual(512);
  });
  it('below 8K keys a range is at least 128 keys: S = 2048, 16 heads -> 16 ranges, not 74 of 28 keys', () => {
    const p = planAbsorbed(withDefaults(mlaDecodeAbsorbed, { S: 2048, H: 16 }));
    expect([p.splits, p.keysPerSplit, p.HB]).toEqual([16, 128, 8]);
    expect(planAbsorbed(withDefaults(mlaDecodeAbsorbed, { S: 100, H: 16 })).splits).toBe(1);
    // The user's count of ranges still wins.
    expect(planAbsorbed(withDefaults(mlaDecodeAbsorbed, { S: 2048, H: 16, splits: 74 })).splits).toBe(74);
  });
  it('the W_UV GEMV streams <= 64 KiB of rows per walker: 32 rows at d_c = 512 (f32), 64 in f16, whole heads when they are small', () => {
    expect(uvRows(withDefaults(mlaDecodeAbsorbed, { dc: 512, dv: 128 }))).toBe(32);
    expect(uvRows(withDefaults(mlaDecodeAbsorbed, { dc: 512, dv: 128, dtype: 'f16' }))).toBe(64);
    expect(uvRows(withDefaults(mlaDecodeAbsorbed, { dc: 44, dv: 11 }))).toBe(12);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 1, max: 512 }), fc.boolean(), (dc, dv, f16) => {
        const rows = uvRows(withDefaults(mlaDecodeAbsorbed, { dc, dv, dtype: f16 ? 'f16' : 'f32' }));
        expect(rows % 4).toBe(0);
        expect(rows * dc * (f16 ? 2 : 4) <= 64 * 1024 || rows === 4).toBe(true);
        expect(rows).toBeLessThanOrEqual(4 * Math.ceil(dv / 4));
      }),
    );
  });
  it('16 heads take two blocks of 8 at 512 + 64 (the cache streams twice), one at a narrow latent; at S >= 8K a step launches >= 512 workgroups or reads <= 64 KiB each', () => {
    expect(planAbsorbed(withDefaults(mlaDecodeAbsorbed, { S: 8192, H: 16, dc: 128, dr: 32 })).blocks).toBe(1);
    for (const S of [8192, 16384, 32768]) {
      for (const dtype of ['f32', 'f16'] as const) {
        const c = withDefaults(mlaDecodeAbsorbed, { S, H: 16, dtype });
        const p = planAbsorbed(c);
        expect(p.blocks).toBe(2);
        const bytes = p.keysPerSplit * (c.dc + c.dr) * (dtype === 'f16' ? 2 : 4);
        expect(p.splits * p.blocks >= 512 || bytes <= 64 * 1024, `S=${S} ${dtype}: ${p.splits} splits of ${bytes} bytes`).toBe(true);
      }
    }
  });
});

describe('cost model', () => {
  it('DeepSeek-V3 heads: the absorbed step reads (512+64) values per token; the naive one adds H*(dn+dv) expanded floats', () => {
    const c = withDefaults(mlaDecodeAbsorbed, { S: 8192, H: 16 });
    expect(latentCacheBytes(c)).toBe(8192 * 576 * 4);
    expect(mlaDecodeAbsorbed.cost(c).kvCacheBytes).toBe(8192 * 576 * 4);
    expect(mlaDecodeNaive.cost(c).kvCacheBytes).toBe(8192 * 576 * 4 + 8192 * 16 * 256 * 4);
    // The expansion GEMM alone: 2 * S * d_c * H * (dn+dv).
    expect(mlaDecodeNaive.cost(c).flops).toBeGreaterThan(2 * 8192 * 512 * 16 * 256);
    expect(mlaDecodeAbsorbed.cost(c).flops).toBeLessThan(mlaDecodeNaive.cost(c).flops / 4);
  });
});

describe('compress comparison', () => {
  const c = withDefaults(mlaCompress, { T: 2, S: 6, start: 1, dim: 8, dc: 4, dr: 4 });
  const inputs = mlaCompress.randomInputs!(c, createRng(freshSeed()));
  const want = mlaCompress.reference(inputs, c);
  const [latentSpec] = mlaCompress.outputs(c);
  const compare = latentSpec!.compare as Extract<NonNullable<typeof latentSpec>['compare'], { kind: 'custom' }>;
  const poisoned = () => Float32Array.from(want.kv_latent!.data, (x) => (Number.isNaN(x) ? NaN : x));
  it('accepts the reference rows with untouched (NaN) rows elsewhere', () => {
    expect(compare.fn({ kv_latent: { shape: [6, 4], data: poisoned() } }, want).ok).toBe(true);
  });
  it('rejects a value written outside rows start..start+T-1', () => {
    const g = poisoned();
    g[0] = 0;
    const r = compare.fn({ kv_latent: { shape: [6, 4], data: g } }, want);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('1 value(s) written outside rows start..start+T-1');
  });
  it('rejects a wrong written row', () => {
    const g = poisoned();
    g[4] = g[4]! + 1;
    expect(compare.fn({ kv_latent: { shape: [6, 4], data: g } }, want).ok).toBe(false);
  });
});
