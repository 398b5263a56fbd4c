// The MoE float64 references: they reproduce the golden samples (written by an independent
// implementation of DeepSeek-V3's Gate / MoE), obey the routing invariants on random inputs, and the
// dispatch -> grouped FFN -> combine path equals the per-token layer.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostTensors, readSafetensors } from '../io/safetensors.ts';
import { caseTally, GOLDEN_DIR, goldenFilesFor } from '../../test/golden-fixtures.ts';
import { createRng, freshSeed } from '../kernels/random.ts';
import { randomNormal } from '../kernels/random.ts';
import type { HostTensor } from '../kernels/tensor.ts';
import {
  combineReference,
  dispatchReference,
  expertCapacity,
  gateReference,
  groupedFfnReference,
  moeLayerReference,
  topkIndices,
  type GateOptions,
} from './moe.ts';


function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i]! - want[i]!) ** 2;
    den += want[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function load(name: string) {
  return hostTensors(readSafetensors(new Uint8Array(readFileSync(GOLDEN_DIR + name)), name));
}

function goldenOptions(meta: Record<string, string>, t: Record<string, HostTensor>): GateOptions {
  return {
    N: t.x!.shape[0]!,
    dim: t.x!.shape[1]!,
    E: t.gate_weight!.shape[0]!,
    topk: Number(meta.topk),
    n_groups: Number(meta.n_groups),
    topk_groups: Number(meta.topk_groups),
    score_func: meta.score_func as 'softmax' | 'sigmoid',
    routing: 'deepseek',
    route_scale: Number(meta.route_scale),
  };
}

describe('golden samples', () => {
  const gateFiles = goldenFilesFor('moe.gate');
  const forwardFiles = goldenFilesFor('moe.forward');
  const tally = caseTally([...gateFiles, ...forwardFiles]);
  for (const name of gateFiles) {
    it(`${name}: same experts per row, weights within 1e-5`, () => {
      const f = load(name);
      const t = f.tensors;
      const o = goldenOptions(f.metadata, t);
      const r = gateReference(t.x!, t.gate_weight!, t.gate_bias, o);
      // compare per row as expert -> weight maps
      const got: number[] = [];
      const want: number[] = [];
      for (let row = 0; row < o.N; row++) {
        const mine = new Map<number, number>();
        for (let k = 0; k < o.topk; k++) mine.set(r.indices.data[row * o.topk + k]!, r.weights.data[row * o.topk + k]!);
        for (let k = 0; k < o.topk; k++) {
          const e = t.indices!.data[row * o.topk + k]!;
          expect(mine.has(e), `row ${row}: expert ${e} not chosen`).toBe(true);
          got.push(mine.get(e)!);
          want.push(t.weights!.data[row * o.topk + k]!);
        }
      }
      expect(relL2(got, want)).toBeLessThan(1e-5);
      tally.ran(name);
    });
  }

  for (const name of forwardFiles) {
    it(`${name}: out within 1e-5`, () => {
      const f = load(name);
      const t = f.tensors;
      const o = goldenOptions(f.metadata, t);
      const out = moeLayerReference(t, { ...o, inter: t.w1!.shape[1]!, shared_inter: t.shared_w1!.shape[0]!, capacity_factor: 0 });
      expect(relL2(out.data, t.out!.data)).toBeLessThan(1e-5);
      tally.ran(name);
    });
  }

  it('ran every moe.gate and moe.forward sample', () => expect(tally.missing()).toEqual([]));
});

function randomGate(seed: number, o: GateOptions, bias: boolean) {
  const rng = createRng(seed);
  return {
    x: randomNormal(rng, [o.N, o.dim]),
    w: randomNormal(rng, [o.E, o.dim], 1 / Math.sqrt(o.dim)),
    b: bias ? randomNormal(rng, [o.E], 0.3) : undefined,
  };
}

describe('gate invariants (random inputs)', () => {
  const cases: [string, GateOptions, boolean][] = [
    ['V3 sigmoid + bias, groups 8/4', { N: 40, dim: 16, E: 64, topk: 8, n_groups: 8, topk_groups: 4, score_func: 'sigmoid', routing: 'deepseek', route_scale: 2.5 }, true],
    ['softmax group max 6/2, topk = E/groups', { N: 30, dim: 12, E: 48, topk: 8, n_groups: 6, topk_groups: 2, score_func: 'softmax', routing: 'deepseek', route_scale: 1 }, false],
    ['sigmoid + bias, topk = topk_groups * E / n_groups', { N: 25, dim: 8, E: 24, topk: 12, n_groups: 4, topk_groups: 2, score_func: 'sigmoid', routing: 'deepseek', route_scale: 1.7 }, true],
    ['topk = 1, E = 37', { N: 20, dim: 8, E: 37, topk: 1, n_groups: 1, topk_groups: 1, score_func: 'sigmoid', routing: 'deepseek', route_scale: 2 }, true],
  ];
  for (const [name, o, bias] of cases) {
    it(name, () => {
      const seed = freshSeed();
      const { x, w, b } = randomGate(seed, o, bias);
      const r = gateReference(x, w, b, o);
      const gs = o.E / o.n_groups;
      for (let t = 0; t < o.N; t++) {
        const chosen = Array.from(r.indices.data.slice(t * o.topk, (t + 1) * o.topk));
        expect(new Set(chosen).size, `seed ${seed} row ${t}: distinct experts`).toBe(o.topk);
        // selected experts lie in at most topk_groups groups, none of them masked
        const groups = new Set(chosen.map((e) => Math.floor(e / gs)));
        expect(groups.size).toBeLessThanOrEqual(o.topk_groups);
        for (const e of chosen) expect(Number.isFinite(r.selectionScores[t * o.E + e]!)).toBe(true);
        // no unchosen, unmasked expert beats a chosen one
        const worst = Math.min(...chosen.map((e) => r.selectionScores[t * o.E + e]!));
        for (let e = 0; e < o.E; e++) if (!chosen.includes(e)) expect(r.selectionScores[t * o.E + e]!).toBeLessThanOrEqual(worst);
        const sum = Array.from(r.weights.data.slice(t * o.topk, (t + 1) * o.topk)).reduce((a, v) => a + v, 0);
        if (o.score_func === 'sigmoid') expect(sum).toBeCloseTo(o.route_scale, 10);
        else expect(sum).toBeLessThanOrEqual(o.route_scale + 1e-12);
      }
    });
  }

  it('the bias changes the choice, not the weights', () => {
    const o: GateOptions = { N: 10, dim: 8, E: 16, topk: 4, n_groups: 1, topk_groups: 1, score_func: 'sigmoid', routing: 'deepseek', route_scale: 1 };
    const { x, w } = randomGate(freshSeed(), o, false);
    // a large bias on experts 0..3 forces them, and their weights are still the normalised plain sigmoid
    const b: HostTensor = { shape: [16], data: Float64Array.from({ length: 16 }, (_, e) => (e < 4 ? 10 : 0)) };
    const r = gateReference(x, w, b, o);
    for (let t = 0; t < o.N; t++) {
      const chosen = Array.from(r.indices.data.slice(t * 4, t * 4 + 4)).sort((a, c) => a - c);
      expect(chosen).toEqual([0, 1, 2, 3]);
      const s = [0, 1, 2, 3].map((e) => {
        let dot = 0;
        for (let k = 0; k < 8; k++) dot += x.data[t * 8 + k]! * w.data[e * 8 + k]!;
        return 1 / (1 + Math.exp(-dot));
      });
      const total = s.reduce((a, v) => a + v, 0);
      for (let k = 0; k < 4; k++) expect(r.weights.data[t * 4 + k]).toBeCloseTo(s[r.indices.data[t * 4 + k]!]! / total, 12);
    }
  });

  it('ties go to the lower expert index, and to the lower group', () => {
    expect(topkIndices([1, 3, 3, 2, 3], 2)).toEqual([1, 2]);
    // gate rows 5 and 6 copy rows 1 and 2, so logits tie exactly: groups {0..3} and {4..7} tie on their max
    const w: HostTensor = { shape: [8, 4], data: new Float64Array(32) };
    for (let e = 0; e < 8; e++) w.data[e * 4 + (e % 4)] = [1, 2, 5, 6].includes(e) ? 1 : 0.1;
    const rng = createRng(freshSeed());
    const x: HostTensor = { shape: [6, 4], data: new Float64Array(24) };
    for (let t = 0; t < 6; t++) for (let k = 0; k < 4; k++) x.data[t * 4 + k] = (k === 1 || k === 2 ? 3 : 0) + rng.normal() * 0.1;
    const grouped: GateOptions = { N: 6, dim: 4, E: 8, topk: 2, n_groups: 2, topk_groups: 1, score_func: 'softmax', routing: 'deepseek', route_scale: 1 };
    const flat: GateOptions = { ...grouped, topk: 1, n_groups: 1 };
    const g = gateReference(x, w, undefined, grouped);
    const f = gateReference(x, w, undefined, flat);
    for (let t = 0; t < 6; t++) {
      expect(Array.from(g.indices.data.slice(t * 2, t * 2 + 2)).sort()).toEqual([1, 2]); // group 0 wins the tie
      const best = x.data[t * 4 + 1]! >= x.data[t * 4 + 2]! ? 1 : 2; // ... and expert 1 or 2 beats its copy 5 or 6
      expect(f.indices.data[t]).toBe(best);
    }
  });

  it('Mixtral: softmax over the selected logits, route_scale applied', () => {
    const o: GateOptions = { N: 12, dim: 6, E: 8, topk: 2, n_groups: 1, topk_groups: 1, score_func: 'softmax', routing: 'mixtral', route_scale: 1 };
    const { x, w } = randomGate(freshSeed(), o, false);
    const r = gateReference(x, w, undefined, o);
    for (let t = 0; t < o.N; t++) {
      const logits = Array.from({ length: 8 }, (_, e) => {
        let dot = 0;
        for (let k = 0; k < 6; k++) dot += x.data[t * 6 + k]! * w.data[e * 6 + k]!;
        return dot;
      });
      const [a, b] = topkIndices(logits, 2) as [number, number];
      expect([r.indices.data[t * 2], r.indices.data[t * 2 + 1]]).toEqual([a, b]);
      const pa = 1 / (1 + Math.exp(logits[b]! - logits[a]!));
      expect(r.weights.data[t * 2]).toBeCloseTo(pa, 12);
      expect(r.weights.data[t * 2 + 1]).toBeCloseTo(1 - pa, 12);
    }
  });
});

describe('dispatch', () => {
  function randomIndices(seed: number, N: number, topk: number, E: number): HostTensor {
    const rng = createRng(seed);
    const data = new Int32Array(N * topk);
    for (let t = 0; t < N; t++) {
      const pool = Array.from({ length: E }, (_, e) => e);
      for (let k = 0; k < topk; k++) data[t * topk + k] = pool.splice(rng.int(0, pool.length - 1), 1)[0]!;
    }
    return { shape: [N, topk], data };
  }

  for (const [N, topk, E, cf] of [
    [50, 3, 7, 0],
    [64, 8, 300, 0],
    [97, 2, 5, 1],
    [40, 4, 9, 0.4],
  ] as const) {
    it(`N=${N} top-${topk} of ${E}, capacity factor ${cf}`, () => {
      const seed = freshSeed();
      const idx = randomIndices(seed, N, topk, E);
      const cap = expertCapacity(cf, N, topk, E);
      const d = dispatchReference(idx, N, topk, E, cap);
      const counts = Array.from(d.counts.data);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(N * topk);
      const dropped = counts.reduce((a, c) => a + Math.max(0, c - cap), 0);
      expect(d.dropped.data[0]).toBe(dropped);
      expect(d.offsets.data[E]).toBe(N * topk - dropped);
      // every kept copy lands exactly once, at the row the inverse map names, inside its expert's range
      const seen = new Set<number>();
      for (let c = 0; c < N * topk; c++) {
        const p = d.slot_of.data[c]!;
        if (p < 0) continue;
        expect(seen.has(p), `seed ${seed}: row ${p} used twice`).toBe(false);
        seen.add(p);
        const e = idx.data[c]!;
        expect(d.sorted_tokens.data[p]).toBe(Math.floor(c / topk));
        expect(p).toBeGreaterThanOrEqual(d.offsets.data[e]!);
        expect(p).toBeLessThan(d.offsets.data[e + 1]!);
      }
      expect(seen.size).toBe(N * topk - dropped);
      // first come by token index: an expert's kept tokens are its `cap` lowest-numbered ones, in order
      for (let e = 0; e < E; e++) {
        const rows = Array.from(d.sorted_tokens.data.slice(d.offsets.data[e]!, d.offsets.data[e + 1]!));
        const all: number[] = [];
        for (let c = 0; c < N * topk; c++) if (idx.data[c] === e) all.push(Math.floor(c / topk));
        expect(rows).toEqual(all.slice(0, cap));
      }
    });
  }
});

describe('layer', () => {
  it('dispatch -> grouped FFN -> combine equals the per-token layer (with capacity drops and shared experts)', () => {
    const seed = freshSeed();
    const rng = createRng(seed);
    const o = { N: 23, dim: 8, E: 6, topk: 2, n_groups: 2, topk_groups: 1, score_func: 'sigmoid' as const, routing: 'deepseek' as const, route_scale: 2.5, inter: 5, shared_inter: 3, capacity_factor: 0.8 };
    const t: Record<string, HostTensor> = {
      x: randomNormal(rng, [o.N, o.dim]),
      gate_weight: randomNormal(rng, [o.E, o.dim]),
      gate_bias: randomNormal(rng, [o.E], 0.2),
      w1: randomNormal(rng, [o.E, o.inter, o.dim]),
      w2: randomNormal(rng, [o.E, o.dim, o.inter]),
      w3: randomNormal(rng, [o.E, o.inter, o.dim]),
      shared_w1: randomNormal(rng, [o.shared_inter, o.dim]),
      shared_w2: randomNormal(rng, [o.dim, o.shared_inter]),
      shared_w3: randomNormal(rng, [o.shared_inter, o.dim]),
    };
    const direct = moeLayerReference(t, o);
    const g = gateReference(t.x!, t.gate_weight!, t.gate_bias, o);
    const d = dispatchReference(g.indices, o.N, o.topk, o.E, expertCapacity(o.capacity_factor, o.N, o.topk, o.E));
    expect(d.dropped.data[0], `seed ${seed}: the case should drop copies`).toBeGreaterThan(0);
    const y = groupedFfnReference(t.x!, d.sorted_tokens, d.offsets, t.w1!, t.w2!, t.w3!, { E: o.E, dim: o.dim, inter: o.inter, rows: o.N * o.topk });
    const shared = groupedFfnReference(
      t.x!,
      { shape: [o.N], data: Int32Array.from({ length: o.N }, (_, i) => i) },
      { shape: [2], data: Int32Array.of(0, o.N) },
      t.shared_w1!,
      t.shared_w2!,
      t.shared_w3!,
      { E: 1, dim: o.dim, inter: o.shared_inter, rows: o.N },
    );
    const out = combineReference(y, g.weights, d.slot_of, shared, o);
    expect(relL2(out.data, direct.data)).toBeLessThan(1e-12);
  });
});
