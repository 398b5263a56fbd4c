// The decoder-layer reference against the golden sample (written by an independent float64 implementation of
// DeepSeek-V3.2-Exp's Block), against the dense-MLA layer when the indexer keeps every key, and against the
// MoE's locality: an expert's weights reach only the tokens routed to it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors.ts';
import { caseTally, GOLDEN_DIR, goldenFilesFor } from '../../test/golden-fixtures.ts';
import { createRng, freshSeed } from '../kernels/random.ts';
import { randomLayerWeights } from './layer-inputs.ts';
import type { HostTensor } from '../kernels/tensor.ts';
import { relL2 } from '../kernels/compare.ts';
import { decoderLayerConfigFrom, decoderLayerReference, pooledWkvB, type DecoderLayerConfig } from './layer.ts';

const layerFiles = goldenFilesFor('layer.deepseek_v32');
const tally = caseTally(layerFiles);

// The expected h and out are stored as F32, so the float64 result differs by their rounding alone (~3e-8);
// rounded to F32 itself it must land on the stored values (rel-L2 below 1e-9: in practice bit for bit).
const GOLDEN_TOL = 1e-7;
const ROUNDED_TOL = 1e-9;
const toF32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a));

describe('decoder layer reference vs golden files', () => {
  for (const file of layerFiles) {
    it(file, () => {
      const st = readSafetensors(readFileSync(path.join(GOLDEN_DIR, file)), file);
      const t = st.tensors as Record<string, HostTensor>;
      const cfg = decoderLayerConfigFrom(st.metadata);
      const r = decoderLayerReference(t, cfg, 'dsa');
      expect(r.h.shape).toEqual(t.h!.shape);
      expect(r.out.shape).toEqual(t.out!.shape);
      const h = relL2('h', r.h.data, t.h!.data, GOLDEN_TOL);
      const out = relL2('out', r.out.data, t.out!.data, GOLDEN_TOL);
      console.log(`${file}: rel-L2 h ${h.relL2.toExponential(3)}, out ${out.relL2.toExponential(3)}`);
      expect(h.ok, `h rel-L2 ${h.relL2}`).toBe(true);
      expect(out.ok, `out rel-L2 ${out.relL2}`).toBe(true);
      const h32 = relL2('h', toF32(r.h.data), t.h!.data, ROUNDED_TOL);
      const out32 = relL2('out', toF32(r.out.data), t.out!.data, ROUNDED_TOL);
      console.log(`${file}: rounded to F32, rel-L2 h ${h32.relL2.toExponential(3)}, out ${out32.relL2.toExponential(3)}`);
      expect(h32.ok, `h rounded rel-L2 ${h32.relL2}`).toBe(true);
      expect(out32.ok, `out rounded rel-L2 ${out32.relL2}`).toBe(true);
      // The sample's selection must be sparse, or it would not test the indexer.
      expect(cfg.index_topk).toBeLessThan(cfg.S);
      tally.ran(file);
    });
  }
  it('ran every layer.deepseek_v32 sample', () => expect(tally.missing()).toEqual([]));
});

const small: DecoderLayerConfig = {
  dim: 24, n_heads: 3, q_lora_rank: 12, kv_lora_rank: 10, qk_nope_head_dim: 6, qk_rope_head_dim: 4, v_head_dim: 5,
  index_n_heads: 2, index_head_dim: 8, index_topk: 4, n_routed_experts: 8, n_activated_experts: 2, n_expert_groups: 4,
  n_limited_groups: 2, route_scale: 2.5, moe_inter_dim: 7, n_shared_experts: 1, rope_theta: 10000, softmax_scale: 0.31, T: 5, S: 13,
};

