// Every registered kernel's dispatches are described: the recording pass saw each one, and each pipeline's
// threads and workgroup memory were read from its WGSL (within the device's limits, as compiled).
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../test/browser-gpu.ts';
import type { GpuContext } from '../gpu/context.ts';
import { KERNELS, findKernel } from '../kernels/registry.ts';
import { withDefaults } from '../kernels/contract.ts';
import { freshSeed } from '../kernels/random.ts';
import { kernelGeometry } from './runner.ts';
import { geometryLines, readPerWorkgroup } from './geometry.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

describe('dispatch geometry', () => {
  for (const def of KERNELS) {
    it(`${def.id}: every dispatch recorded and described`, async () => {
      const config = withDefaults(def, def.testCases[0]!.config);
      const g = await kernelGeometry(ctx, def, config, freshSeed());
      expect(g.length).toBeGreaterThan(0);
      for (const d of g) {
        expect(d.threads, `${d.pipeline}: threads not read from its WGSL`).not.toBeNull();
        expect(d.threads!).toBeLessThanOrEqual(ctx.limits.maxComputeInvocationsPerWorkgroup);
        expect(d.workgroupBytes!).toBeLessThanOrEqual(ctx.limits.maxComputeWorkgroupStorageSize);
        expect(d.workgroups).toBe(d.grid[0] * d.grid[1] * d.grid[2]);
        // Each dispatch is charged what its own entry point reads, never more than the instance binds.
        expect(d.readBytes, `${d.pipeline}: read bytes unknown`).not.toBeNull();
        expect(d.readBytes!).toBeGreaterThanOrEqual(0);
        // A stage list, where the kernel has one, names every dispatch.
        if (def.id.includes('forward') || def.id === 'sparse.dsa') expect(d.stage).toBeTruthy();
      }
      // Indirect grids are resolved from the run: never all zero for a kernel that routes tokens.
      const indirect = g.filter((d) => d.indirect);
      if (indirect.length) expect(indirect.some((d) => d.workgroups > 0)).toBe(true);
    });
  }
});

describe('read bytes per dispatch', () => {
  it('flash_decode: the split pass reads q, k and v; the merge reads only the partials', async () => {
    const def = findKernel('attention.flash_decode')!;
    const config = withDefaults(def, { T: 1, S: 1024, Hq: 4, Hkv: 2, D: 32 });
    const plan = def.plan!(config, ctx);
    const g = await kernelGeometry(ctx, def, config, freshSeed());
    const split = g.find((d) => d.pipeline.endsWith(':split_main'))!;
    const merge = g.find((d) => d.pipeline.endsWith(':merge_main'))!;
    expect(split.readBytes).toBe(plan.q!.bytes + plan.k!.bytes + plan.v!.bytes);
    expect(merge.readBytes).toBe(plan.part_acc!.bytes + plan.part_ml!.bytes);
    expect(readPerWorkgroup(split)).toBe(split.readBytes! / split.workgroups);
    // The terminal line shows the dispatch's own bytes per workgroup, not the whole kernel's.
    const [line] = geometryLines([split], def.cost(config).bytes);
    expect(line).toContain(`reads / wg <= ${(split.readBytes! / split.workgroups / 1024).toFixed(1)} KiB`);
    expect(line).not.toContain('whole kernel');
  });
});
