// <kl-technique-page> on a real GPU session (SwiftShader here): presets set what the model really runs
// (V3.2's DSA top-k and latent layout, the MHA-equivalent said aloud), the choice is dropped once a field
// departs from it, a real model's size is offered scaled down instead of refused, chart points outside a
// field's bounds are refused, and results always belong to the settings in the form: a link mid-run
// cancels the run, Back to earlier settings shows their results again, Cancel keeps the finished points.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuSession } from '../device/gpu-session.ts';
import { mount, q, qa, settle, text, type, unmountAll, until } from '../testing.ts';
import { findKernel } from '../../kernels/registry.ts';
import { TechniquePage } from './technique-page.ts';
import { FAMILY_PAGES, type FamilyPageId } from './family-pages.ts';
import { isCpuEmulation } from '../../gpu/context.ts';
import { fakeResult } from '../../bench/result-fixture.ts';

let session: GpuSession;
beforeAll(async () => {
  session = new GpuSession();
  await session.start();
  // A fixed roofline: these tests are about what the page shows, not about the probes.
  session.roofline = {
    value: { copyGBps: 1, fmaGflops: 1, copyBytes: 1, fmaFlops: 1, copyMedianMs: 1, fmaMedianMs: 1, method: 'gpu-timestamps' },
    measuredAt: new Date().toISOString(),
  };
});
afterAll(() => session.ctx?.destroy());
afterEach(unmountAll);

/** A page on these settings; every route-params event it sends is kept (what the URL would become). */
async function page(id: FamilyPageId, settings: string): Promise<{ p: TechniquePage; urls: URLSearchParams[] }> {
  const p = new TechniquePage();
  p.page = id;
  p.session = session;
  const urls: URLSearchParams[] = [];
  p.addEventListener('route-params', (e) => urls.push((e as CustomEvent<URLSearchParams>).detail));
  await mount(p);
  p.applyParams(new URLSearchParams(settings));
  await settle(p);
  return { p, urls };
}

const choosePreset = async (p: TechniquePage, id: string) => {
  type(q<HTMLSelectElement>(p, 'kl-preset-picker', 'select'), id);
  await settle(p);
};

const DENSE_SMALL = 'S=64&Hq=4&Hkv=2&D=32&repeats=3';

