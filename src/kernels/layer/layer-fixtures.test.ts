// The decoder layer's own golden fixtures (test/fixtures/layer/, written by `npm run golden -- --kernel
// layer.deepseek_v32` from the float64 reference): each passes verify on the GPU, each clears the decision
// margins that make an f32 layer select the same keys and experts, and together they cover decode (T = 1), a
// few new tokens (T = 4) and a whole prefill (T = S). The V3 variant (dense absorbed MLA) is held to the V3.2
// reference with every key selected.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeGpu } from '../../../test/node-gpu.ts';
import { caseTally } from '../../../test/golden-fixtures.ts';
import { formatVerification, verifyGolden } from '../../io/golden.ts';
import { readSafetensors } from '../../io/safetensors.ts';
import { KERNELS } from '../registry.ts';
import { withDefaults } from '../contract.ts';
import { relL2 } from '../compare.ts';
import { createInstance, encodeOnce, readOutputs, uploadInputs } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import type { HostTensor } from '../tensor.ts';
import { decoderLayerConfigFrom, decoderLayerReference } from '../../reference/layer.ts';
import { marginSafeLayerWeights, MIN_MARGINS, selectionMargins } from '../../reference/layer-inputs.ts';
import { deepseekV32Layer } from './deepseek-v32.ts';

const DIR = fileURLToPath(new URL('../../../test/fixtures/layer/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();
const tally = caseTally(files);
const read = (f: string) => readSafetensors(readFileSync(DIR + f), f);
// The first case of the file builds every pipeline of the layer (some 30, the MoE's and DSA's included) on a fresh
// device: minutes on a loaded CPU-emulated one; the later cases reuse them.
const FIRST_BUILD_MS = 400_000;

describe('decoder-layer fixtures', () => {
  it('cover T = 1, T = 4 and T = S of the V3.2 layer', () => {
    const shapes = files.map((f) => read(f).metadata).filter((m) => (m.attention ?? 'mla_dsa') === 'mla_dsa').map((m) => [Number(m.T), Number(m.S)]);
    expect(shapes.some(([T]) => T === 1)).toBe(true);
    expect(shapes.some(([T]) => T === 4)).toBe(true);
    expect(shapes.some(([T, S]) => T === S)).toBe(true);
  });

  for (const file of files) {
    it(`${file}: verify passes and its selections have margins`, async () => {
      const bytes = readFileSync(DIR + file);
      const v = await verifyGolden(await nodeGpu(), bytes, file, KERNELS);
      console.log(formatVerification(v).join('\n'));
      expect(v.ok, formatVerification(v).join('\n')).toBe(true);
      expect(v.kernels.some((k) => k.kernel === 'layer.deepseek_v32' && k.ok)).toBe(true);
      const st = read(file);
      const c = decoderLayerConfigFrom(st.metadata);
      const attention = st.metadata.attention === 'mla_dense' ? 'dense' : 'dsa';
      const m = selectionMargins(st.tensors as Record<string, HostTensor>, c, decoderLayerReference(st.tensors as Record<string, HostTensor>, c, attention));
      console.log(`${file}: margins keys ${m.keys.toExponential(2)}, experts ${m.experts.toExponential(2)}`);
      expect(m.keys).toBeGreaterThanOrEqual(MIN_MARGINS.keys);
      expect(m.experts).toBeGreaterThanOrEqual(MIN_MARGINS.experts);
      tally.ran(file);
    }, FIRST_BUILD_MS);
  }
  it('ran every fixture', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(tally.missing()).toEqual([]);
  });
});

describe('the V3 variant (dense absorbed MLA) on the GPU', () => {
  it('matches the V3.2 reference with every key selected', async () => {
    const seed = freshSeed();
    const c = withDefaults(deepseekV32Layer, { T: 3, S: 14, attention: 'mla_dense' });
    // Weights with the indexer's too: the reference runs the V3.2 path over them with index_topk = S.
    const { weights } = marginSafeLayerWeights(createRng(seed), c, 'dsa', 'moe');
    const ctx = await nodeGpu();
    const instance = await createInstance(ctx, deepseekV32Layer, c);
    try {
      uploadInputs(ctx, instance, deepseekV32Layer.inputs(c), weights);
      encodeOnce(ctx, instance);
      const got = await readOutputs(ctx, instance, deepseekV32Layer.outputs(c));
      const all = decoderLayerReference(weights, { ...c, index_topk: c.S }, 'dsa');
      for (const name of ['h', 'out'] as const) {
        const r = relL2(name, got[name]!.data, all[name].data, 1e-4);
        expect(r.ok, `seed ${seed}: ${name} rel-L2 ${r.relL2}`).toBe(true);
      }
      // ... and a top-k below S moves it: the comparison can fail.
      const sparse = decoderLayerReference(weights, { ...c, index_topk: 3 }, 'dsa');
      expect(relL2('h', got.h!.data, sparse.h.data, 1e-4).ok, `seed ${seed}`).toBe(false);
    } finally {
      instance.destroy();
    }
  }, FIRST_BUILD_MS);
});
