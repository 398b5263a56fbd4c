// MoE invariants checked on the GPU's own outputs (the generic suite in kernels.browser.test.ts already
// compares every registered MoE kernel with its float64 reference): group-limited routing, dispatch as a
// permutation with counted drops, stage-by-stage encoding of the layer, no leaked buffers, and the
// bias-update demo bringing a skewed load down.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { expertCapacity, gateReference } from '../../reference/moe.ts';
import { withDefaults } from '../contract.ts';
import { createInstance, encodeOnce, makeInputs, readOutputs, runKernel, uploadInputs } from '../execute.ts';
import { createRng, freshSeed } from '../random.ts';
import { decodeTensor } from '../tensor.ts';
import { moeDispatch } from './dispatch.ts';
import { moeForward, type MoeForwardInstance } from './forward.ts';
import { runBalanceDemo } from '../../demos/load-balance.ts';
import { createGroupedFfn, moeGroupedFfn, type FfnPath } from './grouped-ffn.ts';
import { compareOutputs } from '../check.ts';
import { gateOptions } from './moe-config.ts';
import { createRouter, moeRouter, routerPlan, type RouterKnobs } from './router.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

describe('router on the GPU: group-limited invariants', () => {
  const cases = [
    { name: 'V3: sigmoid + bias, 8 groups keep 4', config: { N: 37, dim: 16, E: 64, topk: 8, n_groups: 8, topk_groups: 4 } },
    { name: 'softmax, group max, topk = E / n_groups', config: { N: 21, dim: 8, E: 36, topk: 6, n_groups: 6, topk_groups: 1, score_func: 'softmax' as const, bias: false, route_scale: 1 } },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const c = withDefaults(moeRouter, tc.config);
      const seed = freshSeed();
      const inputs = makeInputs(moeRouter, c, createRng(seed));
      const got = await runKernel(ctx, moeRouter, c, inputs);
      const ref = gateReference(inputs.x!, inputs.gate_weight!, inputs.gate_bias, gateOptions(c));
      const gs = c.E / c.n_groups;
      for (let t = 0; t < c.N; t++) {
        const chosen = Array.from(got.indices!.data.slice(t * c.topk, (t + 1) * c.topk));
        expect(new Set(chosen).size, `seed ${seed} token ${t}: distinct experts`).toBe(c.topk);
        const groups = new Set(chosen.map((e) => Math.floor(e / gs)));
        expect(groups.size).toBeLessThanOrEqual(c.topk_groups);
        // every chosen expert lies in a group the reference kept (its selection score is finite there)
        for (const e of chosen) expect(Number.isFinite(ref.selectionScores[t * c.E + e]!), `seed ${seed} token ${t} expert ${e}`).toBe(true);
        const sum = Array.from(got.weights!.data.slice(t * c.topk, (t + 1) * c.topk)).reduce((a, v) => a + v, 0);
        if (c.score_func === 'sigmoid') expect(Math.abs(sum - c.route_scale) / c.route_scale).toBeLessThan(1e-5);
        else expect(sum).toBeLessThanOrEqual(c.route_scale * (1 + 1e-5));
      }
    });
  }
});

describe('dispatch on the GPU', () => {
  it('every kept copy lands exactly once, counts sum to N*topk, drops are counted, runs repeat exactly', async () => {
    const c = withDefaults(moeDispatch, { N: 203, E: 12, topk: 3, capacity_factor: 0.9 });
    const seed = freshSeed();
    const inputs = makeInputs(moeDispatch, c, createRng(seed));
    const a = await runKernel(ctx, moeDispatch, c, inputs);
    const b = await runKernel(ctx, moeDispatch, c, inputs);
    const R = c.N * c.topk;
    const cap = expertCapacity(c.capacity_factor, c.N, c.topk, c.E);
    const counts = Array.from(a.counts!.data);
    expect(counts.reduce((s, v) => s + v, 0)).toBe(R);
    const dropped = counts.reduce((s, v) => s + Math.max(0, v - cap), 0);
    expect(dropped, `seed ${seed}: the skewed stream should overflow some expert`).toBeGreaterThan(0);
    expect(a.dropped!.data[0]).toBe(dropped);
    const rows = new Map<number, number>();
    for (let copy = 0; copy < R; copy++) {
      const p = a.slot_of!.data[copy]!;
      if (p < 0) continue;
      expect(rows.has(p), `seed ${seed}: row ${p} taken twice`).toBe(false);
      rows.set(p, copy);
      expect(a.sorted_tokens!.data[p]).toBe(Math.floor(copy / c.topk));
      const e = inputs.indices!.data[copy]!;
      expect(p >= a.offsets!.data[e]! && p < a.offsets!.data[e + 1]!).toBe(true);
    }
    expect(rows.size).toBe(R - dropped);
    for (let p = R - dropped; p < R; p++) expect(a.sorted_tokens!.data[p]).toBe(-1);
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).toEqual(Array.from(a[name]!.data));
  });
});