describe('<kl-technique-page> presets', () => {
  it('gives the sparse page V3.2\'s own DSA: top-k 2048 from index_topk, the MLA latent layout, absorbed MLA as the baseline', async () => {
    const { p, urls } = await page('sparse', 'kernel=sparse.dsa');
    await choosePreset(p, 'deepseek-v3.2');
    expect(p.config).toMatchObject({ topk: 2048, Hi: 64, Di: 128, Hq: 128, Hkv: 1, D: 576, Dr: 64, mode: 'mla' });
    expect(p.config.scale).toBeCloseTo(1 / Math.sqrt(192), 12);
    expect(urls.at(-1)!.get('preset')).toBe('deepseek-v3.2');
    const baselines = FAMILY_PAGES.sparse.baselines(p.def!, p.config, findKernel);
    expect(baselines.map((b) => b.def.id)).toEqual(['mla.decode_absorbed']);
    expect(baselines[0]!.config).toMatchObject({ H: 128, dc: 512, dr: 64, S: p.config.S, T: p.config.T });
  });

  it('says aloud when a preset loads an MLA model\'s MHA-equivalent (dense page, DeepSeek-V3)', async () => {
    const { p } = await page('dense', '');
    expect(qa(p, 'kl-preset-picker').length).toBe(1);
    expect(() => q(p, 'kl-preset-picker', '[data-preset-note]')).toThrow();
    await choosePreset(p, 'deepseek-v3');
    expect(p.config).toMatchObject({ Hq: 128, Hkv: 128, D: 128 });
    expect(text(q(p, 'kl-preset-picker', '[data-preset-note]'))).toContain('MHA-equivalent');
  });

  it('drops the preset (label and URL) as soon as a field departs from it', async () => {
    const { p, urls } = await page('dense', '');
    await choosePreset(p, 'qwen3-235b-a22b');
    expect(p.preset).toBe('qwen3-235b-a22b');
    type(q<HTMLInputElement>(p, 'kl-kernel-form', 'input[name="S"]'), '128');
    await settle(p);
    // S is not a preset field: the choice stays.
    expect(p.preset).toBe('qwen3-235b-a22b');
    type(q<HTMLInputElement>(p, 'kl-kernel-form', 'input[name="Hkv"]'), '2');
    await settle(p);
    expect(p.preset).toBe('');
    expect(q<HTMLSelectElement>(p, 'kl-preset-picker', 'select').value).toBe('');
    expect(urls.at(-1)!.has('preset')).toBe(false);
    // A link whose fields disagree with its preset= does not claim it either.
    p.applyParams(new URLSearchParams('preset=qwen3-235b-a22b&Hkv=2'));
    expect(p.preset).toBe('');
  });

  it('offers a real model too big for this device scaled down, with the factor, instead of a dead end', async () => {
    const { p } = await page('moe', 'kernel=moe.forward');
    await choosePreset(p, 'deepseek-v3');
    expect(p.issues.length).toBeGreaterThan(0);
    const offer = q(p, '[data-scale-offer]');
    const factor = p.scaleDown!.factor;
    expect(factor).toBeGreaterThan(1);
    expect(text(offer)).toContain(`Scaled down by ${factor}`);
    expect(text(offer)).toContain('dim 7168 →');
    q<HTMLButtonElement>(offer, 'button').click();
    await settle(p);
    expect(p.issues).toEqual([]);
    // The structure stays the model's: 256 experts, 8 per token, 8 groups keeping 4.
    expect(p.config).toMatchObject({ E: 256, topk: 8, n_groups: 8, topk_groups: 4, dim: 7168 / factor });
    expect(text(q(p, '[data-scaled]'))).toContain(`DeepSeek-V3's shape scaled down by ${factor}`);
    expect(q<HTMLButtonElement>(p, 'button[data-action="run"]').disabled).toBe(false);
  });
});

describe('<kl-technique-page> inputs', () => {
  it('refuses chart points above the sweep field\'s maximum, naming the field and the limit', async () => {
    const { p } = await page('dense', `${DENSE_SMALL}&sweep=64,99999999`);
    expect(text(q(p, '[data-blocked]'))).toBe('chart point 99999999 is above the maximum of S (4,194,304)');
    expect(q<HTMLButtonElement>(p, 'button[data-action="run"]').disabled).toBe(true);
    expect(q<HTMLInputElement>(p, '.run-settings input[type="text"]').getAttribute('aria-invalid')).toBe('true');
  });
});

