// The dense-attention reference against the golden samples (written by an independent float64
// implementation), through the same golden mapping verify uses (attentionFromGolden -> attentionReferenceFor),
// and against tiny cases small enough to check by hand.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors.ts';
import { caseTally, GOLDEN_DIR, goldenFilesFor } from '../../test/golden-fixtures.ts';
import { relL2 } from '../kernels/compare.ts';
import { createRng, freshSeed, randomNormal } from '../kernels/random.ts';
import { f64, type HostTensor } from '../kernels/tensor.ts';
import { attentionReferenceFor, type AttentionConfig } from '../kernels/attention/attention-config.ts';
import { attentionFromGolden, attentionGoldenMeta } from '../kernels/attention/attention-golden.ts';
import { attentionReference, causalMask, fullMask, slidingWindowMask } from './attention.ts';

const denseFiles = goldenFilesFor('attention.dense');
const denseTally = caseTally(denseFiles);

describe('dense attention reference vs golden files', () => {
  it('finds the attention.dense samples', () => {
    expect(denseFiles.length).toBeGreaterThanOrEqual(2);
  });
  for (const file of denseFiles) {
    it(file, () => {
      const st = readSafetensors(readFileSync(path.join(GOLDEN_DIR, file)), file);
      expect(st.metadata.kernel).toBe('attention.dense');
      const t = st.tensors as Record<string, HostTensor>;
      const shapes = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.shape]));
      const config = attentionFromGolden(st.metadata, shapes);
      const { out } = attentionReferenceFor({ q: t.q!, k: t.k!, v: t.v! }, config);
      expect(out!.shape).toEqual(t.out!.shape);
      const r = relL2('out', out!.data, t.out!.data, 1e-5);
      expect(r.ok, `rel-L2 ${r.relL2}, max-abs ${r.maxAbs}`).toBe(true);
      // goldenMeta is the inverse of fromGolden for what the file states.
      expect(attentionGoldenMeta(config)).toEqual({ causal: st.metadata.causal ?? '1', ...(st.metadata.scale ? { scale: st.metadata.scale } : {}) });
      denseTally.ran(file);
    });
  }
  it('ran every attention.dense sample', () => expect(denseTally.missing()).toEqual([]));
});

const shape = (T: number, S: number, Hq: number, Hkv: number, D: number, scale = 1) => ({ T, S, Hq, Hkv, D, scale });

describe('dense attention reference, by hand', () => {
  it('one key: the output is that key\'s value whatever the score', () => {
    const out = attentionReference(f64([1, 1, 2], [3, -4]), f64([1, 1, 2], [0.5, 2]), f64([1, 1, 2], [7, -1]), shape(1, 1, 1, 1, 2), causalMask);
    expect(Array.from(out.data)).toEqual([7, -1]);
  });

  it('two keys: softmax weights e^s / sum e^s', () => {
    // q.k0 = 0, q.k1 = ln 3 (scale 1): weights 1/4 and 3/4.
    const q = f64([1, 1, 1], [1]);
    const k = f64([2, 1, 1], [0, Math.log(3)]);
    const v = f64([2, 1, 1], [10, 2]);
    const out = attentionReference(q, k, v, shape(1, 2, 1, 1, 1), fullMask);
    expect(out.data[0]).toBeCloseTo(10 / 4 + (2 * 3) / 4, 12);
  });

  it('scale multiplies the scores', () => {
    // scale 0.5 turns q.k1 = 2 ln 3 into ln 3: weights 1/4, 3/4 again.
    const out = attentionReference(f64([1, 1, 1], [2]), f64([2, 1, 1], [0, Math.log(3)]), f64([2, 1, 1], [10, 2]), shape(1, 2, 1, 1, 1, 0.5), fullMask);
    expect(out.data[0]).toBeCloseTo(4, 12);
  });

  it('causal: queries sit at S-T..S-1, so the first of 2 queries over 3 keys sees keys 0 and 1 only', () => {
    // Equal scores (q = 0): each visible key weighs the same.
    const q = f64([2, 1, 1], [0, 0]);
    const k = f64([3, 1, 1], [1, 2, 3]);
    const v = f64([3, 1, 1], [3, 5, 100]);
    const out = attentionReference(q, k, v, shape(2, 3, 1, 1, 1), causalMask);
    expect(out.data[0]).toBeCloseTo(4, 12); // (3 + 5) / 2
    expect(out.data[1]).toBeCloseTo(36, 12); // (3 + 5 + 100) / 3
    const full = attentionReference(q, k, v, shape(2, 3, 1, 1, 1), fullMask);
    expect(full.data[0]).toBeCloseTo(36, 12);
  });

  it('GQA: query head h reads KV head floor(h / (Hq / Hkv))', () => {
    // 4 query heads, 2 KV heads, one key each: head h outputs v[0, floor(h / 2)].
    const q = f64([1, 4, 1], [1, 2, 3, 4]);
    const k = f64([1, 2, 1], [1, 1]);
    const v = f64([1, 2, 1], [-2, 9]);
    const out = attentionReference(q, k, v, shape(1, 1, 4, 2, 1), causalMask);
    expect(Array.from(out.data)).toEqual([-2, -2, 9, 9]);
  });

  it('a row with no visible key outputs zeros', () => {
    // A mask that hides every key leaves zeros; a window of 1 (no sinks) leaves only the newest key.
    const q = f64([1, 1, 2], [1, 1]);
    const k = f64([2, 1, 2], [1, 0, 0, 1]);
    const v = f64([2, 1, 2], [5, 6, 7, 8]);
    const none = attentionReference(q, k, v, shape(1, 2, 1, 1, 2), () => false);
    expect(Array.from(none.data)).toEqual([0, 0]);
    const last = attentionReference(q, k, v, shape(1, 2, 1, 1, 2), slidingWindowMask(1, 0));
    expect(Array.from(last.data)).toEqual([7, 8]);
  });

  it('the reference is invariant to a constant shift of all scores (softmax is shift-free)', () => {
    const seed = freshSeed();
    const rng = createRng(seed);
    const c: AttentionConfig = { T: 3, S: 11, Hq: 4, Hkv: 2, D: 5, causal: true, scale: 0, dtype: 'f32' };
    const q = randomNormal(rng, [c.T, c.Hq, c.D]);
    const k = randomNormal(rng, [c.S, c.Hkv, c.D]);
    const v = randomNormal(rng, [c.S, c.Hkv, c.D]);
    // Adding the same vector u to every key adds q.u to every score of a row: the output must not change.
    const u = randomNormal(rng, [c.D], 3);
    const shifted = f64(k.shape, k.data);
    for (let i = 0; i < shifted.data.length; i++) shifted.data[i]! += u.data[i % c.D]!;
    const a = attentionReferenceFor({ q, k, v }, c).out!;
    const b = attentionReferenceFor({ q, k: shifted, v }, c).out!;
    const r = relL2('out', b.data, a.data, 1e-9);
    expect(r.ok, `seed ${seed}: rel-L2 ${r.relL2}`).toBe(true);
  });
});