describe('decoder layer: DSA with every key kept is the dense-MLA (V3) layer', () => {
  for (const [T, S] of [[1, 9], [4, 11], [7, 7]] as const) {
    it(`T=${T} S=${S}`, () => {
      const seed = freshSeed();
      const c = { ...small, T, S };
      const w = randomLayerWeights(createRng(seed), c);
      const dense = decoderLayerReference(w, c, 'dense');
      for (const topk of [S, S + 3]) {
        const dsa = decoderLayerReference(w, { ...c, index_topk: topk }, 'dsa');
        expect(relL2('h', dsa.h.data, dense.h.data, 1e-12).ok, `seed ${seed} topk ${topk}`).toBe(true);
        expect(relL2('out', dsa.out.data, dense.out.data, 1e-12).ok, `seed ${seed} topk ${topk}`).toBe(true);
      }
      // With fewer keys than the last query sees, the selection matters: h must move.
      const sparse = decoderLayerReference(w, { ...c, index_topk: 2 }, 'dsa');
      expect(relL2('h', sparse.h.data, dense.h.data, 1e-6).ok, `seed ${seed}: top-2 changed nothing`).toBe(false);
      // Causal top-k: query t (position S-T+t) selects min(topk, S-T+t+1) rows, each at or before its position.
      const sel = decoderLayerReference(w, { ...c, index_topk: 3 }, 'dsa').selected!;
      for (let t = 0; t < T; t++) {
        const row = Array.from(sel.data.slice(t * 3, t * 3 + 3));
        const valid = row.filter((s) => s >= 0);
        expect(valid.length).toBe(Math.min(3, S - T + t + 1));
        for (const s of valid) expect(s).toBeLessThanOrEqual(S - T + t);
      }
    });
  }
});

describe('decoder layer: an expert reaches only the tokens routed to it', () => {
  it('perturbing one expert changes out exactly for its tokens', () => {
    const seed = freshSeed();
    const c = { ...small, T: 8, S: 12 };
    const w = randomLayerWeights(createRng(seed), c);
    const base = decoderLayerReference(w, c);
    const k = c.n_activated_experts;
    const routed = (e: number) => Array.from({ length: c.T }, (_, t) => Array.from(base.experts!.data.slice(t * k, (t + 1) * k)).includes(e));
    // An expert some but not all tokens use, so both sides of the claim are exercised.
    const e = Array.from({ length: c.n_routed_experts }, (_, i) => i).find((i) => {
      const r = routed(i);
      return r.some(Boolean) && !r.every(Boolean);
    });
    expect(e, `seed ${seed}: no expert with a partial token set`).toBeDefined();
    const w2 = w['ffn.experts.w2']!;
    const per = c.dim * c.moe_inter_dim;
    const data = Float64Array.from(w2.data);
    for (let i = e! * per; i < (e! + 1) * per; i++) data[i] = data[i]! * 1.5 + 0.01;
    const after = decoderLayerReference({ ...w, 'ffn.experts.w2': { shape: w2.shape, data } }, c);
    expect(Array.from(after.h.data)).toEqual(Array.from(base.h.data));
    const r = routed(e!);
    for (let t = 0; t < c.T; t++) {
      const a = after.out.data.slice(t * c.dim, (t + 1) * c.dim);
      const b = base.out.data.slice(t * c.dim, (t + 1) * c.dim);
      const changed = a.some((v, i) => v !== b[i]);
      expect(changed, `seed ${seed} expert ${e} token ${t} routed ${r[t]}`).toBe(r[t]);
    }
  });
});

describe('decoder layer: the GQA variant (K/V heads mean-pooled per group)', () => {
  it('with one KV head per query head it is the MLA layer; with fewer it differs, and the pooled weights are group means', () => {
    const seed = freshSeed();
    const c = { ...small, T: 3, S: 11, n_heads: 4 };
    const w = randomLayerWeights(createRng(seed), c, 'dense');
    const mla = decoderLayerReference(w, c, 'dense');
    const mha = decoderLayerReference(w, { ...c, gqa_kv_heads: 4 }, 'gqa');
    expect(relL2('out', mha.out.data, mla.out.data, 1e-12).relL2, `seed ${seed}`).toBeLessThan(1e-12);
    const gqa = decoderLayerReference(w, { ...c, gqa_kv_heads: 2 }, 'gqa');
    expect(relL2('h', gqa.h.data, mla.h.data, 0).relL2, `seed ${seed}`).toBeGreaterThan(1e-3);
    const wkvb = w['attn.wkv_b.weight']!;
    const pooled = pooledWkvB(wkvb, 4, 2).data;
    const per = wkvb.data.length / 4;
    for (const i of [0, per - 1, 7]) expect(pooled[per + i]).toBeCloseTo((wkvb.data[2 * per + i]! + wkvb.data[3 * per + i]!) / 2, 12);
    expect(() => decoderLayerReference(w, { ...c, gqa_kv_heads: 3 }, 'gqa')).toThrow(/gqa_kv_heads/);
  });
});