describe('<kl-technique-page> lesson', () => {
  it('opens with the shape chosen for this device, and says on the chart what it is', async () => {
    const { p, urls } = await page('sparse', '');
    const o = FAMILY_PAGES.sparse.opening(isCpuEmulation(session.ctx!));
    expect(p.def!.id).toBe(o.kernel);
    expect(p.config).toMatchObject(o.config);
    expect(p.sweepText).toBe(o.sweep.join(','));
    expect(text(q(p, '[data-opening]'))).toBe(o.note);
    // The link says it too, so it reproduces the same chart.
    expect(urls.at(-1)!.get('topk')).toBe(String(o.config.topk));
    // A field changed: no longer the opening, no note.
    type(q<HTMLInputElement>(p, 'kl-kernel-form', 'input[name="Hq"]'), '8');
    await settle(p);
    expect(qa(p, '[data-opening]')).toHaveLength(0);
  });

  it('keeps a choice made before the device is known (the opening never overrides the user)', async () => {
    const p = new TechniquePage();
    p.page = 'dense';
    const later = new GpuSession();
    p.session = later;
    await mount(p);
    type(q<HTMLSelectElement>(p, 'kl-preset-picker', 'select'), 'qwen3-235b-a22b');
    await settle(p);
    await later.start();
    await settle(p);
    try {
      expect(p.preset).toBe('qwen3-235b-a22b');
      expect(p.config.Hkv).toBe(4);
    } finally {
      later.ctx?.destroy();
    }
  });

    it('draws the measured series, the baseline, the cost-model ideal and the crossover, and says it in a sentence', async () => {
    const { p } = await page('sparse', 'kernel=sparse.dsa&Hq=16&D=64&topk=256&Hi=2&Di=32&sweep=128,1024,4096');
    p.sweep = {
      field: 'S',
      xs: [128, 1024, 4096],
      series: [
        { label: 'sparse.dsa', kernel: 'sparse.dsa', points: [2, 1, 0.5].map((ms, i) => ({ x: [128, 1024, 4096][i]!, ms })) },
        { label: 'dense flash_decode', kernel: 'attention.flash_decode', points: [1, 1.5, 4].map((ms, i) => ({ x: [128, 1024, 4096][i]!, ms })) },
      ],
    };
    await settle(p);
    const chart = q(p, 'section[aria-label="time chart"] kl-line-chart') as unknown as { spec: { series: { label: string; values: (number | null)[] }[] } };
    const labels = chart.spec.series.map((x) => x.label);
    expect(labels).toEqual(['sparse.dsa', 'dense flash_decode', "sparse.dsa: cost-model ideal (at dense flash_decode's efficiency)", 'crossover vs dense flash_decode']);
    expect(chart.spec.series[3]!.values).toEqual([null, 1, null]);
    const lesson = text(q(p, '[data-lesson]'));
    expect(lesson).toContain('Crossover between S = 128 and 1K: from there sparse.dsa is faster than dense flash_decode (8.0x at S = 4K; the cost model\'s ideal there: ');
    expect(lesson).toContain('At S ≤ top-k = 256 the indexer selects every key');
  });

  it('draws the composite\'s stage bars from the same-run stage timings', async () => {
    const { p } = await page('sparse', 'kernel=sparse.dsa');
    p.result = fakeResult({
      kernel: 'sparse.dsa',
      family: 'sparse',
      stages: [
        { name: 'indexer', medianMs: 0.2, share: 0.2 },
        { name: 'top-k', medianMs: 0.1, share: 0.1 },
        { name: 'attention', medianMs: 0.7, share: 0.7 },
      ],
      stagesWholeMs: 1.05,
    });
    await settle(p);
    const bars = q(p, '[data-stages] kl-line-chart') as unknown as { spec: { xs: number[]; series: { values: number[] }[]; formatX: (x: number) => string; kind: string } };
    expect(bars.spec.kind).toBe('bars');
    expect(bars.spec.xs.map(bars.spec.formatX)).toEqual(['indexer', 'top-k', 'attention']);
    expect(bars.spec.series[0]!.values).toEqual([0.2, 0.1, 0.7]);
    expect(text(q(p, '[data-stage-summary]'))).toContain('attention takes the most');
  });
});

describe('<kl-technique-page> repeats', () => {
  it('refuses 0 timed repeats instead of silently keeping the old value (typed or from a link)', async () => {
    const { p, urls } = await page('dense', DENSE_SMALL);
    type(q<HTMLInputElement>(p, 'input[name="repeats"]'), '0');
    await settle(p);
    expect(text(q(p, '[data-blocked]'))).toBe('timed repeats must be an integer from 1 to 1000, got 0');
    expect(q<HTMLButtonElement>(p, 'button[data-action="run"]').disabled).toBe(true);
    expect(urls.at(-1)!.get('repeats')).toBe('0');
    p.applyParams(new URLSearchParams('repeats=0'));
    await settle(p);
    expect(q<HTMLInputElement>(p, 'input[name="repeats"]').getAttribute('aria-invalid')).toBe('true');
  });
});

