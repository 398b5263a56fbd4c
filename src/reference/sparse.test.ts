// The sparse references against the golden samples (an independent float64 implementation of
// DeepSeek-V3.2-Exp's indexer and the agreed window semantics), through the same fromGolden -> reference path
// `verify` uses, plus the properties the kernels are tested against: tie rule, padding, and the dense limits
// (top-k >= S, window >= S, every block).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensors, readSafetensors } from '../io/safetensors.ts';
import { GOLDEN_DIR, goldenFilesFor } from '../../test/golden-fixtures.ts';
import { createRng, freshSeed, randomNormal } from '../kernels/random.ts';
import type { HostTensor } from '../kernels/tensor.ts';
import { relL2, rowSets } from '../kernels/compare.ts';
import { attentionReference, causalMask, slidingWindowMask } from './attention.ts';
import {
  blockSelectReference,
  causalRowLength,
  indexerReference,
  keyListAttentionReference,
  pooledBlockKeys,
  topkReference,
} from './sparse.ts';
import { dsa } from '../kernels/sparse/dsa.ts';
import { slidingWindow } from '../kernels/sparse/sliding-window.ts';


function golden(name: string) {
  const st = hostTensors(readSafetensors(readFileSync(path.join(GOLDEN_DIR, name)), name));
  const shapes = Object.fromEntries(Object.entries(st.tensors).map(([k, t]) => [k, t.shape]));
  return { ...st, shapes };
}

function expectClose(name: string, got: HostTensor, want: HostTensor, tol = 1e-5) {
  const r = relL2(name, got.data, want.data, tol);
  expect(r.ok, `${name}: rel-L2 ${r.relL2}, ${r.detail ?? ''}`).toBe(true);
}

// The cases below are written for these files; a sample added to the folder fails here until it is covered.
describe('the sparse golden samples', () => {
  it('are the files the cases below check', () => {
    expect(goldenFilesFor('sparse.dsa')).toEqual(['sparse.dsa-tiny.safetensors']);
    expect(goldenFilesFor('attention.sliding_window')).toEqual(['attention.sliding_window-small.safetensors']);
  });
});

describe('sparse.dsa reference vs golden sparse.dsa-tiny', () => {
  const g = golden('sparse.dsa-tiny.safetensors');
  const config = dsa.fromGolden!(g.metadata, g.shapes);
  const want = g.tensors;

  it('maps the file to a config the kernel accepts', () => {
    expect(config).toMatchObject({ T: 4, S: 20, Hq: 2, Hkv: 1, D: 8, Hi: 2, Di: 8, topk: 6, causal: true, mode: 'gqa' });
    expect(dsa.goldenMeta!(config)).toEqual({ topk: '6', causal: '1' });
  });

  it('reproduces index_scores, topk_indices (as row sets) and out', () => {
    const got = dsa.reference(g.tensors, config);
    expectClose('index_scores', got.index_scores!, want.index_scores!);
    // -inf exactly where the file masks.
    for (let i = 0; i < want.index_scores!.data.length; i++) expect(got.index_scores!.data[i] === -Infinity).toBe(want.index_scores!.data[i] === -Infinity);
    const sets = rowSets('topk_indices', got.topk_indices!.data, want.topk_indices!.data, config.topk);
    expect(sets.ok, sets.detail).toBe(true);
    expectClose('out', got.out!, want.out!);
  });

  it('w_index in the file already carries the H_I^-0.5 * D_I^-0.5 factor (scores match w as given, not w rescaled)', () => {
    const { T, S, Hi, Di } = config;
    const shape = { T, S, Hi, Di, causal: true };
    const w = want.w_index!;
    const rescaled = { shape: w.shape, data: Float64Array.from(w.data, (x) => x / Math.sqrt(Hi * Di)) };
    expect(relL2('as given', indexerReference(want.q_index!, want.k_index!, w, shape).data, want.index_scores!.data, 1e-6).ok).toBe(true);
    expect(relL2('rescaled', indexerReference(want.q_index!, want.k_index!, rescaled, shape).data, want.index_scores!.data, 1e-2).ok).toBe(false);
  });
});

describe('attention.sliding_window reference vs golden attention.sliding_window-small', () => {
  it('reproduces out through sparse.sliding_window fromGolden + reference', () => {
    const g = golden('attention.sliding_window-small.safetensors');
    const config = slidingWindow.fromGolden!(g.metadata, g.shapes);
    expect(config).toMatchObject({ window: 8, sinks: 2, causal: true, T: 9, S: 40, Hq: 4, Hkv: 2, D: 16 });
    expect(slidingWindow.goldenMeta!(config)).toEqual({ causal: '1', window: '8', sinks: '2' });
    expectClose('out', slidingWindow.reference(g.tensors, config).out!, g.tensors.out!);
  });
});

