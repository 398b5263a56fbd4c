// The MoE cost model and load statistics on plain numbers.
import { describe, expect, it } from 'vitest';
import { findPreset } from '../../models/presets.ts';
import { denseEquivalentInter, expectedActiveExperts, moeParams, moeShapeOf, moeStepCost } from './moe-cost.ts';
import { expertLoad, loadStats, updateBias } from '../../demos/load-balance.ts';

const model = (id: string) => moeShapeOf(findPreset(id)!)!;

describe('parameters', () => {
  it('DeepSeek-V3: 256 + 1 experts of 3 x 7168 x 2048 in 58 layers', () => {
    const p = moeParams(model('deepseek-v3'));
    const expert = 3 * 7168 * 2048;
    expect(p.total).toBe(58 * (257 * expert + 256 * 7168));
    expect(p.active).toBe(58 * (9 * expert + 256 * 7168));
  });

  // The MoE layers hold most of each model's published size and most of its active parameters, and never more.
  const published: [string, number, number][] = [
    ['deepseek-v3', 671e9, 37e9],
    ['kimi-k2', 1.04e12, 32e9],
    ['qwen3-235b-a22b', 235e9, 22e9],
    ['mixtral-8x7b', 46.7e9, 12.9e9],
  ];
  for (const [name, total, active] of published) {
    it(`${name}: MoE parameters are 90-100% of ${total / 1e9}B, active below ${active / 1e9}B`, () => {
      const p = moeParams(model(name));
      expect(p.total / total).toBeGreaterThan(0.9);
      expect(p.total / total).toBeLessThan(1);
      expect(p.active).toBeLessThan(active);
      expect(p.active / active).toBeGreaterThan(0.4);
      expect(p.activeFraction).toBeCloseTo(p.perLayerActive / p.perLayerTotal, 12);
    });
  }

  it('dense equivalent has the same active FFN parameters', () => {
    const m = model('deepseek-v3');
    expect(denseEquivalentInter(m)).toBe(9 * 2048);
  });
});

describe('step cost', () => {
  it('expected active experts: topk for one token, all experts for a large batch, monotone', () => {
    expect(expectedActiveExperts(256, 8, 1)).toBeCloseTo(8, 12);
    expect(expectedActiveExperts(256, 8, 10_000)).toBeCloseTo(256, 6);
    let last = 0;
    for (let n = 1; n <= 128; n *= 2) {
      const a = expectedActiveExperts(256, 8, n);
      expect(a).toBeGreaterThan(last);
      expect(a).toBeLessThanOrEqual(Math.min(256, 8 * n));
      last = a;
    }
  });

  it('decode reads a growing share of the experts: FLOPs per weight byte grows with the batch', () => {
    const m = model('deepseek-v3');
    const one = moeStepCost(m, 1, 1);
    const batch = moeStepCost(m, 64, 1);
    expect(one.weightBytes).toBe(m.layers * ((8 + 1) * 3 * 7168 * 2048 + 256 * 7168));
    expect(batch.flops).toBeCloseTo(64 * one.flops, 0);
    expect(batch.weightBytes / one.weightBytes).toBeGreaterThan(10);
    expect(batch.intensity).toBeGreaterThan(one.intensity);
    expect(one.intensity).toBeCloseTo(2, 6); // one token: every weight read once and used in one multiply-add
  });
});

describe('load statistics and the bias update', () => {
  it('load, max/mean and CV of a known load', () => {
    const load = expertLoad(Int32Array.of(0, 1, 1, 1, 3, -1, 7), 4);
    expect(load).toEqual([1, 3, 0, 1]);
    const s = loadStats(load);
    expect(s.mean).toBe(1.25);
    expect(s.maxOverMean).toBe(2.4);
    expect(s.cv).toBeCloseTo(Math.sqrt((0.0625 + 3.0625 + 1.5625 + 0.0625) / 4) / 1.25, 12);
    expect(loadStats([5, 5, 5]).cv).toBe(0);
  });

  it('b_i += gamma * sign(mean - load_i): busy experts fall, idle rise, average ones stay', () => {
    const bias = Float32Array.of(0, 0, 0.5);
    updateBias(bias, [10, 2, 6], 0.25);
    expect(Array.from(bias)).toEqual([-0.25, 0.25, 0.5]);
  });
});
