// sparse.dsa_attention's MLA path (the heads-as-M latent core over top-k lists) on the real WGSL, against the
// float64 reference on fresh inputs: odd S, k > S, head counts that are not a multiple of 4 or of a 16-head
// block, several queries with future keys in their lists; one range, the automatic split, ranges
// of 7 and 10 positions, and the workgroup-memory lane sum forced where the device has subgroups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireBrowserGpu } from '../../gpu/browser.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults } from '../contract.ts';
import { checkAgainstReference, summarise } from '../check.ts';
import { freshSeed } from '../random.ts';
import { latentLanes } from '../mla/latent-split.ts';
import { createDsaAttention, dsaAttention, type DsaAttentionConfig } from './dsa-attention.ts';
import type { SplitOptions } from './flash-split.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await acquireBrowserGpu();
});
afterAll(() => ctx?.destroy());

const CASES: Partial<DsaAttentionConfig>[] = [
  { T: 1, S: 37, Hq: 11, D: 72, Dr: 8, topk: 64 }, // k > S, 11 heads: 2 full head quads and a partial one
  { T: 3, S: 101, Hq: 5, D: 44, Dr: 12, topk: 33 }, // odd S, 3 queries (future keys skipped)
  { T: 1, S: 90, Hq: 36, D: 136, Dr: 8, topk: 61 }, // 36 heads: 3 balanced blocks of 12
];
const PATHS: { name: string; opts: SplitOptions }[] = [
  { name: 'one range', opts: { chunk: Infinity } },
  { name: 'automatic split', opts: {} },
  { name: 'ranges of 7 positions', opts: { chunk: 7 } },
  { name: 'workgroup-memory lane sum, ranges of 10', opts: { subgroups: false, chunk: 10 } },
];

describe('sparse.dsa_attention MLA latent core', () => {
  for (const tc of CASES) {
    for (const path of PATHS) {
      it(`${JSON.stringify(tc)}, ${path.name}`, async () => {
        const c = withDefaults(dsaAttention, { ...tc, Hkv: 1, mode: 'mla' });
        const live = ctx.buffers.liveBytes;
        const def = { ...dsaAttention, create: (g: GpuContext, cc: DsaAttentionConfig) => createDsaAttention(g, cc, path.opts) };
        const report = await checkAgainstReference(ctx, def, c, freshSeed());
        expect(report.ok, summarise(report)).toBe(true);
        expect(ctx.buffers.liveBytes).toBe(live);
      });
    }
  }

  it('sums the lanes\' partial scores with the subgroup butterfly where the device has subgroups, in workgroup memory when forced', () => {
    expect(latentLanes(ctx.features.subgroups).subgroups).toBe(ctx.features.subgroups);
    expect(Object.keys(latentLanes(false).workgroup)).toEqual(['lane_red']);
    expect(latentLanes(true).workgroup).toEqual({});
  });
});
