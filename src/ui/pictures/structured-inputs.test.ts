// The pictures' structured inputs do what they claim, judged in float64: the sinks, the needles and the
// local band hold most of every causal query's softmax and each gets a real share; the indexer ranks the
// sinks and needles into its top-k; clustered tokens route to their cluster's expert group.
import { describe, expect, it } from 'vitest';
import { attentionProbabilities, causalMask } from '../../reference/attention.ts';
import { causalRowLength, indexerReference, topkReference } from '../../reference/sparse.ts';
import { gateReference } from '../../reference/moe.ts';
import { createRng, freshSeed, randomNormal } from '../../kernels/random.ts';
import { SINKS, needles, structureInputs } from './structured-inputs.ts';
import { clusterCount, expertCluster, structuredRouting, tokenCluster } from './token-clusters.ts';

const seed = freshSeed();
const rng = () => createRng(seed);

describe(`structured inputs (seed ${seed})`, () => {
  it('sinks, needles and the band near the query hold most of each causal row, each a real share', () => {
    const c = { T: 16, S: 128, Hq: 2, Hkv: 1, D: 32 };
    const r = rng();
    const inputs = structureInputs({ q: randomNormal(r, [c.T, c.Hq, c.D]), k: randomNormal(r, [c.S, c.Hkv, c.D]) }, c);
    const P = attentionProbabilities(inputs.q!, inputs.k!, { ...c, scale: 1 / Math.sqrt(c.D) }, causalMask);
    const far = new Set(needles(c.S));
    for (let t = 0; t < c.T; t++) {
      const p = c.S - c.T + t;
      const share = { sinks: 0, needles: 0, band: 0, rest: 0 };
      for (let s = 0; s <= p; s++) {
        const w = P.data[t * c.Hq * c.S + s]!;
        if (s < SINKS) share.sinks += w;
        else if (far.has(s)) share.needles += w;
        else if (p - s < c.S / 4) share.band += w;
        else share.rest += w;
      }
      expect(share.rest, JSON.stringify(share)).toBeLessThan(0.2);
      for (const kind of ['sinks', 'needles', 'band'] as const) expect(share[kind], `${kind} ${JSON.stringify(share)}`).toBeGreaterThan(0.03);
    }
  });

  it("the indexer's top-k keeps every sink and needle", () => {
    const c = { T: 4, S: 96, Hi: 4, Di: 16 };
    const r = rng();
    const inputs = structureInputs({ q_index: randomNormal(r, [c.T, c.Hi, c.Di]), k_index: randomNormal(r, [c.S, c.Di]), w_index: randomNormal(r, [c.T, c.Hi]) }, c);
    const scores = indexerReference(inputs.q_index!, inputs.k_index!, inputs.w_index!, { ...c, causal: true });
    const k = 12;
    const top = topkReference(scores, c.T, c.S, k, 'index', causalRowLength(c.T, c.S)).indices;
    for (let t = 0; t < c.T; t++) {
      const chosen = Array.from(top.data.slice(t * k, (t + 1) * k));
      for (const s of [...Array.from({ length: SINKS }, (_, i) => i), ...needles(c.S)]) expect(chosen).toContain(s);
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
});
