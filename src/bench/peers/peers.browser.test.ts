// The peers study's machinery on small shapes: every side (this project, onnxruntime-web, tfjs-webgpu)
// must reproduce the float64 reference for each kind of workload, and a side that returns wrong numbers
// must be reported as a mismatch (so a peer's time is never counted unverified).
import { describe, expect, it } from 'vitest';
import { measurePeers } from './measure.ts';
import { oursPeer } from './ours-peer.ts';
import { ortPeer } from './ort-peer.ts';
import { tfjsPeer } from './tfjs-peer.ts';
import type { Peer } from './peer.ts';
import type { PeerWorkload } from './workloads.ts';
import { peersDigest } from './digest.ts';

const SMALL: PeerWorkload[] = [
  { id: 'gqa', title: 'decode GQA', kind: 'attention', kernel: 'attention.flash_decode', T: 1, S: 67, Hq: 8, Hkv: 2, D: 16, causal: true },
  { id: 'prefill', title: 'causal prefill', kind: 'attention', kernel: 'attention.flash_prefill', T: 37, S: 37, Hq: 2, Hkv: 2, D: 8, causal: true },
  { id: 'routing', title: 'routing', kind: 'routing', kernel: 'moe.router', N: 33, dim: 4, E: 16, topk: 4 },
  // Odd sizes: partial tiles in every dimension and K not a multiple of the vec4 loads.
  { id: 'matmul', title: 'matmul', kind: 'matmul', kernel: 'linear.matmul', M: 63, N: 65, K: 101 },
];

/** A side that runs this project's kernel but hands back zeros: verification must refuse it. */
const zeros: Peer = {
  ...oursPeer,
  name: 'zeros',
  async prepare(w, x) {
    const p = await oursPeer.prepare(w, x);
    return {
      ...p,
      async outputs() {
        const got = await p.outputs();
        return Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v instanceof Int32Array ? new Int32Array(v.length) : new Float32Array(v.length)]));
      },
    };
  },
};

describe('peers study', () => {
  it('every side matches float64 on each kind of workload; a wrong side is a mismatch', async () => {
    const results = await measurePeers([oursPeer, ortPeer, tfjsPeer, zeros], { repeats: 2, warmup: 1, seed: 7 }, undefined, SMALL);
    expect(results.map((r) => r.id)).toEqual(['gqa', 'prefill', 'routing', 'matmul']);
    for (const w of results) {
      for (const r of w.runs) {
        if (r.peer === 'zeros') {
          expect(r.verified.ok, `${w.id} zeros`).toBe(false);
          continue;
        }
        expect(r.error, `${w.id} ${r.peer}`).toBeUndefined();
        expect(r.verified.ok, `${w.id} ${r.peer}: ${r.verified.detail}`).toBe(true);
        expect(r.timing!.samples).toBe(2);
        expect(r.timing!.medianMs).toBeGreaterThan(0);
      }
    }
    const digest = peersDigest(results, 'test adapter');
    // Ratios only between verified sides: every row has this project's time and a best-peer ratio.
    for (const row of digest.rows) expect(typeof row[4]).toBe('number');
  });
});
