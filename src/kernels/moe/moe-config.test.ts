// MoE configuration logic without a GPU: validation messages, golden-file mapping, the routing comparison
// and the exactness of the router's test inputs.
import { describe, expect, it } from 'vitest';
import { withDefaults, type AnyKernel } from '../contract.ts';
import { createRng, freshSeed } from '../random.ts';
import { validateConfig } from '../common/validate.ts';
import { moeDispatch } from './dispatch.ts';
import { moeForward } from './forward.ts';
import { moeGroupedFfn } from './grouped-ffn.ts';
import { routingComparison, routingInputs } from './moe-config.ts';
import { moeRouter } from './router.ts';
import { fakeCaps } from '../../../test/device-caps.ts';

const caps = fakeCaps({ maxComputeWorkgroupStorageSize: 16384 }, { subgroups: false, timestamps: false });

describe('validation: one line naming the field and the limit', () => {
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['topk > E', { E: 6, topk: 8, n_groups: 1, topk_groups: 1 }, 'topk', /8 is more than the E = 6 experts/],
    ['n_groups not dividing E', { E: 30, n_groups: 8, topk_groups: 4 }, 'n_groups', /E = 30 experts is not a multiple of n_groups = 8/],
    ['topk_groups > n_groups', { E: 64, n_groups: 4, topk_groups: 5 }, 'topk_groups', /5 is more than n_groups = 4/],
    ['topk > topk_groups * E / n_groups', { E: 64, topk: 9, n_groups: 8, topk_groups: 1 }, 'topk', /9 is more than the 8 experts in topk_groups = 1 of 8 groups/],
    ['bias with one-expert groups', { E: 8, topk: 2, n_groups: 8, topk_groups: 4 }, 'n_groups', /at least 2 experts/],
    ['dim not a multiple of 4', { dim: 30 }, 'dim', /30 must be a multiple of 4/],
    ['mixtral with groups', { routing: 'mixtral', bias: false }, 'routing', /no groups and no bias/],
    ['E over the workgroup bound', { E: 400 }, 'E', /400 is above the maximum 384/],
  ];
  for (const [name, partial, field, message] of bad) {
    it(name, () => {
      for (const def of [moeRouter, moeForward]) {
        const issues = validateConfig(def, withDefaults(def, partial as never), caps);
        const hit = issues.find((i) => i.field === field);
        expect(hit, `${def.id}: ${JSON.stringify(issues)}`).toBeDefined();
        expect(hit!.message).toMatch(message);
        expect(hit!.message).not.toContain('\n');
      }
    });
  }

  it('every test case and benchmark shape is valid', () => {
    for (const def of [moeRouter, moeForward, moeDispatch, moeGroupedFfn] as AnyKernel[]) {
      for (const s of [...def.testCases, ...def.benchmarks]) {
        expect(validateConfig(def, withDefaults(def as never, s.config as never), caps), `${def.id} ${s.name}`).toEqual([]);
      }
    }
  });

  it('inter and shared_inter need multiples of 4', () => {
    const issues = validateConfig(moeForward, withDefaults(moeForward, { inter: 30, shared_inter: 10 }), caps);
    expect(issues.map((i) => i.field).sort()).toEqual(['inter', 'shared_inter']);
  });

  it('a device with small workgroups is refused by name', () => {
    const small = { ...caps, limits: { ...caps.limits, maxComputeInvocationsPerWorkgroup: 128 } };
    expect(validateConfig(moeRouter, withDefaults(moeRouter, {}), small)[0]).toMatchObject({ field: 'device' });
  });
});