describe('topkReference', () => {
  const row = (xs: number[]): HostTensor => ({ shape: [1, xs.length], data: Float64Array.from(xs) });

  it('breaks ties towards the lower index and lists by position or by score', () => {
    const s = row([1, 3, 3, 2, 3, 0]);
    expect(Array.from(topkReference(s, 1, 6, 2, 'index').indices.data)).toEqual([1, 2]);
    expect(Array.from(topkReference(s, 1, 6, 4, 'score').indices.data)).toEqual([1, 2, 4, 3]);
    expect(Array.from(topkReference(s, 1, 6, 4, 'index').indices.data)).toEqual([1, 2, 3, 4]);
  });

  it('never selects -inf or NaN, keeps +inf, and pads with -1 / -inf', () => {
    const r = topkReference(row([-Infinity, NaN, 5, Infinity, -Infinity]), 1, 5, 4, 'score');
    expect(Array.from(r.indices.data)).toEqual([3, 2, -1, -1]);
    expect(Array.from(r.values.data)).toEqual([Infinity, 5, -Infinity, -Infinity]);
  });

  it('treats -0 and +0 as a tie', () => {
    expect(Array.from(topkReference(row([-0, 0, -1]), 1, 3, 1, 'index').indices.data)).toEqual([0]);
    expect(Array.from(topkReference(row([0, -0, -1]), 1, 3, 1, 'index').indices.data)).toEqual([0]);
  });

  it('limits causal rows to their first entries', () => {
    const scores: HostTensor = { shape: [3, 4], data: Float64Array.from([9, 9, 9, 9, 1, 2, 9, 9, 1, 2, 3, 4]) };
    const r = topkReference(scores, 3, 4, 3, 'index', causalRowLength(3, 4));
    expect(Array.from(r.indices.data)).toEqual([0, 1, -1, 0, 1, 2, 1, 2, 3]);
  });
});

describe('indexerReference', () => {
  it('applies ReLU before the weight (a negative weight never rewards a negative dot product)', () => {
    const q = { shape: [1, 2, 1], data: Float64Array.from([1, -1]) };
    const k = { shape: [1, 1], data: Float64Array.from([2]) };
    const w = { shape: [1, 2], data: Float64Array.from([0.5, -3]) };
    // head 0: 0.5 * relu(2) = 1; head 1: -3 * relu(-2) = 0
    expect(indexerReference(q, k, w, { T: 1, S: 1, Hi: 2, Di: 1, causal: true }).data[0]).toBe(1);
  });
});

describe('dense limits of the sparse references', () => {
  const seed = freshSeed();
  const rng = createRng(seed);
  const [T, S, Hq, Hkv, D] = [5, 23, 4, 2, 8];
  const q = randomNormal(rng, [T, Hq, D]);
  const k = randomNormal(rng, [S, Hkv, D]);
  const v = randomNormal(rng, [S, Hkv, D]);
  const scale = 1 / Math.sqrt(D);
  const dense = attentionReference(q, k, v, { T, S, Hq, Hkv, D, scale }, causalMask);

  it(`key lists holding every key equal dense causal attention (seed ${seed})`, () => {
    const all = { shape: [T, S + 3], data: Int32Array.from({ length: T * (S + 3) }, (_, i) => (i % (S + 3) < S ? i % (S + 3) : -1)) };
    expectClose('out', keyListAttentionReference(q, k, v, all, { T, S, Hq, Hkv, D, Dv: D, scale, causal: true }), dense, 1e-12);
  });

  it(`a window >= S equals dense causal attention (seed ${seed})`, () => {
    expectClose('out', attentionReference(q, k, v, { T, S, Hq, Hkv, D, scale }, slidingWindowMask(S, 0)), dense, 1e-12);
  });

  it(`block select with every block equals dense causal attention (seed ${seed})`, () => {
    const r = blockSelectReference(q, k, v, { T, S, Hq, Hkv, D, scale, causal: true, block: 4, topBlocks: 6 });
    expectClose('out', r.out, dense, 1e-12);
    // Query t at position S-T+t selects blocks 0 .. floor(p / 4), ascending.
    for (let t = 0; t < T; t++) {
      const own = Math.floor((S - T + t) / 4);
      expect(Array.from(r.selected.data.subarray(t * Hq * 6, t * Hq * 6 + 6))).toEqual([0, 1, 2, 3, 4, 5].map((b) => (b <= own ? b : -1)));
    }
  });

  it('mean-pools blocks, the last one shorter', () => {
    const keys = { shape: [5, 1, 1], data: Float64Array.from([1, 2, 3, 4, 10]) };
    expect(Array.from(pooledBlockKeys(keys, 5, 1, 1, 2))).toEqual([1.5, 3.5, 10]);
  });

  it('block select keeps its own block even when it scores worst', () => {
    // One query at position 5, blocks of 2: keys of block 2 (its own) point away from q.
    const q1 = { shape: [1, 1, 1], data: Float64Array.from([1]) };
    const k1 = { shape: [6, 1, 1], data: Float64Array.from([5, 5, 4, 4, -9, -9]) };
    const r = blockSelectReference(q1, k1, k1, { T: 1, S: 6, Hq: 1, Hkv: 1, D: 1, scale: 1, causal: true, block: 2, topBlocks: 2 });
    expect(Array.from(r.selected.data)).toEqual([0, 2]);
  });
});
