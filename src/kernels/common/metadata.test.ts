// Golden metadata in the one strict grammar, the same for every family: the lenient spellings a file could
// slip past Number() are refused, naming the key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../gpu/errors.ts';
import { findKernel, KERNELS } from '../registry.ts';
import { withDefaults } from '../contract.ts';
import { metaBool, metaEnum, metaInt, metaNumber } from './metadata.ts';

describe('golden metadata numbers (class 7)', () => {
  for (const bad of [' 8 ', '0x8', '+8', '8.0', '4e0', '', '8 ']) {
    it(`integer ${JSON.stringify(bad)} is refused, naming the key`, () => {
      expect(() => metaInt({ topk: bad }, 'topk', { min: 1 })).toThrowError(ConfigError);
      expect(() => metaInt({ topk: bad }, 'topk', { min: 1 })).toThrowError(/^topk: metadata .* is not an integer/);
    });
  }
  it('decimals as Python writes them are taken; empty, padded, hex, under/overflowing refused', () => {
    expect(metaNumber({ s: '0.125' }, 's', { positive: true })).toBe(0.125);
    expect(metaNumber({ s: '1e-06' }, 's', { positive: true })).toBe(1e-6);
    for (const bad of ['', ' 0.5', '0x1p3', '1e-400', '1e400', 'inf', 'nan', '0']) {
      expect(() => metaNumber({ s: bad }, 's', { positive: true }), bad).toThrowError(/^s: metadata /);
    }
  });
  it('inf only where the field gives it a meaning', () => {
    expect(metaNumber({ c: 'inf' }, 'c', { fallback: 0, infAs: 0 })).toBe(0);
    expect(() => metaNumber({ c: 'inf' }, 'c', { fallback: 0 })).toThrowError(/"inf" is not a decimal/);
  });
  it('required keys are required; flags and enums exact', () => {
    expect(() => metaInt({}, 'topk', { min: 1 })).toThrowError(/^topk: missing from the golden metadata$/);
    expect(() => metaBool({ causal: '1 ' }, 'causal')).toThrowError(/causal: metadata must be "0" or "1"/);
    expect(() => metaEnum({ f: 'Softmax' }, 'f', ['softmax', 'sigmoid'])).toThrowError(/f: metadata must be one of softmax, sigmoid/);
    expect(metaInt({}, 'n', { min: 0, fallback: 3 })).toBe(3);
  });
});

// The same grammar in every family's fromGolden: one spelling each family used to take.
describe('every family reads metadata strictly (class 7)', () => {
  const attn = { q: [2, 2, 4], k: [5, 1, 4], v: [5, 1, 4] };
  const cases: [string, Record<string, string>, Record<string, number[]>, RegExp][] = [
    ['attention.naive', { causal: '1', scale: '' }, attn, /scale: metadata "" is not a decimal/],
    ['sparse.sliding_window', { causal: '1', window: '4', sinks: '' }, attn, /sinks: metadata "" is not an integer/],
    ['sparse.sliding_window', { causal: '1', window: '4.0' }, attn, /window: metadata "4\.0" is not an integer/],
    ['mla.decode_naive', { softmax_scale: '0x1', causal: '1' }, { q_nope: [1, 2, 4], q_pe: [1, 2, 2], kv_latent: [3, 4], k_pe: [3, 2], wkv_b: [16, 4] }, /softmax_scale: metadata "0x1"/],
    ['moe.router', { score_func: 'sigmoid', topk: '+2' }, { x: [3, 8], gate_weight: [4, 8] }, /topk: metadata "\+2" is not an integer/],
    ['moe.router', { score_func: 'sigmoid', topk: '2', route_scale: '1e-400' }, { x: [3, 8], gate_weight: [4, 8] }, /route_scale: metadata "1e-400" underflows/],
    ['sparse.dsa', { topk: ' 6' }, { ...attn, q_index: [2, 1, 4], k_index: [5, 4], w_index: [2, 1] }, /topk: metadata " 6" is not an integer/],
  ];
  for (const [id, meta, shapes, message] of cases) {
    it(`${id} refuses ${JSON.stringify(meta)}`, () => {
      expect(() => findKernel(id)!.fromGolden!(meta, shapes)).toThrowError(message);
    });
  }
});

// Random text in every metadata key a family reads: the mapping returns a config or throws a ConfigError
// naming a key, never anything else (a TypeError, a NaN in the config).
describe('golden metadata under random text', () => {
  const spellings = fc.oneof(fc.constantFrom('', ' 8', '8 ', '0x8', '+8', '8.0', '4e0', '1e-400', '1e400', 'inf', '-inf', 'nan', '-0', '0', '1', 'true', 'sigmoid', 'softmax'), fc.string({ maxLength: 6 }));
  for (const def of KERNELS.filter((k) => k.fromGolden && k.goldenMeta && k.testCases.length)) {
    it(`${def.id}: a config or a ConfigError`, () => {
      const config = withDefaults(def, def.testCases[0]!.config);
      const meta = def.goldenMeta!(config);
      const shapes = Object.fromEntries([...def.inputs(config), ...def.outputs(config)].map((t) => [t.name, t.shape]));
      const keys = [...Object.keys(meta), 'score_func', 'capacity_factor', 'window', 'sinks', 'scale'];
      fc.assert(
        fc.property(fc.constantFrom(...keys), spellings, (key, text) => {
          try {
            const c = def.fromGolden!({ ...meta, [key]: text }, shapes);
            for (const v of Object.values(c)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            expect((e as Error).message).toMatch(/^[\w/.]+: /); // a key, or a tensor such as attn.wq_b.weight
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});
