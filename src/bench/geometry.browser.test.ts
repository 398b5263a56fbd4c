// Every registered kernel's dispatches are described: the recording pass saw each one, and each pipeline's
// threads and workgroup memory were read from its WGSL (within the device's limits, as compiled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireBrowserGpu } from '../gpu/browser.ts';
import type { GpuContext } from '../gpu/context.ts';
import { KERNELS } from '../kernels/registry.ts';
import { withDefaults } from '../kernels/contract.ts';
import { freshSeed } from '../kernels/random.ts';
import { kernelGeometry } from './runner.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await acquireBrowserGpu();
});
afterAll(() => ctx?.destroy());

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
        // A stage list, where the kernel has one, names every dispatch.
        if (def.id.includes('forward') || def.id === 'sparse.dsa') expect(d.stage).toBeTruthy();
      }
      // Indirect grids are resolved from the run: never all zero for a kernel that routes tokens.
      const indirect = g.filter((d) => d.indirect);
      if (indirect.length) expect(indirect.some((d) => d.workgroups > 0)).toBe(true);
    });
  }
});
