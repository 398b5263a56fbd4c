// <kl-decoder-layer-page> on a real GPU session (SwiftShader here): the variants come from the kernel's schema,
// the settings round-trip through the URL, and one run times every variant with its stages: the stacked bars
// and the waterfall are the measured stage times, the memory table is src/memory's bytes (V3.2: 1,152 B bf16
// latent, 656 B FP8 record, 132 B indexer key), and an estimate is shown before the first point finishes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuSession } from '../device/gpu-session.ts';
import { mount, q, qa, settle, text, type, unmountAll, until } from '../testing.ts';
import { findKernel } from '../../kernels/registry.ts';
import { WATERFALL } from '../../bench/studies/layer.ts';
import { fmtMs, fmtNum } from '../run/display-number.ts';
import { fakeResult } from '../../bench/result-fixture.ts';
import { DecoderLayerPage } from './decoder-layer-page.ts';
import { LAYER_KERNEL, layerVariants, stageGroups, stepMs } from './layer-variants.ts';

let session: GpuSession;
beforeAll(async () => {
  session = new GpuSession();
  await session.start();
  session.roofline = {
    value: { copyGBps: 1, fmaGflops: 1, copyBytes: 1, fmaFlops: 1, copyMedianMs: 1, fmaMedianMs: 1, method: 'gpu-timestamps' },
    measuredAt: new Date().toISOString(),
  };
});
afterAll(() => session.ctx?.destroy());
afterEach(unmountAll);

async function page(settings: string): Promise<{ p: DecoderLayerPage; urls: URLSearchParams[] }> {
  const p = new DecoderLayerPage();
  p.session = session;
  const urls: URLSearchParams[] = [];
  p.addEventListener('route-params', (e) => urls.push((e as CustomEvent<URLSearchParams>).detail));
  await mount(p);
  p.applyParams(new URLSearchParams(settings));
  await settle(p);
  return { p, urls };
}

