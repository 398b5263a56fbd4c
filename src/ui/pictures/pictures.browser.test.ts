// The technique pages' pictures on this browser's GPU: <kl-attention-picture> draws a kernel's own outputs
// only after they match the float64 reference, <kl-routing-picture> draws the router's choices and a load
// histogram that adds up to N x top-k, and <kl-balance-demo> validates its knobs before it runs.
import type { ChartSpec } from '../charts/line-chart.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaults } from '../../kernels/contract.ts';
import { findKernel } from '../../kernels/registry.ts';
import { GpuSession } from '../device/gpu-session.ts';
import { mount, q, qa, settle, text, type, unmountAll } from '../testing.ts';
import { AttentionPicture } from './attention-picture.ts';
import { BalanceDemo } from './balance-demo.ts';
import { RoutingPicture } from './routing-picture.ts';
import { DsaSteps } from './dsa-steps.ts';
import { SINKS, needles } from './structured-inputs.ts';
import { causalRowLength, indexerReference, topkReference } from '../../reference/sparse.ts';

let session: GpuSession;
beforeAll(async () => {
  session = new GpuSession();
  await session.start();
});
afterAll(() => session.ctx?.destroy());
afterEach(unmountAll);

describe('<kl-attention-picture>', () => {
  it('draws the attention probabilities of a causal decode, checked against float64', async () => {
    const def = findKernel('attention.flash_decode')!;
    const pic = await mount(new AttentionPicture());
    expect(text(pic)).toBe('Run to draw which keys each query attends to.');
    const before = session.ctx!.buffers.liveBytes;
    await pic.run(session.ctx!, def, { ...defaults(def.schema), S: 40, Hq: 2, Hkv: 1, D: 16 });
    await settle(pic);
    expect(session.ctx!.buffers.liveBytes).toBe(before);
    const heat = q(pic, 'kl-heatmap') as HTMLElement & { matrix: { rows: number; cols: number; values: ArrayLike<number> } };
    expect(heat.matrix.cols).toBe(40);
    // Each visible row is a probability distribution; keys after the query's position are not visible.
    const { rows, cols, values } = heat.matrix;
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) if (Number.isFinite(values[r * cols + c]!)) sum += values[r * cols + c]!;
      expect(sum).toBeCloseTo(1, 4);
    }
    expect(text(pic)).toMatch(/float64 reference: .*ok/);
    expect(text(pic)).not.toMatch(/FAILS/);
  });
});

describe('structured inputs and the DSA step-through', () => {
  const dsa = findKernel('sparse.dsa')!;
  const config = { ...defaults(dsa.schema), S: 96, T: 8, Hq: 4, Hkv: 1, D: 32, topk: 12, Hi: 4, Di: 16 };

  it('dense attention on structured inputs attends to the sinks, its own neighbourhood and the needles', async () => {
    const def = findKernel('attention.flash_decode')!;
    const pic = await mount(new AttentionPicture());
    await pic.run(session.ctx!, def, { ...defaults(def.schema), S: 96, Hq: 2, Hkv: 1, D: 32 });
    await settle(pic);
    expect(text(pic)).not.toMatch(/FAILS/);
    expect(text(q(pic, '[data-inputs]'))).toContain(`needle keys at ${needles(96).join(', ')}`);
    const { cols, values } = (q(pic, 'kl-heatmap') as HTMLElement & { matrix: { cols: number; values: ArrayLike<number> } }).matrix;
    // The last query (position 95): the keys it weighs most are the sinks, the needles and keys next to it.
    const last = Array.from({ length: cols }, (_, s) => values[values.length - cols + s]!);
    const top = last.map((v, s) => [v, s] as const).sort((a, b) => b[0] - a[0]).slice(0, 8).map(([, s]) => s);
    for (const s of [...Array(SINKS).keys(), ...needles(96)]) expect(top).toContain(s);
    expect(top.some((s) => s >= 90)).toBe(true);
  });

  it('DSA on structured inputs selects the sinks, the needles and the local band; each step-through frame equals the float64 stage', async () => {
    const pic = await mount(new AttentionPicture());
    await pic.run(session.ctx!, dsa, config);
    await settle(pic);
    expect(text(pic)).not.toMatch(/FAILS/);
    const steps = q(pic, 'kl-dsa-steps') as DsaSteps;
    const inputs = pic.inputs!;
    const c = pic.plan!.config as typeof config;
    const scores = indexerReference(inputs.q_index!, inputs.k_index!, inputs.w_index!, { T: c.T, S: c.S, Hi: c.Hi, Di: c.Di, causal: c.causal });
    const sets = topkReference(scores, c.T, c.S, c.topk, 'index', causalRowLength(c.T, c.S)).indices;
    for (let t = 0; t < c.T; t += 5) {
      steps.t = t;
      await settle(steps);
      const f = steps.frame;
      // Stage 1: the GPU's index scores are the float64 indexer's, exactly (inputs on a 1/8 grid).
      expect(f.scores).toEqual(Array.from(scores.data.subarray(t * c.S, (t + 1) * c.S), Number));
      // Stage 2: the kept keys are the reference's set, every one at or above the threshold.
      const want = Array.from(sets.data.subarray(t * c.topk, (t + 1) * c.topk), Number).filter((x) => x >= 0).sort((a, b) => a - b);
      expect(f.selected).toEqual(want);
      expect(f.selected.every((s) => f.scores[s]! >= f.threshold)).toBe(true);
      for (const s of [...Array(SINKS).keys(), ...needles(c.S)].filter((s) => s <= f.position)) expect(f.selected).toContain(s);
      expect(f.selected).toContain(f.position);
      // Stage 3: attention over the gathered keys.
      expect(f.outRelL2).toBeLessThan(1e-4);
    }
    // Stepping: the chart gains the threshold and the selected keys at stage 2.
    const chart = () => (q(steps, 'kl-line-chart') as HTMLElement & { spec: ChartSpec }).spec.series.map((x) => x.label);
    expect(chart()).toEqual(['index score (GPU)']);
    q<HTMLButtonElement>(steps, 'button[data-action="step-next"]').click();
    await settle(steps);
    expect(chart()).toEqual(['index score (GPU)', 'threshold: the 12th best score', 'selected keys']);
    expect(text(q(steps, '[data-check="selection"]'))).toBe('the same set as the reference');
    type(q<HTMLInputElement>(steps, 'input[data-action="scrub-stage"]'), '2');
    await settle(steps);
    expect(steps.step).toBe(2);
  });
});

