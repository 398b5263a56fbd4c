// Split-K in the sparse attention cores (the key-walk core: sliding window, block select, DSA attention in GQA
// mode; the latent core of lib/latent-split.wgsl: DSA in MLA-latent mode), beyond the registry's cases: one split (no partials),
// the automatic split, many tiny splits that are not whole fours of keys and leave some walkers with no key,
// and the workgroup-memory lane sum where the device has subgroups; GQA ratios 1, 4 and 8, windows and
// selections shorter than a split, -1-padded and all -1 key lists, k > S. Every run is held against the
// float64 reference on fresh inputs and must give back all its GPU memory.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults, type AnyKernel, type Config, type KernelDefinition } from '../contract.ts';
import { checkAgainstReference, compareOutputs, summarise } from '../check.ts';
import { makeInputs, runKernel } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import type { SplitOptions } from './flash-split.ts';
import { createSlidingWindow, slidingWindow, type SlidingWindowConfig } from './sliding-window.ts';
import { blockSelect, createBlockSelect, type BlockSelectConfig } from './block-select.ts';
import { createDsaAttention, dsaAttention, dsaGqaGeometry, type DsaAttentionConfig } from './dsa-attention.ts';
import { recordGeometry } from '../../bench/geometry.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const PATHS: { name: string; opts: SplitOptions }[] = [
  { name: 'one split', opts: { chunk: Infinity } },
  { name: 'automatic split', opts: {} },
  { name: 'splits of 5 positions', opts: { chunk: 5 } },
  { name: 'workgroup-memory lane sum, splits of 3', opts: { subgroups: false, chunk: 3 } },
];

async function expectMatches<C extends Config>(def: KernelDefinition<C>, create: (g: GpuContext, c: C, o: SplitOptions) => ReturnType<KernelDefinition<C>['create']>, c: C, opts: SplitOptions) {
  const live = ctx.buffers.liveBytes;
  const report = await checkAgainstReference(ctx, { ...def, create: (g: GpuContext, cc: C) => create(g, cc, opts) }, c, freshSeed());
  expect(report.ok, `${summarise(report)} opts=${JSON.stringify(opts)}`).toBe(true);
  expect(ctx.buffers.liveBytes).toBe(live);
}

/** Each kernel with its create() that takes the internal options, and its cases. */
const SUITES = [
  {
    def: slidingWindow,
    create: createSlidingWindow,
    cases: [
      { T: 1, S: 301, Hq: 8, Hkv: 2, D: 32, window: 100, sinks: 4 },
      { T: 3, S: 77, Hq: 6, Hkv: 1, D: 20, window: 13, sinks: 5 },
      { T: 1, S: 40, Hq: 2, Hkv: 2, D: 8, window: 64, sinks: 0 },
      // GQA 8 (two quads per KV head), a window of 5 (shorter than one automatic split), odd D.
      { T: 2, S: 150, Hq: 16, Hkv: 2, D: 36, window: 5, sinks: 2 },
      // MHA prefill: quads of 4 queries of one head.
      { T: 11, S: 60, Hq: 3, Hkv: 3, D: 16, window: 9, sinks: 1 },
    ] as Partial<SlidingWindowConfig>[],
  },
  {
    def: blockSelect,
    create: createBlockSelect,
    cases: [
      { T: 1, S: 300, Hq: 4, Hkv: 1, D: 32, block: 16, topBlocks: 4 },
      { T: 5, S: 61, Hq: 4, Hkv: 2, D: 20, block: 7, topBlocks: 3 },
      { T: 2, S: 50, Hq: 2, Hkv: 1, D: 16, block: 6, topBlocks: 2, causal: false },
      // Blocks of 600 keys, pooled in 60 pieces of 10 (a workgroup sums <= 64 KiB of K).
      { T: 1, S: 1300, Hq: 2, Hkv: 1, D: 32, block: 600, topBlocks: 2 },
      // GQA 8, odd D, blocks of 3 (whole selection shorter than one automatic split).
      { T: 2, S: 40, Hq: 8, Hkv: 1, D: 28, block: 3, topBlocks: 2 },
    ] as Partial<BlockSelectConfig>[],
  },
  {
    def: dsaAttention,
    create: createDsaAttention,
    cases: [
      { T: 1, S: 200, Hq: 8, Hkv: 2, D: 32, topk: 90 },
      { T: 1, S: 37, Hq: 8, Hkv: 1, D: 32, topk: 64 }, // k > S
      { T: 3, S: 45, Hq: 6, Hkv: 3, D: 20, topk: 11 },
      { T: 2, S: 90, Hq: 16, Hkv: 2, D: 36, topk: 70 }, // GQA 8: two quads of heads per KV head
      { T: 4, S: 33, Hq: 4, Hkv: 1, D: 12, topk: 5 }, // GQA 4 prefill, lists shorter than a split
      { T: 1, S: 120, Hq: 16, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 50, scale: 0.0723 },
      { T: 2, S: 30, Hq: 3, Hkv: 1, D: 40, Dr: 12, mode: 'mla', topk: 17 },
    ] as Partial<DsaAttentionConfig>[],
  },
] as unknown as { def: AnyKernel; create: (g: GpuContext, c: Config, o: SplitOptions) => ReturnType<AnyKernel['create']>; cases: Partial<Config>[] }[];