describe('router logits: GEMV and the tiled matmul with both lane_sum variants, and fused into the selection', () => {
  const shapes = [
    { N: 3, dim: 520, E: 40, topk: 4, n_groups: 8, topk_groups: 3 }, // several slices of dim
    { N: 11, dim: 36, E: 23, topk: 3, n_groups: 1, topk_groups: 1, score_func: 'softmax' as const, bias: false, route_scale: 1 },
    // the tiled logits past one 64 x 64 block both ways, K = 100 (not a multiple of the 16-deep step)
    { N: 150, dim: 100, E: 70, topk: 4, n_groups: 1, topk_groups: 1 },
  ];
  // fused: the selection computes each logit itself (the default for gates of dim <= 16), here at any dim.
  const variants: RouterKnobs[] = [{ gemv: true, subgroups: true }, { gemv: true, subgroups: false }, { gemv: false }, { gemv: false, subgroups: false }, { fused: true }];
  for (const shape of shapes) {
    for (const v of variants) {
      it(`${JSON.stringify(shape)} ${JSON.stringify(v)}`, async ({ skip }) => {
        if (v.gemv && v.subgroups && !ctx.features.subgroups) skip('this adapter has no subgroups: the workgroup-memory variant covers the GEMV');
        const c = withDefaults(moeRouter, shape);
        if (shape.dim === 520) expect(routerPlan(c, v).splits > 1).toBe(v.gemv === true);
        const seed = freshSeed();
        const inputs = makeInputs(moeRouter, c, createRng(seed));
        const got = await runKernel(ctx, moeRouter, c, inputs, () => createRouter(ctx, c, v));
        for (const r of compareOutputs(moeRouter.outputs(c), got, moeRouter.reference(inputs, c))) expect(r.ok, `seed ${seed}: ${r.name} ${r.detail ?? r.relL2}`).toBe(true);
      });
    }
  }
});

describe('grouped FFN: every matmul path and both lane_sum variants', () => {
  // The registry's cases take the path the shape picks; here each one is forced on shapes that reach its
  // edges: ragged experts (GEMV tiles of 1..8 rows and an expert past 8 rows), tiled tiles of <= 4 rows
  // (split-K branch) next to full ones, dim and inter not multiples of the 4 weight rows of a GEMV workgroup,
  // and the fused tiled path (inter <= 64) against the two-launch one.
  const shapes = [
    { N: 13, E: 5, topk: 2, dim: 44, inter: 36 },
    { N: 1, E: 16, topk: 4, dim: 132, inter: 20 },
    { N: 40, E: 3, topk: 2, dim: 24, inter: 68 },
    { N: 150, E: 2, topk: 1, dim: 12, inter: 8 }, // a busy expert (~95 rows): a dozen GEMV tiles, two 64-row tiled ones
    // quad-core edges: K = 100 and 52 (not multiples of the 16-deep step), ~47 rows per expert (32-row tiles,
    // a ragged last one), dim and inter not multiples of the 16 columns of a quad tile
    { N: 70, E: 3, topk: 2, dim: 100, inter: 52 },
  ];
  const variants: { path: FfnPath; subgroups: boolean; quadRows?: 1 | 4 }[] = [
    { path: 'gemv', subgroups: true },
    { path: 'gemv', subgroups: false },
    // quads of one weight row (a launch of one tile of a deep matrix, e.g. the shared expert at N = 1)
    { path: 'gemv', subgroups: true, quadRows: 1 },
    // the down pass's 4-row quads (by default it takes 8 rows where that fills a GPU)
    { path: 'gemv', subgroups: true, quadRows: 4 },
    { path: 'tiled', subgroups: true },
    { path: 'fused', subgroups: true },
    // the quad GEMM core's workgroup-memory lane sum
    { path: 'tiled', subgroups: false },
    { path: 'fused', subgroups: false },
  ];
  for (const shape of shapes) {
    for (const v of variants) {
      it(`${JSON.stringify(shape)} ${v.path}${v.subgroups ? ' subgroup lanes' : ' workgroup-memory lanes'}${v.quadRows ? `, ${v.quadRows}-row quads` : ''}`, async ({ skip }) => {
        if (v.subgroups && !ctx.features.subgroups) skip('this adapter has no subgroups: the workgroup-memory variants cover the path');
        const c = withDefaults(moeGroupedFfn, shape);
        const seed = freshSeed();
        const inputs = makeInputs(moeGroupedFfn, c, createRng(seed));
        const got = await runKernel(ctx, moeGroupedFfn, c, inputs, () => createGroupedFfn(ctx, c, v));
        for (const r of compareOutputs(moeGroupedFfn.outputs(c), got, moeGroupedFfn.reference(inputs, c))) expect(r.ok, `seed ${seed}: ${r.name} rel-L2 ${r.relL2} ${r.detail ?? ''}`).toBe(true);
      });
    }
  }
});