describe('<kl-routing-picture>', () => {
  it("draws the router's token x expert weights and a load histogram of N x top-k copies", async () => {
    const router = findKernel('moe.router')!;
    const pic = await mount(new RoutingPicture());
    const config = { ...defaults(router.schema), N: 12, E: 16, topk: 4, n_groups: 4, topk_groups: 2 };
    await pic.run(session.ctx!, router, config);
    await settle(pic);
    const heat = q(pic, 'kl-heatmap') as HTMLElement & { matrix: { rows: number; cols: number; values: ArrayLike<number> } };
    expect([heat.matrix.rows, heat.matrix.cols]).toEqual([12, 16]);
    const chosen = [...Array.from(heat.matrix.values)].filter((v) => v > 0).length;
    expect(chosen).toBe(12 * 4);
    expect(pic.load!.reduce((a, b) => a + b, 0)).toBe(12 * 4);
    expect(text(pic)).toMatch(/Checked against the float64 gate: .*ok/);
    const chart = q(pic, 'kl-line-chart') as HTMLElement & { spec: ChartSpec };
    expect(chart.spec.xs).toHaveLength(16); // one bar per expert
    expect(chart.spec.series[0]!.values.reduce<number>((a, v) => a + (v ?? 0), 0)).toBe(12 * 4);
  });

  it('clustered tokens (the default) route in blocks to their cluster\'s group; random tokens when chosen', async () => {
    const router = findKernel('moe.router')!;
    const pic = await mount(new RoutingPicture());
    const config = { ...defaults(router.schema), N: 16, E: 16, topk: 4, n_groups: 4, topk_groups: 1 };
    await pic.run(session.ctx!, router, config);
    await settle(pic);
    expect(text(pic)).toMatch(/16 tokens in 4 clusters/);
    expect(text(pic)).toMatch(/Checked against the float64 gate: .*ok/);
    // One group kept per token: token t's weights all sit in its cluster's group (experts 4c .. 4c+3).
    const m = (q(pic, 'kl-heatmap') as HTMLElement & { matrix: { values: ArrayLike<number> } }).matrix.values;
    for (let t = 0; t < 16; t++) for (let e = 0; e < 16; e++) if (m[t * 16 + e]! > 0) expect(Math.floor(e / 4)).toBe(Math.floor(t / 4));
    const select = q(pic, 'select[data-action="routing-inputs"]') as HTMLSelectElement;
    select.value = 'random';
    select.dispatchEvent(new Event('change'));
    await pic.run(session.ctx!, router, config);
    await settle(pic);
    expect(text(pic)).toMatch(/16 random tokens/);
  });

  it('says why when the small case is refused', async () => {
    const router = findKernel('moe.router')!;
    const pic = await mount(new RoutingPicture());
    await pic.run(session.ctx!, router, { ...defaults(router.schema), E: 16, n_groups: 5 });
    await settle(pic);
    expect(text(q(pic, '.error'))).toMatch(/^The routing picture's small case is refused: /);
  });
});

describe('<kl-balance-demo>', () => {
  it('refuses a knob out of bounds inline, keeps it in the URL, and will not run', async () => {
    const demo = new BalanceDemo();
    demo.session = session;
    await mount(demo);
    const run = qa<HTMLButtonElement>(demo, 'button').find((b) => b.textContent === 'Run the balancing demo')!;
    expect(run.disabled).toBe(false);
    const gamma = qa<HTMLInputElement>(demo, 'input[type="number"]')[1]!;
    type(gamma, '2');
    await settle(demo);
    expect(text(q(demo, '.error'))).toBe('2 is above the maximum 1');
    expect(gamma.getAttribute('aria-invalid')).toBe('true');
    expect(run.disabled).toBe(true);
    const p = new URLSearchParams();
    demo.writeParams(p);
    expect(p.get('bgamma')).toBe('2');
    demo.applyParams(new URLSearchParams('bgamma=0.05&bsteps=abc'));
    await settle(demo);
    expect(text(q(demo, '.error'))).toBe('"abc" is not an integer (digits only, e.g. 8)');
  });
});
