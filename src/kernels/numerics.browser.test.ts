// Numerics at the edges: attention whose scores reach +-1e4 (softmax fully saturated; a kernel without
// max-subtraction overflows exp to Inf and returns NaN) must match the float64 reference and stay finite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireBrowserGpu } from '../gpu/browser.ts';
import type { GpuContext } from '../gpu/context.ts';
import { KERNELS } from './registry.ts';
import { withDefaults } from './contract.ts';
import { compareOutputs } from './check.ts';
import { runKernel } from './execute.ts';
import { createRng, freshSeed, randomNormal } from './random.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await acquireBrowserGpu();
});
afterAll(() => ctx?.destroy());

const attentionKernels = KERNELS.filter((k) => k.implements === 'attention.dense' || k.implements === 'attention.sliding_window');

describe('attention with scores of +-1e4', () => {
  for (const def of attentionKernels) {
    for (const shape of [{ T: 1, S: 77, Hq: 4, Hkv: 2, D: 16 }, { T: 9, S: 40, Hq: 2, Hkv: 1, D: 32 }]) {
      it(`${def.id} T=${shape.T} S=${shape.S}: finite and equal to the reference`, async () => {
        const seed = freshSeed();
        const rng = createRng(seed);
        const config = withDefaults(def, shape);
        // q, k ~ N(0, 100^2): std(q.k) = 1e4 * sqrt(D), times the scale 1/sqrt(D) gives scores of std 1e4.
        const inputs = {
          q: randomNormal(rng, [shape.T, shape.Hq, shape.D], 100),
          k: randomNormal(rng, [shape.S, shape.Hkv, shape.D], 100),
          v: randomNormal(rng, [shape.S, shape.Hkv, shape.D]),
        };
        const got = await runKernel(ctx, def, config, inputs);
        const want = def.reference(inputs, config);
        expect(got.out!.data.every(Number.isFinite), `non-finite output (seed ${seed})`).toBe(true);
        // Saturated softmax: f32 score rounding (1e4 * 2^-24 ~ 6e-4) can move weight between near-equal maxima.
        const [r] = compareOutputs(def.outputs(config).map((o) => ({ ...o, compare: { kind: 'rel-l2', tolerance: 2e-3 } })), got, want);
        expect(r!.ok, `rel-L2 ${r!.relL2} (seed ${seed})`).toBe(true);
      });
    }
  }
});