for (const suite of SUITES) {
  describe(`${suite.def.id} split-K`, () => {
    for (const tc of suite.cases) {
      for (const path of PATHS) {
        it(`${JSON.stringify(tc)}, ${path.name}`, () => expectMatches(suite.def, suite.create, withDefaults(suite.def, tc), path.opts));
      }
    }
  });
}

describe('sparse.dsa_attention key lists', () => {
  it('a query whose list is all -1 gives zeros, its neighbour the reference, across splits', async () => {
    const c = withDefaults(dsaAttention, { T: 2, S: 60, Hq: 4, Hkv: 1, D: 16, topk: 40 });
    const seed = freshSeed();
    const inputs = makeInputs(dsaAttention as AnyKernel, c, createRng(seed));
    inputs.topk_indices!.data.fill(-1, 0, c.topk);
    for (const opts of [{ chunk: 7 }, { chunk: Infinity }]) {
      const def = { ...dsaAttention, create: (g: GpuContext, cc: DsaAttentionConfig) => createDsaAttention(g, cc, opts) };
      const got = await runKernel(ctx, def, c, inputs);
      const want = dsaAttention.reference(inputs, c);
      const results = compareOutputs(dsaAttention.outputs(c), got, want);
      expect(results.every((r) => r.ok), `seed ${seed} ${JSON.stringify(results)}`).toBe(true);
      expect(Array.from(got.out!.data.slice(0, c.Hq * c.D)).every((x) => x === 0)).toBe(true);
    }
  });
});

describe('key-walk core', () => {
  // What runs is read from the compiled pipelines: walkers of 4 invocations, no workgroup memory on the
  // subgroup path (so no barrier), one vec4 per lane for the forced workgroup-memory lane sum.
  it('walkers use workgroup memory only when the lane sum is forced onto it, and the merge none', async () => {
    const c = withDefaults(dsaAttention, { T: 1, S: 200, Hq: 8, Hkv: 2, D: 32, topk: 90 });
    expect(dsaGqaGeometry(c, 4).split.splits).toBeGreaterThan(1);
    for (const subgroups of [true, false]) {
      if (subgroups && !ctx.features.subgroups) continue;
      const inst = await createDsaAttention(ctx, c, { subgroups });
      try {
        const g = await recordGeometry(ctx, inst);
        const attend = g.find((d) => d.pipeline.endsWith(':attend_main'))!;
        const merge = g.find((d) => d.pipeline.endsWith(':merge_main'))!;
        expect([attend.threads, attend.workgroupBytes, attend.workgroups]).toEqual([4, subgroups ? 0 : 64, dsaGqaGeometry(c, 4).workgroups]);
        expect(merge.workgroupBytes).toBe(0);
      } finally {
        inst.destroy();
      }
    }
  });

  it('a row with no visible key writes zeros for every head of its quad, in one split or many', async () => {
    const c = withDefaults(dsaAttention, { T: 3, S: 50, Hq: 8, Hkv: 2, D: 20, topk: 30 });
    const inputs = makeInputs(dsaAttention as AnyKernel, c, createRng(freshSeed()));
    // Query 1 lists only keys after itself (causal: none visible) and -1s.
    for (let i = 0; i < c.topk; i++) inputs.topk_indices!.data[c.topk + i] = i % 2 ? -1 : c.S - 1;
    for (const opts of [{ chunk: 6 }, { chunk: Infinity }, { subgroups: false, chunk: 9 }]) {
      const def = { ...dsaAttention, create: (g: GpuContext, cc: DsaAttentionConfig) => createDsaAttention(g, cc, opts) };
      const got = await runKernel(ctx, def, c, inputs);
      const results = compareOutputs(dsaAttention.outputs(c), got, dsaAttention.reference(inputs, c));
      expect(results.every((r) => r.ok), JSON.stringify(results)).toBe(true);
      const row = c.Hq * c.D;
      expect(Array.from(got.out!.data.slice(row, 2 * row)).every((x) => x === 0)).toBe(true);
    }
  });
});