describe('golden mapping', () => {
  it('moe.gate metadata round-trips, bias taken from the tensors', () => {
    const c = withDefaults(moeRouter, { N: 5, dim: 12, E: 24, topk: 3, n_groups: 4, topk_groups: 2, route_scale: 1.75 });
    const shapes = { x: [5, 12], gate_weight: [24, 12], gate_bias: [24] };
    expect(moeRouter.fromGolden!(moeRouter.goldenMeta!(c), shapes)).toEqual(c);
    const { gate_bias: _, ...noBias } = shapes;
    expect(moeRouter.fromGolden!(moeRouter.goldenMeta!(c), noBias).bias).toBe(false);
    const mix = withDefaults(moeRouter, { routing: 'mixtral', bias: false, n_groups: 1, topk_groups: 1, route_scale: 1 });
    expect(moeRouter.fromGolden!(moeRouter.goldenMeta!(mix), { x: [mix.N, mix.dim], gate_weight: [mix.E, mix.dim] })).toEqual(mix);
  });

  it('moe.forward takes inter and shared_inter from the weights', () => {
    const c = withDefaults(moeForward, { N: 4, dim: 8, E: 6, topk: 2, n_groups: 2, topk_groups: 1, inter: 12, shared_inter: 20, capacity_factor: 1.5 });
    const shapes = Object.fromEntries(moeForward.inputs(c).map((t) => [t.name, t.shape]));
    expect(moeForward.fromGolden!(moeForward.goldenMeta!(c), shapes)).toEqual(c);
  });

  it('refuses files it cannot take, naming the tensor or key', () => {
    const meta = { score_func: 'sigmoid', topk: '2', n_groups: '1', topk_groups: '1', route_scale: '1' };
    expect(() => moeRouter.fromGolden!(meta, { x: [3, 8] })).toThrow(/gate_weight: expected a rank-2 tensor/);
    expect(() => moeRouter.fromGolden!(meta, { x: [3, 8], gate_weight: [4, 6] })).toThrow(/gate_weight: shape \[4,6\] does not match x's dim 8/);
    expect(() => moeRouter.fromGolden!({ ...meta, score_func: 'relu' }, { x: [3, 8], gate_weight: [4, 8] })).toThrow(/score_func/);
    expect(() => moeRouter.fromGolden!({ ...meta, topk: 'two' }, { x: [3, 8], gate_weight: [4, 8] })).toThrow(/topk: metadata "two" is not an integer/);
    const fwd = { x: [3, 8], gate_weight: [4, 8], w1: [4, 6, 8], w2: [4, 8, 6], w3: [4, 6, 7] };
    expect(() => moeForward.fromGolden!(meta, fwd)).toThrow(/w3: shape \[4,6,7\] should be \[4,6,8\]/);
  });
});

describe('routing comparison', () => {
  const want = { weights: { shape: [2, 2], data: Float32Array.of(0.7, 0.3, 0.6, 0.4) }, indices: { shape: [2, 2], data: Int32Array.of(3, 1, 0, 2) } };
  const cmp = routingComparison(2);
  if (cmp.kind !== 'custom') throw new Error('routing comparison must be custom');
  it('accepts the same map in another order', () => {
    const got = { weights: { shape: [2, 2], data: Float32Array.of(0.3, 0.7, 0.6, 0.4) }, indices: { shape: [2, 2], data: Int32Array.of(1, 3, 0, 2) } };
    expect(cmp.fn(got, want).ok).toBe(true);
  });
  it('rejects a different expert, naming the row', () => {
    const got = { weights: { shape: [2, 2], data: Float32Array.of(0.7, 0.3, 0.6, 0.4) }, indices: { shape: [2, 2], data: Int32Array.of(3, 1, 0, 5) } };
    const r = cmp.fn(got, want);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/first: row 1/);
  });
  it('rejects a weight off by more than the tolerance, and NaN', () => {
    const off = { weights: { shape: [2, 2], data: Float32Array.of(0.7, 0.3, 0.6, 0.41) }, indices: want.indices };
    expect(cmp.fn(off, want).ok).toBe(false);
    const nan = { weights: { shape: [2, 2], data: Float32Array.of(NaN, 0.3, 0.6, 0.4) }, indices: want.indices };
    expect(cmp.fn(nan, want).ok).toBe(false);
  });
});

describe('router test inputs', () => {
  it('logits are exact in f32 whatever the summation order (so GPU and float64 choose alike)', () => {
    const c = withDefaults(moeRouter, { N: 16, dim: 1024, E: 24, n_groups: 4, topk_groups: 2, topk: 4 });
    const seed = freshSeed();
    const t = routingInputs(c, createRng(seed));
    for (let n = 0; n < c.N; n++) {
      for (let e = 0; e < c.E; e++) {
        let exact = 0;
        let fwd = 0;
        let bwd = 0;
        for (let k = 0; k < c.dim; k++) {
          const p = t.x!.data[n * c.dim + k]! * t.gate_weight!.data[e * c.dim + k]!;
          exact += p;
          fwd = Math.fround(fwd + Math.fround(p));
          const q = t.x!.data[n * c.dim + c.dim - 1 - k]! * t.gate_weight!.data[e * c.dim + c.dim - 1 - k]!;
          bwd = Math.fround(bwd + Math.fround(q));
        }
        expect(fwd, `seed ${seed}`).toBe(exact);
        expect(bwd, `seed ${seed}`).toBe(exact);
      }
    }
  });
});