describe('moe.forward instance', () => {
  it('stages encoded one by one give the layer output; routing is exposed; buffers are freed', async () => {
    const c = withDefaults(moeForward, { N: 19, dim: 12, E: 8, topk: 2, n_groups: 4, topk_groups: 2, inter: 8, shared_inter: 4, capacity_factor: 0.75 });
    const inputs = makeInputs(moeForward, c, createRng(freshSeed()));
    const before = ctx.buffers.liveBytes;
    const inst = (await createInstance(ctx, moeForward, c)) as MoeForwardInstance;
    try {
      expect(inst.stages.map((s) => s.name)).toEqual(['router', 'dispatch', 'experts', 'combine']);
      uploadInputs(ctx, inst, moeForward.inputs(c), inputs);
      encodeOnce(ctx, inst);
      const whole = await readOutputs(ctx, inst, moeForward.outputs(c));
      ctx.device.queue.writeBuffer(inst.tensors.out!, 0, new Float32Array(c.N * c.dim).fill(NaN));
      for (const s of inst.stages) {
        const enc = ctx.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        s.encode(pass);
        pass.end();
        ctx.device.queue.submit([enc.finish()]);
      }
      const staged = await readOutputs(ctx, inst, moeForward.outputs(c));
      expect(Array.from(staged.out!.data)).toEqual(Array.from(whole.out!.data));
      const want = moeForward.reference(inputs, c).out!;
      let num = 0;
      let den = 0;
      for (let i = 0; i < want.data.length; i++) {
        num += (staged.out!.data[i]! - want.data[i]!) ** 2;
        den += want.data[i]! ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-4);
      const counts = decodeTensor(await ctx.buffers.read(inst.routing.counts, c.E * 4), [c.E], 'i32');
      const dropped = decodeTensor(await ctx.buffers.read(inst.routing.dropped, 4), [1], 'i32');
      const cap = expertCapacity(c.capacity_factor, c.N, c.topk, c.E);
      expect(Array.from(counts.data).reduce((s, v) => s + v, 0)).toBe(c.N * c.topk);
      expect(dropped.data[0]).toBe(Array.from(counts.data).reduce((s, v) => s + Math.max(0, v - cap), 0));
    } finally {
      inst.destroy();
    }
    expect(ctx.buffers.liveBytes).toBe(before);
  });
});

describe('load balance demo', () => {
  it('the bias update brings a skewed load towards balance, routing on the GPU each step', async () => {
    const series = await runBalanceDemo(ctx, { steps: 12, tokens: 256, E: 32, topk: 4, n_groups: 4, topk_groups: 2, dim: 16, hot: 4, skew: 2.5, gamma: 0.02, seed: freshSeed() });
    expect(series).toHaveLength(12);
    for (const s of series) expect(s.load.reduce((a, v) => a + v, 0)).toBe(256 * 4);
    const first = series[0]!.stats;
    const late = series.slice(-4).map((s) => s.stats.maxOverMean);
    expect(first.maxOverMean).toBeGreaterThan(1.8);
    expect(Math.max(...late)).toBeLessThan(0.8 * first.maxOverMean);
    expect(series.at(-1)!.stats.cv).toBeLessThan(first.cv);
    // the bias moved by gamma each step
    expect(Math.max(...series[1]!.bias.map(Math.abs))).toBeCloseTo(0.02, 6);
  });
});
