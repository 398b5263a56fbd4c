// The structured inputs do what they claim: with float64 attention the band, the sinks and the needles hold
// most of every query's probability; the indexer ranks them first (so top-k keeps them); clustered tokens
// route to their cluster's expert group.
import { describe, expect, it } from 'vitest';
import { attentionProbabilities, causalMask } from '../reference/attention.ts';
import { indexerReference, topkReference, causalRowLength } from '../reference/sparse.ts';
import { gateReference } from '../reference/moe.ts';
import { createRng, freshSeed } from './random.ts';
import { clusterCount, defaultStructure, expertCluster, structuredAttention, structuredIndexer, structuredRouting, tokenCluster } from './structured-inputs.ts';

const seed = freshSeed();
const rng = () => createRng(seed);

/** Is key s one of the structure's strong keys for the query at position p? (The band is a smooth bump: its tail to 2·band counts.) */
function strong(p: number, s: number, st: ReturnType<typeof defaultStructure>): boolean {
  return (s <= p && p - s < 2 * st.band) || s < st.sinks || st.needles.includes(s);
}

describe(`structured inputs (seed ${seed})`, () => {
  it('band, sinks and needles hold most of each causal query row, and each kind gets a real share', () => {
    const shape = { T: 48, S: 128, Hq: 2, Hkv: 1, D: 32, scale: 1 / Math.sqrt(32) };
    const st = defaultStructure(shape.S);
    const { q, k } = structuredAttention(shape, rng(), st);
    const P = attentionProbabilities(q, k, shape, causalMask);
    for (let t = 0; t < shape.T; t++) {
      const p = shape.S - shape.T + t;
      for (let h = 0; h < shape.Hq; h++) {
        let inStrong = 0;
        let sinks = 0;
        let needles = 0;
        let band = 0;
        for (let s = 0; s <= p; s++) {
          const w = P.data[(t * shape.Hq + h) * shape.S + s]!;
          if (strong(p, s, st)) inStrong += w;
          if (s < st.sinks) sinks += w;
          else if (st.needles.includes(s)) needles += w;
          else if (p - s < st.band) band += w;
        }
        expect(inStrong).toBeGreaterThan(0.8);
        expect({ t, sinks: sinks > 0.05, needles: needles > 0.05, band: band > 0.05, v: [sinks, needles, band] }).toMatchObject({ sinks: true, needles: true, band: true });
      }
    }
  });

  it('random-looking keys far from the query get little weight: a key outside the structure never beats the band', () => {
    const shape = { T: 1, S: 64, Hq: 1, Hkv: 1, D: 16, scale: 0.25 };
    const st = defaultStructure(shape.S);
    const { q, k } = structuredAttention(shape, rng(), st);
    const P = attentionProbabilities(q, k, shape, causalMask);
    const p = shape.S - 1;
    const bandMin = Math.min(...Array.from({ length: st.band }, (_, i) => P.data[p - i]!).slice(0, 2));
    for (let s = 0; s < shape.S; s++) if (!strong(p, s, st)) expect(P.data[s]!).toBeLessThan(bandMin);
  });

  it('the indexer ranks the band, sinks and needles first: top-k of that many keys keeps them and nothing far', () => {
    const c = { T: 4, S: 96, Hi: 4, Di: 16 };
    const st = defaultStructure(c.S);
    const inputs = structuredIndexer(c, rng(), st);
    const scores = indexerReference(inputs.q_index, inputs.k_index, inputs.w_index, { ...c, causal: true });
    const kk = st.band + st.sinks + st.needles.length;
    const top = topkReference(scores, c.T, c.S, kk, 'index', causalRowLength(c.T, c.S)).indices;
    for (let t = 0; t < c.T; t++) {
      const p = c.S - c.T + t;
      const chosen = Array.from(top.data.slice(t * kk, (t + 1) * kk));
      for (const s of chosen) expect(strong(p, s, st)).toBe(true);
      // Every sink, every needle and the band's core are kept.
      for (let s = 0; s < st.sinks; s++) expect(chosen).toContain(s);
      for (const s of st.needles) expect(chosen).toContain(s);
      for (let d = 0; d < st.band / 2; d++) expect(chosen).toContain(p - d);
    }
  });

  it("clustered tokens route to their cluster's group (group-limited) or cluster's experts (flat)", () => {
    for (const c of [
      { N: 32, dim: 24, E: 16, n_groups: 4, topk_groups: 1, topk: 4 },
      { N: 20, dim: 16, E: 8, n_groups: 1, topk_groups: 1, topk: 2 },
    ]) {
      const inputs = structuredRouting(c, rng());
      const gate = gateReference(inputs.x!, inputs.gate_weight!, undefined, { ...c, score_func: 'sigmoid', route_scale: 1, routing: 'deepseek' });
      const C = clusterCount(c);
      let home = 0;
      for (let n = 0; n < c.N; n++) for (let j = 0; j < c.topk; j++) if (expertCluster(gate.indices.data[n * c.topk + j]!, c) === tokenCluster(n, c.N, C)) home++;
      expect(home / (c.N * c.topk)).toBeGreaterThan(0.95);
    }
  });

  it('refuses a head dim too small to hold the structure, naming the field', () => {
    expect(() => structuredAttention({ T: 1, S: 8, Hq: 1, Hkv: 1, D: 2, scale: 1 }, rng())).toThrow(/^D: .*at least 4/);
  });
});
