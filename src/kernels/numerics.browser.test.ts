// Numerics at the edges: attention whose scores reach +-1e4 (softmax fully saturated; a kernel without
// max-subtraction overflows exp to Inf and returns NaN) must match the float64 reference and stay finite.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../test/browser-gpu.ts';
import type { GpuContext } from '../gpu/context.ts';
import { KERNELS } from './registry.ts';
import { withDefaults } from './contract.ts';
import { compareOutputs } from './check.ts';
import { makeInputs, runKernel } from './execute.ts';
import { createRng, freshSeed, randomNormal } from './random.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

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

// -inf in the data: q > 0 and keys whose first component is -inf give scores of exactly -inf, so those
// keys must get weight 0. With T = S the first rows see only such keys: an all-masked row, whose answer
// (the reference's) is 0 — an online softmax that computes exp(-inf - (-inf)) returns NaN there instead.
describe('-inf scores and all-masked rows', () => {
  for (const def of attentionKernels) {
    const shape = def.id === 'attention.flash_decode' ? { T: 4, S: 70, Hq: 4, Hkv: 2, D: 16 } : { T: 37, S: 37, Hq: 4, Hkv: 2, D: 16 };
    it(`${def.id} T=${shape.T} S=${shape.S}: -inf keys get weight 0, rows with only -inf keys are 0`, async () => {
      const seed = freshSeed();
      const rng = createRng(seed);
      const config = withDefaults(def, shape);
      const q = randomNormal(rng, [shape.T, shape.Hq, shape.D]);
      q.data = q.data.map(Math.abs);
      const k = randomNormal(rng, [shape.S, shape.Hkv, shape.D]);
      // Keys 0..19 (the whole first tile of every kernel) and a scattered few more are -inf.
      const masked = (s: number) => s < 20 || s % 7 === 3;
      for (let s = 0; s < shape.S; s++) if (masked(s)) for (let h = 0; h < shape.Hkv; h++) k.data[(s * shape.Hkv + h) * shape.D] = -Infinity;
      const inputs = { q, k, v: randomNormal(rng, [shape.S, shape.Hkv, shape.D]) };
      const got = await runKernel(ctx, def, config, inputs);
      const want = def.reference(inputs, config);
      expect(want.out!.data.every(Number.isFinite), 'reference finite').toBe(true);
      expect(got.out!.data.every(Number.isFinite), `non-finite output (seed ${seed})`).toBe(true);
      const [r] = compareOutputs(def.outputs(config), got, want);
      expect(r!.ok, `rel-L2 ${r!.relL2} (seed ${seed})`).toBe(true);
      if (shape.T === shape.S) {
        // Row t = 0 (position 0) sees only key 0, which is -inf: all-masked, so exactly 0.
        const row0 = got.out!.data.slice(0, shape.Hq * shape.D);
        expect(Array.from(row0).every((x) => x === 0), 'all-masked row is 0').toBe(true);
      }
    });
  }

  const dsaAttention = KERNELS.find((k) => k.id === 'sparse.dsa_attention')!;
  it('sparse.dsa_attention: a query whose key list is all -1 padding gives 0, the others the reference', async () => {
    const seed = freshSeed();
    const rng = createRng(seed);
    const config = withDefaults(dsaAttention, { T: 5, S: 33, Hq: 4, Hkv: 2, D: 16, topk: 7 });
    const inputs = makeInputs(dsaAttention, config, rng);
    inputs.topk_indices!.data.fill(-1, 2 * 7, 3 * 7); // query 2 selected nothing
    const got = await runKernel(ctx, dsaAttention, config, inputs);
    const want = dsaAttention.reference(inputs, config);
    const [r] = compareOutputs(dsaAttention.outputs(config), got, want);
    expect(r!.ok, `rel-L2 ${r!.relL2} (seed ${seed})`).toBe(true);
    const row2 = got.out!.data.slice(2 * 4 * 16, 3 * 4 * 16);
    expect(Array.from(row2).every((x) => x === 0)).toBe(true);
  });
});
