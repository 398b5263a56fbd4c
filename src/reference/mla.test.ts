// The MLA references against the golden samples (written by an independent float64 implementation of
// DeepSeek-V3's inference/model.py), against each other (naive vs absorbed order of products), and the
// compress reference against properties that pin RMSNorm and the interleaved RoPE.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors.ts';
import { caseTally, GOLDEN_DIR, goldenFilesFor } from '../../test/golden-fixtures.ts';
import { createRng, freshSeed, randomNormal } from '../kernels/random.ts';
import type { HostTensor } from '../kernels/tensor.ts';
import { relL2 } from '../kernels/compare.ts';
import { mlaCompressReference, mlaDecodeAbsorbedReference, mlaDecodeReference, ropeTable, type MlaDecodeDims } from './mla.ts';

const mlaFiles = goldenFilesFor('mla.decode');
const mlaTally = caseTally(mlaFiles);

function dimsFrom(meta: Record<string, string>, t: Record<string, HostTensor>): MlaDecodeDims {
  const [T, H, dn] = t.q_nope!.shape as [number, number, number];
  const dr = t.q_pe!.shape[2]!;
  const [S, dc] = t.kv_latent!.shape as [number, number];
  const dv = t.wkv_b!.shape[0]! / H - dn;
  return { T, S, H, dn, dr, dc, dv, scale: Number(meta.softmax_scale), causal: meta.causal !== '0' };
}

describe('MLA decode reference vs golden files', () => {
  it('finds the mla.decode samples', () => {
    expect(mlaFiles.length).toBeGreaterThanOrEqual(2);
  });
  for (const file of mlaFiles) {
    it(file, () => {
      const st = readSafetensors(readFileSync(path.join(GOLDEN_DIR, file)), file);
      expect(st.metadata.kernel).toBe('mla.decode');
      const t = st.tensors as Record<string, HostTensor>;
      const dims = dimsFrom(st.metadata, t);
      const inputs = { q_nope: t.q_nope!, q_pe: t.q_pe!, kv_latent: t.kv_latent!, k_pe: t.k_pe!, wkv_b: t.wkv_b! };
      for (const impl of [mlaDecodeReference, mlaDecodeAbsorbedReference]) {
        const out = impl(inputs, dims);
        expect(out.shape).toEqual(t.out!.shape);
        const r = relL2('out', out.data, t.out!.data, 1e-5);
        expect(r.ok, `${impl.name} rel-L2 ${r.relL2}`).toBe(true);
      }
      mlaTally.ran(file);
    });
  }
  it('ran every mla.decode sample', () => expect(mlaTally.missing()).toEqual([]));
});

describe('MLA decode: naive and absorbed orders agree', () => {
  const cases: Omit<MlaDecodeDims, 'scale'>[] = [
    { T: 1, S: 23, H: 3, dn: 7, dr: 6, dc: 13, dv: 5, causal: true },
    { T: 4, S: 9, H: 2, dn: 5, dr: 4, dc: 11, dv: 9, causal: true },
    { T: 3, S: 17, H: 5, dn: 3, dr: 2, dc: 6, dv: 7, causal: false },
  ];
  for (const c of cases) {
    it(JSON.stringify(c), () => {
      const seed = freshSeed();
      const rng = createRng(seed);
      const dims = { ...c, scale: 1 / Math.sqrt(c.dn + c.dr) };
      const inputs = {
        q_nope: randomNormal(rng, [c.T, c.H, c.dn]),
        q_pe: randomNormal(rng, [c.T, c.H, c.dr]),
        kv_latent: randomNormal(rng, [c.S, c.dc]),
        k_pe: randomNormal(rng, [c.S, c.dr]),
        wkv_b: randomNormal(rng, [c.H * (c.dn + c.dv), c.dc], 1 / Math.sqrt(c.dc)),
      };
      const a = mlaDecodeReference(inputs, dims);
      const b = mlaDecodeAbsorbedReference(inputs, dims);
      const r = relL2('out', b.data, a.data, 1e-12);
      expect(r.ok, `seed ${seed}: rel-L2 ${r.relL2}`).toBe(true);
    });
  }

  it('causal: the first query of a T = S prefill sees only key 0, so its output is W_UV c_KV[0]', () => {
    const rng = createRng(freshSeed());
    const c = { T: 5, S: 5, H: 2, dn: 3, dr: 2, dc: 4, dv: 3, causal: true, scale: 0.7 };
    const inputs = {
      q_nope: randomNormal(rng, [c.T, c.H, c.dn]),
      q_pe: randomNormal(rng, [c.T, c.H, c.dr]),
      kv_latent: randomNormal(rng, [c.S, c.dc]),
      k_pe: randomNormal(rng, [c.S, c.dr]),
      wkv_b: randomNormal(rng, [c.H * (c.dn + c.dv), c.dc]),
    };
    const out = mlaDecodeReference(inputs, c);
    for (let h = 0; h < c.H; h++) {
      for (let i = 0; i < c.dv; i++) {
        let want = 0;
        for (let k = 0; k < c.dc; k++) want += inputs.wkv_b.data[(h * (c.dn + c.dv) + c.dn + i) * c.dc + k]! * inputs.kv_latent.data[k]!;
        expect(out.data[h * c.dv + i]).toBeCloseTo(want, 10);
      }
    }
  });
});