// Real runs on a CPU-emulated device: room for a loaded machine (the checks are about results, not speed).
describe('<kl-technique-page> runs', { timeout: 300_000 }, () => {
  const running = (p: TechniquePage) => qa(p, 'kl-run-progress .bar').length > 0 || !!p.progress;

  it('keeps results with their settings: a link mid-run cancels it, Back shows the earlier results again', async () => {
    const { p } = await page('dense', `${DENSE_SMALL}&sweep=32,64`);
    q<HTMLButtonElement>(p, 'button[data-action="run"]').click();
    await until(() => !!p.progress, 'the run to start');
    await until(() => !p.progress, 'the run to finish', 120_000);
    expect(p.sweep?.xs).toEqual([32, 64]);
    const finished = p.result;
    expect(finished).toBeDefined();
    // Other settings (a link): nothing shown belongs to them yet.
    p.applyParams(new URLSearchParams(`${DENSE_SMALL}&sweep=16,32,48`));
    await settle(p);
    expect(p.result).toBeUndefined();
    expect(p.sweep).toBeUndefined();
    // A run there, and a link back while it runs: it is cancelled, and the earlier run's results come back.
    q<HTMLButtonElement>(p, 'button[data-action="run"]').click();
    await until(() => !!p.progress, 'the second run to start');
    p.applyParams(new URLSearchParams(`${DENSE_SMALL}&sweep=32,64`));
    await settle(p);
    expect(p.result).toBe(finished);
    expect(p.sweep?.xs).toEqual([32, 64]);
    await until(() => !running(p), 'the cancelled run to stop', 60_000);
    expect(p.result).toBe(finished);
    expect(p.sweep?.xs).toEqual([32, 64]);
    expect(text(p)).not.toContain('Cancelled');
  });

  it('says how long the run will take before its first point (cost model at the roofline), then from measured progress', async () => {
    const { p } = await page('mla', 'S=64&H=4&dn=32&dr=16&dc=64&dv=32&sweep=32,64,128&repeats=2');
    const labels: string[] = [];
    const watch = setInterval(() => p.progress && labels.at(-1) !== p.progress.label && labels.push(p.progress.label), 5);
    q<HTMLButtonElement>(p, 'button[data-action="run"]').click();
    try {
      await until(() => (p.sweep?.xs.length ?? 0) >= 1, 'the first chart point', 120_000);
      await until(() => labels.some((l) => /left \(measured so far\)$/.test(l)), 'a measured estimate', 60_000);
    } finally {
      clearInterval(watch);
      q<HTMLButtonElement>(p, 'kl-run-progress', 'button').click();
      await until(() => !p.progress, 'the run to stop', 60_000);
    }
    const verifying = labels.find((l) => l.startsWith('verifying'));
    expect(verifying).toMatch(/estimate: at least \d+ (s|min) \(cost model at this GPU's measured roofline\)$/);
    // The floor comes before any measured estimate.
    expect(labels.findIndex((l) => l.includes('estimate: at least'))).toBeLessThan(labels.findIndex((l) => l.includes('measured so far')));
  });

  it('keeps the finished chart points on Cancel and exports them', async () => {
    const { p } = await page('dense', `${DENSE_SMALL}&sweep=16,32,48,64`);
    q<HTMLButtonElement>(p, 'button[data-action="run"]').click();
    await until(() => (p.sweep?.xs.length ?? 0) >= 1, 'the first chart point', 120_000);
    q<HTMLButtonElement>(p, 'kl-run-progress', 'button').click();
    await until(() => !p.progress, 'the run to stop', 60_000);
    await settle(p);
    const kept = p.sweep!.xs.length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(4);
    expect(p.sweep!.series.every((s) => s.points.length === kept && s.points.every((pt) => pt.ms !== null && pt.ms > 0))).toBe(true);
    expect(text(q(p, '[data-run-error]'))).toContain('Cancelled');
    expect(qa(p, 'kl-line-chart').length).toBe(1);
    // The export is the same numbers as JSON.
    let saved: Blob | undefined;
    const create = URL.createObjectURL;
    URL.createObjectURL = (b: Blob) => ((saved = b), 'blob:test');
    try {
      q<HTMLButtonElement>(p, 'button[data-action="export-chart"]').click();
    } finally {
      URL.createObjectURL = create;
    }
    const file = JSON.parse(await saved!.text());
    expect(file.sweep.xs).toEqual(p.sweep!.xs);
    expect(file.result.kernel).toBe(p.def!.id);
  });
});
