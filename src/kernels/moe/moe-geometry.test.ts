// Launch geometry of the MoE decode passes that stream weights, at DeepSeek-V3's sizes (dim 7168, 256 experts
// of moe_inter 2048, top-8, one shared expert; the dense equivalent has (8 + 1) x 2048; the 7168 x 256 gate):
// plans only, nothing is allocated. Each such pass must launch >= 512 workgroups or stream <= 64 KiB of weights per workgroup.
import { describe, expect, it } from 'vitest';
import { GEMV_LANES, ffnGemvShapes, type FfnStageOptions } from './grouped-ffn.ts';
import { FILL_BYTES_PER_WORKGROUP, FILL_WORKGROUPS } from './moe-config.ts';
import { ROUTER_GEMV_LANES, ROUTER_GEMV_QUAD_ROWS, routerPlan } from './router.ts';

const V3 = { dim: 7168, inter: 2048, E: 256, topk: 8 };

const fills = (workgroups: number, bytes: number) => workgroups >= FILL_WORKGROUPS || bytes <= FILL_BYTES_PER_WORKGROUP;

describe('expert GEMVs at DeepSeek-V3 dims', () => {
  const stages: [string, Pick<FfnStageOptions, 'rows' | 'dim' | 'inter' | 'maxRowsPerExpert'>][] = [];
  for (const N of [1, 2, 8, 64]) stages.push([`routed experts N=${N}`, { rows: N * V3.topk, dim: V3.dim, inter: V3.inter, maxRowsPerExpert: N }]);
  for (const N of [1, 8]) {
    stages.push([`shared expert N=${N}`, { rows: N, dim: V3.dim, inter: V3.inter, maxRowsPerExpert: N }]);
    stages.push([`dense equivalent N=${N}`, { rows: N, dim: V3.dim, inter: 9 * V3.inter, maxRowsPerExpert: N }]);
  }
  for (const [name, o] of stages) {
    it(`${name}: up and down launch >= 512 workgroups or <= 64 KiB of weights each`, () => {
      const { up, down } = ffnGemvShapes(o);
      for (const [pass, s, K, matrices] of [['up', up, o.dim, 2], ['down', down, o.inter, 1]] as const) {
        expect(fills(s.workgroups, s.bytesPerWorkgroup), `${pass}: ${s.workgroups} workgroups of ${s.bytesPerWorkgroup} B`).toBe(true);
        // the plan's bytes are what its rows stream: rows per workgroup x K x matrices x 4 B; a quad of
        // GEMV_LANES invocations owns quadRows weight rows
        expect(s.bytesPerWorkgroup).toBe(s.rowsPerWorkgroup * K * matrices * 4);
        expect(s.rowsPerWorkgroup).toBe((s.wg / GEMV_LANES) * s.quadRows);
      }
    });
  }

  it('N = 1 routed: 8 experts x 2048 rows in 512 workgroups of 32 rows; down 896 of 64 rows', () => {
    const { up, down } = ffnGemvShapes({ rows: 8, dim: V3.dim, inter: V3.inter, maxRowsPerExpert: 1 });
    expect([up.workgroups, up.rowsPerWorkgroup]).toEqual([512, 32]);
    expect([down.workgroups, down.rowsPerWorkgroup]).toEqual([896, 64]);
    expect([up.quadRows, down.quadRows]).toEqual([4, 8]);
  });

  it('one tile of a deep matrix (shared expert N = 1): 1-row quads, 512 workgroups of 4 rows', () => {
    const { up } = ffnGemvShapes({ rows: 1, dim: V3.dim, inter: V3.inter, maxRowsPerExpert: 1 });
    expect([up.quadRows, up.wg, up.workgroups]).toEqual([1, 16, 512]);
  });

  it('small shapes keep the largest workgroup that already streams <= 64 KiB each', () => {
    const { up, down } = ffnGemvShapes({ rows: 8, dim: 512, inter: 256, maxRowsPerExpert: 1 });
    expect(up.bytesPerWorkgroup).toBeLessThanOrEqual(FILL_BYTES_PER_WORKGROUP);
    expect(down.bytesPerWorkgroup).toBeLessThanOrEqual(FILL_BYTES_PER_WORKGROUP);
    // 8-row quads (one matrix): 32 invocations own 64 rows of 1 KiB
    expect([down.wg, down.quadRows, down.rowsPerWorkgroup]).toEqual([32, 8, 64]);
  });
});

describe('router logits GEMV at DeepSeek-V3 dims (7168 x 256 gate)', () => {
  const base = { dim: 7168, E: 256, topk: 8, n_groups: 8, topk_groups: 4, score_func: 'sigmoid', routing: 'deepseek', bias: true, route_scale: 2.5 } as const;
  for (const N of [1, 4, 8, 64]) {
    it(`N=${N}: >= 512 workgroups or <= 64 KiB of gate each, slices cover dim`, () => {
      const p = routerPlan({ ...base, N });
      const workgroups = p.logitGrid[0] * p.logitGrid[1] * p.logitGrid[2];
      expect(p.gemv).toBe(true);
      expect(fills(workgroups, p.bytesPerWorkgroup), `${workgroups} workgroups of ${p.bytesPerWorkgroup} B`).toBe(true);
      const rows = (p.wg / ROUTER_GEMV_LANES) * ROUTER_GEMV_QUAD_ROWS;
      expect(p.logitGrid[1] * rows).toBeGreaterThanOrEqual(base.E);
      expect(p.splits * (p.bytesPerWorkgroup / rows)).toBeGreaterThanOrEqual(base.dim * 4);
    });
  }
  it('N=1: 8 expert blocks (4 quads of 8 rows) x 14 slices of 64 KiB', () => {
    const p = routerPlan({ ...base, N: 1 });
    expect(p.logitGrid).toEqual([1, 8, 14]);
    expect(p.wg).toBe(16);
    expect(p.bytesPerWorkgroup).toBe(64 * 1024);
  });
});
