// Bytes this project's kernels allocate for each cache layout, read back from the buffer tracker, equal the
// formulas of kv-cache.ts, through the buffer code and through the kernels' own create(); nothing leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../test/browser-gpu.ts';
import type { GpuContext } from '../gpu/context.ts';
import { findPreset, type ModelPreset } from '../models/presets.ts';
import { elementsPerTokenPerLayer } from './kv-cache.ts';
import { measureModelCaches } from './measured.ts';
import { planBytes } from '../kernels/common/buffer-plan.ts';
import { withDefaults } from '../kernels/contract.ts';
import { mlaDecodeAbsorbed } from '../kernels/mla/decode-absorbed.ts';
import { mlaDecodeNaive } from '../kernels/mla/decode-naive.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

/** Small odd-sized models so every layout's kernel can be built quickly. */
const tinyMla: ModelPreset = {
  id: 'tiny-mla',
  name: 'tiny MLA',
  configUrl: 'test',
  arch: { layers: 3, hidden: 256, heads: 16, kvHeads: 16, headDim: 16, maxPositions: 64, ropeTheta: 10000, vocab: 10, intermediate: 32, mla: { qLoraRank: 0, kvLoraRank: 36, qkNopeHeadDim: 16, qkRopeHeadDim: 8, vHeadDim: 12 } },
  sources: {},
  notes: [],
};
const tinyGqa: ModelPreset = {
  id: 'tiny-gqa',
  name: 'tiny GQA',
  configUrl: 'test',
  arch: { layers: 2, hidden: 192, heads: 8, kvHeads: 2, headDim: 24, maxPositions: 64, ropeTheta: 10000, vocab: 10, intermediate: 32 },
  sources: {},
  notes: [],
};

describe('measured cache allocation equals the formula', () => {
  for (const p of [tinyMla, tinyGqa]) {
    it(`${p.id}: every layout, f32, through create()`, async () => {
      const baseline = ctx.buffers.liveBytes;
      const results = await measureModelCaches(ctx, p, { tokens: 37, storage: 'f32' });
      expect(ctx.buffers.liveBytes).toBe(baseline);
      const kinds = results.map((r) => r.layout.kind);
      expect(kinds).toEqual(p.arch.mla ? ['mha', 'gqa', 'mqa', 'mla', 'mla'] : ['mha', 'gqa', 'mqa']);
      for (const r of results) {
        const want = elementsPerTokenPerLayer(r.layout) * 4 * 37;
        expect(r.formulaBytes, r.name).toBe(want);
        expect(r.allocatedBytes, r.name).toBe(want);
        expect(r.instance, r.name).toBeDefined();
        expect(r.instance!.cacheBuffersBytes, `${r.name} via ${r.kernel}`).toBe(want);
        expect(r.instance!.liveBytes).toBeGreaterThan(want); // queries, outputs, weights, scratch come on top
      }
    });
  }

  it('MLA: the two decode instances differ by exactly their own buffers (naive: expanded K/V + scores; each its parameters)', async () => {
    const results = await measureModelCaches(ctx, tinyMla, { tokens: 40, storage: 'f32' });
    const [absorbed, naive] = results.filter((r) => r.layout.kind === 'mla');
    const m = tinyMla.arch.mla!;
    const config = { T: 1, S: 40, H: tinyMla.arch.heads, dn: m.qkNopeHeadDim, dr: m.qkRopeHeadDim, dc: m.kvLoraRank, dv: m.vHeadDim, dtype: 'f32' as const };
    // Beyond the tensors both bind: scratch and the parameter uniform, which differ between the two.
    const scratch = (def: typeof mlaDecodeNaive | typeof mlaDecodeAbsorbed) => {
      const plan = def.plan!(withDefaults(def, config) as never);
      return planBytes(plan, 'scratch') + planBytes(plan, 'uniform');
    };
    expect(mlaDecodeNaive.scratch!(withDefaults(mlaDecodeNaive, config)).find((s) => s.name === 'kv_full')!.bytes).toBe(40 * 16 * (16 + 12) * 4);
    expect(naive!.instance!.liveBytes - absorbed!.instance!.liveBytes).toBe(scratch(mlaDecodeNaive) - scratch(mlaDecodeAbsorbed));
  });

  it('DeepSeek-V3 layouts at its real widths, 16-bit storage (cache tensors only)', async () => {
    const p = findPreset('deepseek-v3')!;
    const results = await measureModelCaches(ctx, p, { tokens: 16, storage: 'f16', createInstances: false });
    const mla = results.find((r) => r.kernel === 'mla.decode_absorbed')!;
    // (512 + 64) values x 2 bytes x 16 tokens: the 1,152 bytes per token and layer behind 70,272 per token for 61 layers.
    expect(mla.allocatedBytes).toBe(576 * 2 * 16);
    expect(results.find((r) => r.layout.kind === 'mha')!.allocatedBytes).toBe(2 * 128 * 128 * 2 * 16);
    for (const r of results) expect(r.allocatedBytes).toBe(r.formulaBytes);
  });
});