describe('<kl-decoder-layer-page>', () => {
  it('takes its variants from the kernel schema and keeps its settings in the URL', async () => {
    const def = findKernel(LAYER_KERNEL)!;
    const { p, urls } = await page('S=48&ffn=dense&sweep=16,48&repeats=2');
    const attention = (def.schema.attention as { values: readonly string[] }).values;
    const vs = layerVariants(def, p.config);
    // Every attention value with the form's FFN, and every waterfall step.
    for (const a of attention) expect(vs.some((v) => v.attention === a && v.ffn === 'dense')).toBe(true);
    for (const w of WATERFALL) expect(vs.some((v) => v.attention === w.attention && v.ffn === w.ffn)).toBe(true);
    expect(new Set(vs.map((v) => v.label)).size).toBe(vs.length);
    expect(text(q(p, 'details.run-settings'))).toContain(vs[0]!.label);
    type(q<HTMLInputElement>(p, 'kl-kernel-form', 'input[name="S"]'), '40');
    await settle(p);
    const url = urls.at(-1)!;
    expect(url.get('S')).toBe('40');
    expect(url.get('ffn')).toBe('dense');
    expect(url.get('sweep')).toBe('16,48');
    expect(url.get('repeats')).toBe('2');
    // A bad S point is refused before anything runs.
    type(q<HTMLInputElement>(p, 'input[name="sweep"]'), '16,zero');
    await settle(p);
    expect(q<HTMLButtonElement>(p, 'button[data-action="run"]').disabled).toBe(true);
    expect(text(q(p, '[data-blocked]'))).toMatch(/comma-separated list of positive integers/);
  });

  it('memory per token: src/memory\'s bytes for V3.2 (1,152 B latent, 656 B FP8 record, 132 B indexer key) beside this shape\'s', async () => {
    const { p } = await page('S=32');
    const real = (name: string) => text(q(p, `tr[data-kv="${name}"] [data-real]`));
    expect(real('MLA latent + RoPE key, bf16')).toBe('1,152 B');
    expect(real("MLA as FlashMLA's FP8 record")).toBe('656 B');
    expect(real('DSA indexer key (FP8 + scale)')).toBe('132 B');
    expect(real('V3.2 as deployed: FP8 record + indexer key')).toBe('788 B');
    expect(real('MHA-equivalent, bf16')).toBe('65,536 B');
    if ((findKernel(LAYER_KERNEL)!.schema.attention as { values: readonly string[] }).values.includes('gqa')) {
      // This shape's 2 heads cap the GQA row at 2 KV heads; V3.2's column keeps gqa_kv_heads = 8 of its 128.
      expect(qa(p, 'tr[data-kv^="GQA"]').length).toBe(1);
      expect(text(q(p, 'tr[data-kv^="GQA"] [data-real]'))).toBe('4,096 B');
    }
    expect(text(q(p, 'tr[data-kv="MLA latent + RoPE key, bf16"]'))).toContain('(d_c + d_rope)·b = (512 + 64)·2');
  });

  it('each variant\'s stage sum is checked against the whole of the same runs and the kernel timed alone; a disagreement past 10% is flagged', async () => {
    const { p } = await page('S=32');
    const [v32, v3] = [layerVariants(findKernel(LAYER_KERNEL)!, p.config).find((v) => v.attention === 'mla_dsa')!, layerVariants(findKernel(LAYER_KERNEL)!, p.config).find((v) => v.attention === 'mla_dense')!];
    const stages = (ms: number[]) => ['q projection', 'attention', 'dense ffn'].map((name, i) => ({ name, medianMs: ms[i]!, share: ms[i]! / ms.reduce((a, b) => a + b, 0) }));
    // V3.2 as reported: bars summing to 166 ms, the same runs' whole 160 ms, the kernel timed alone 51 ms. V3 agrees.
    p.results = [
      { variant: v32, result: fakeResult({ kernel: LAYER_KERNEL, config: p.config, medianMs: 51, stages: stages([40, 100, 26]), stagesWholeMs: 160 }) },
      { variant: v3, result: fakeResult({ kernel: LAYER_KERNEL, config: p.config, medianMs: 20.4, stages: stages([5, 10, 5]), stagesWholeMs: 19.8 }) },
    ];
    await settle(p);
    const check = (label: string) => text(q(p, `[data-stage-check-of="${label}"]`)).replace(/\s+/g, ' ');
    expect(check(v32.label)).toContain(`stage sum ${fmtNum(166)} ms vs whole ${fmtNum(160)} ms in the same runs`);
    expect(check(v32.label)).toContain(`timed whole (with flush) ${fmtNum(51)} ms`);
    expect(qa(p, `[data-stage-check-of="${v32.label}"] [data-stage-warning]`).map((e) => e.dataset.stageWarning)).toEqual(['timed']);
    expect(qa(p, `[data-stage-check-of="${v3.label}"] [data-stage-warning]`).length).toBe(0);
    const alert = text(q(p, '[data-stage-disagree]'));
    expect(alert).toContain(v32.label);
    expect(alert).not.toContain(v3.label);
    // Once every variant agrees, no alert.
    p.results = [p.results[1]!];
    await settle(p);
    expect(qa(p, '[data-stage-disagree]').length).toBe(0);
  });

  it('one run times every variant with its stages: the bars and the waterfall are the measured stage times; an estimate comes first', { timeout: 900_000 }, async () => {
    const { p } = await page('S=32&sweep=16,32&repeats=2');
    const labels: string[] = [];
    const watch = setInterval(() => p.progress && labels.at(-1) !== p.progress.label && labels.push(p.progress.label), 5);
    const before = session.ctx!.buffers.liveBytes;
    q<HTMLButtonElement>(p, 'button[data-action="run"]').click();
    await until(() => !!p.progress, 'the run to start');
    await until(() => !p.progress, 'the run to finish', 880_000);
    clearInterval(watch);
    await settle(p);
    expect(p.error).toBe('');
    expect(session.ctx!.buffers.liveBytes).toBe(before);
    // Before the first variant finished: the cost model's floor at the roofline; later: measured progress.
    const first = labels.findIndex((l) => l.startsWith('verifying and timing'));
    expect(labels[first]).toMatch(/estimate: at least \d+ (s|min) \(cost model at this GPU's measured roofline\)/);
    expect(labels.some((l) => /about \d+ (s|min) left \(measured so far\)/.test(l))).toBe(true);

    const variants = layerVariants(findKernel(LAYER_KERNEL)!, p.config);
    expect(p.results.map((r) => r.variant.label)).toEqual(variants.map((v) => v.label));
    for (const { result } of p.results) {
      expect(result.verification.ok).toBe(true);
      expect(result.stages!.length).toBeGreaterThan(5);
    }
    // The stacked bars' table: each variant's column is its own stage groups, measured.
    const bars = q(p, '[data-stages] kl-stacked-bars');
    const attentionRow = qa(bars, 'tr[data-segment="attention"] td.num').map((td) => td.textContent);
    expect(attentionRow).toEqual(p.results.map((r) => fmtMs(stageGroups(r.result).find((g) => g.name === 'attention')!.ms)));
    expect(qa(bars, 'rect[data-seg]').length).toBeGreaterThan(p.results.length * 5);
    // Hover names the segment and its value.
    const rect = qa(bars, 'rect[data-seg]')[0]!;
    rect.dispatchEvent(new MouseEvent('mouseenter'));
    await settle(p);
    expect(text(q(bars, '[data-hover]'))).toMatch(/ · .*: .* ms$/);

    // The waterfall: one row per step, its ms the measured stage sums, the savings their differences.
    const steps = p.waterfall();
    expect(steps.map((s) => s.label)).toEqual(WATERFALL.map((w) => w.label));
    for (const [i, s] of steps.entries()) {
      const w = WATERFALL[i]!;
      const r = p.results.find((x) => x.variant.attention === w.attention && x.variant.ffn === w.ffn)!;
      expect(s.ms).toBe(stepMs(r.result));
    }
    const rows = qa(p, 'table[data-waterfall-table] tbody tr');
    expect(rows.length).toBe(WATERFALL.length);
    expect(text(rows[1]!)).toContain(fmtMs(steps[0]!.ms - steps[1]!.ms));
    // MLA's step saves KV bytes against MHA; DSA adds its indexer key to V3's latent.
    const kvOf = (attention: string, ffn: string) => steps[WATERFALL.findIndex((w) => w.attention === attention && w.ffn === ffn)]!.kv;
    expect(kvOf('mla_dense', 'dense')).toBeLessThan(kvOf('mha', 'dense'));
    expect(kvOf('mla_dsa', 'moe')).toBeGreaterThan(kvOf('mla_dense', 'moe'));

    // The S sweep: every variant at every point.
    expect(p.sweep!.xs).toEqual([16, 32]);
    expect(p.sweep!.series.length).toBe(variants.length);
    for (const s of p.sweep!.series) for (const pt of s.points) expect(pt.ms, `${s.label} at S=${pt.x}`).toBeGreaterThan(0);
    expect(text(q(p, '[data-lesson]'))).toMatch(/MLA \+ DSA \(V3\.2\)/);
  });
});
