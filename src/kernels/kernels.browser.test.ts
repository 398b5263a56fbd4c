// Every registered kernel's real WGSL, in headless Chromium, against its float64 reference: fresh random
// inputs each run (seed printed), poisoned outputs, each kernel's odd-size / GQA / causal-edge cases, and
// f16 storage where the adapter has shader-f16 (skipped with a visible note where it does not).
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../test/browser-gpu.ts';
import { describeAdapter, type GpuContext } from '../gpu/context.ts';
import { KERNELS } from './registry.ts';
import { withDefaults } from './contract.ts';
import { checkAgainstReference, summarise } from './check.ts';
import { freshSeed } from './random.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
  console.log(`adapter: ${describeAdapter(ctx.adapter)}; features: ${JSON.stringify(ctx.features)}`);
});

for (const def of KERNELS) {
  describe(def.id, () => {
    for (const tc of def.testCases) {
      const dtypes = 'dtype' in def.schema ? ['f32', 'f16'] : [undefined];
      for (const dtype of dtypes) {
        it(`${tc.name}${dtype ? ` [${dtype}]` : ''}`, async ({ skip }) => {
          if (dtype === 'f16' && !ctx.features.f16) {
            const note = `${def.id} f16 not run: this adapter (${ctx.adapter.architecture}) has no shader-f16`;
            console.log(`note: ${note}`);
            skip(note);
          }
          const config = withDefaults(def, dtype ? { ...tc.config, dtype } : tc.config);
          const report = await checkAgainstReference(ctx, def, config, freshSeed());
          expect(report.ok, summarise(report)).toBe(true);
        });
      }
    }
  });
}
