// linear.matmul beyond the registry's cases: every tile the quad core can be given (the GPU's 8 x 8, the CPU's
// 16 x 16, narrow ones) with both lane sums and both B layouts, K not a multiple of the 16-deep step, edges of
// M and N inside a quad's tile, batched strided views, and the dispatch geometry.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults, type KernelDefinition } from '../contract.ts';
import { checkAgainstReference, summarise } from '../check.ts';
import { freshSeed } from '../random.ts';
import { gemmQuadCore } from '../common/gemm.ts';
import { createMatmul, matmul, matmulTile, type MatmulConfig, type MatmulOptions } from './matmul.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const config = (c: Partial<MatmulConfig>) => withDefaults(matmul, c);

async function expectMatches(c: MatmulConfig, opts: MatmulOptions = {}) {
  const def: KernelDefinition<MatmulConfig> = { ...matmul, create: (g, cc) => createMatmul(g, cc, opts) };
  const report = await checkAgainstReference(ctx, def, c, freshSeed());
  expect(report.ok, `${JSON.stringify(opts)} ${JSON.stringify(c)}: ${summarise(report)}`).toBe(true);
}

describe('linear.matmul on the quad core', () => {
  it('tiles 4 x 4 .. 16 x 16 with the subgroup and the workgroup-memory lane sum, B as [K,N] and [N,K], K = 37', async () => {
    const tiles = [[2, 2], [4, 4], [1, 3], [3, 1]] as const;
    for (const [rowQuads, colQuads] of tiles) {
      for (const subgroups of ctx.features.subgroups ? [true, false] : [false]) {
        for (const trans_b of [false, true]) {
          await expectMatches(config({ M: 70, N: 45, K: 37, trans_b }), { rowQuads, colQuads, subgroups });
        }
      }
    }
  });

  it('K below one lane quarter (K = 3), K one past a step (K = 17), one row and one column', async () => {
    await expectMatches(config({ M: 9, N: 13, K: 3 }));
    await expectMatches(config({ M: 1, N: 1, K: 17, trans_b: true }));
    await expectMatches(config({ M: 33, N: 1, K: 17 }));
  });

  it('batched products (wg.z) with B as [N,K], M and N edges inside a tile', async () => {
    await expectMatches(config({ M: 19, N: 21, K: 40, batch: 3, trans_b: true }), { rowQuads: 4, colQuads: 4 });
    await expectMatches(config({ M: 19, N: 21, K: 40, batch: 2 }), { rowQuads: 2, colQuads: 2 });
  });

  it('one workgroup per 4 x 4 quad tiles of C, no workgroup memory with subgroups', () => {
    const t = matmulTile(ctx, false, { rowQuads: 4, colQuads: 2 });
    const core = gemmQuadCore(t);
    expect(core.block).toEqual({ bm: 64, bn: 32 });
    expect(core.grid(1024, 1024)).toEqual([32, 16]);
    expect(core.threads).toBe(64);
    expect(gemmQuadCore({ ...t, subgroups: true }).bytes).toBe(0);
    expect(gemmQuadCore({ ...t, subgroups: false }).bytes).toBe(64 * 16);
  });
});