describe('MLA compress reference', () => {
  const d = { T: 3, S: 8, start: 4, dim: 9, dc: 5, dr: 6, eps: 1e-6, ropeTheta: 10000 };
  const rng = createRng(freshSeed());
  const x = randomNormal(rng, [d.T, d.dim]);
  const w = randomNormal(rng, [d.dc + d.dr, d.dim]);
  const norm = randomNormal(rng, [d.dc]);
  const { kv_latent, k_pe } = mlaCompressReference(x, w, norm, d);
  const project = (t: number, j: number) => {
    let acc = 0;
    for (let k = 0; k < d.dim; k++) acc += x.data[t * d.dim + k]! * w.data[j * d.dim + k]!;
    return acc;
  };

  it('writes only rows start..start+T-1 (the rest stay NaN = untouched)', () => {
    for (let s = 0; s < d.S; s++) {
      const written = s >= d.start && s < d.start + d.T;
      expect(Number.isNaN(kv_latent.data[s * d.dc]!)).toBe(!written);
      expect(Number.isNaN(k_pe.data[s * d.dr]!)).toBe(!written);
    }
  });

  it('c_KV / kv_norm has unit RMS (RMSNorm)', () => {
    for (let t = 0; t < d.T; t++) {
      let sq = 0;
      for (let c = 0; c < d.dc; c++) sq += (kv_latent.data[(d.start + t) * d.dc + c]! / norm.data[c]!) ** 2;
      expect(Math.sqrt(sq / d.dc)).toBeCloseTo(1, 5);
    }
  });

  it('k_pe pair i is (a + ib) * exp(i (start+t) theta^(-2i/dr)): interleaved pairs, not halves', () => {
    for (let t = 0; t < d.T; t++) {
      for (let i = 0; i < d.dr / 2; i++) {
        const a = project(t, d.dc + 2 * i);
        const b = project(t, d.dc + 2 * i + 1);
        const angle = (d.start + t) / 10000 ** ((2 * i) / d.dr);
        const re = k_pe.data[(d.start + t) * d.dr + 2 * i]!;
        const im = k_pe.data[(d.start + t) * d.dr + 2 * i + 1]!;
        expect(re).toBeCloseTo(a * Math.cos(angle) - b * Math.sin(angle), 10);
        expect(im).toBeCloseTo(a * Math.sin(angle) + b * Math.cos(angle), 10);
        // A rotation keeps each pair's length.
        expect(Math.hypot(re, im)).toBeCloseTo(Math.hypot(a, b), 10);
      }
    }
  });

  it('rope table: position 0 is the identity, pair 0 turns by one radian per position', () => {
    const table = ropeTable(0, 3, 4, 10000);
    expect([table[0], table[1], table[2], table[3]]).toEqual([1, 0, 1, 0]);
    expect(table[8]).toBeCloseTo(Math.cos(2), 12);
    expect(table[9]).toBeCloseTo(Math.sin(2), 12);
  });
});
