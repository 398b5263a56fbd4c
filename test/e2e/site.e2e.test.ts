// End-to-end: the BUILT site (vite build, then Vite's preview() on 127.0.0.1) in headless Chromium with
// WebGPU (SwiftShader where there is no GPU). Every page loads with no console error, page error or CSP
// violation; a small run on each technique page shows verified, finite, positive numbers, a drawn chart and
// a drawn picture; a bad value is refused inline with the CLI's message; the benchmark suite runs, cancels,
// exports and re-imports; device loss is reported and re-initialising works; no WebGPU gets its own page.
// Sizes are tiny (SwiftShader on two cores) and no assertion is about speed. Screenshots: ./screenshots.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright';
import { buildAndServe, ROOT, type BuiltSite } from './built-site.ts';
import { canvasInk, existsDeep, focused, hex, launchChromium, leadingNumber, newContext, openPage, shownNumber, unlabelledControls, type SitePage } from './browser-page.ts';
import { screenshot, screenshotOf } from './screenshots.ts';
import { PAGES } from '../../src/ui/shell/routes.ts';
import { SERIES_COLORS } from '../../src/ui/charts/chart-colors.ts';
import { LOST_DURING_RUN } from '../../src/ui/run/run-error.ts';
import { CSV_COLUMNS } from '../../src/ui/bench/result-export.ts';
import { WEBGPU_DEFAULT_CAPS } from '../../src/ui/device/default-caps.ts';
import { parseResultFile } from '../../src/bench/result-schema.ts';
import { findKernel } from '../../src/kernels/registry.ts';
import { defaults } from '../../src/kernels/contract.ts';
import { validateConfig } from '../../src/kernels/common/validate.ts';
import { MODEL_PRESETS } from '../../src/models/presets.ts';
import { checkFlashTrace, flashFrames, type FlashTrace } from '../../src/ui/steps/flash-trace.ts';
import { moeFrames, type MoeTrace } from '../../src/ui/steps/moe-trace.ts';
import { checkMlaTrace, type MlaTrace } from '../../src/ui/steps/mla-trace.ts';
import { stageGroups, stepMs } from '../../src/ui/pages/layer-variants.ts';
import { WATERFALL } from '../../src/bench/studies/layer.ts';
import { FAMILY_PAGES, type FamilyPageId } from '../../src/ui/pages/family-pages.ts';
import { fmtMs } from '../../src/ui/run/display-number.ts';
import type { KernelResult } from '../../src/bench/result-schema.ts';

// Small runs: a couple of sweep points, a few repeats (the URL holds every setting, so a link sets them up).
const RUNS = {
  dense: '#/dense?S=64&Hq=4&Hkv=2&D=32&sweep=32,64&repeats=3',
  mla: '#/mla?S=64&H=4&dn=32&dr=16&dc=64&dv=32&sweep=32,64&repeats=3',
  sparse: '#/sparse?S=64&Hq=4&D=32&topk=16&Hi=4&Di=16&sweep=32,64&repeats=3',
  moe: '#/moe?N=16&sweep=4,16&repeats=3&bsteps=8&btokens=256&bgamma=0.05',
};
const SUITE = '#/benchmarks?kernels=attention.flash_decode&set=S=64&repeats=2&warmup=1';
const LIGHT = { accent: '#1f5fbf', surface: '#ffffff', surface2: '#eef1f5' };
const DARK = { surface: '#171e26' };

let site: BuiltSite;
let browser: Browser;
let context: BrowserContext;
const open: SitePage[] = [];

beforeAll(async () => {
  site = await buildAndServe();
  browser = await launchChromium();
  // One context for the suite: the roofline is measured on the first run and reused (localStorage).
  context = await newContext(browser);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

// Every test fails on a console error, page error or CSP violation in any tab it opened.
afterEach(async () => {
  const problems = (await Promise.all(open.map((p) => p.problems()))).flat();
  await Promise.all(open.splice(0).map((p) => p.page.close()));
  expect(problems).toEqual([]);
});

async function visit(hash: string, ctx = context): Promise<Page> {
  const p = await openPage(ctx, site.url + hash);
  open.push(p);
  return p.page;
}

const technique = (page: Page, id: string) => page.locator(`kl-technique-page[data-page="${id}"]`);

/** Press Run and wait until the run has finished (its progress bar gone); fails on a run error. */
async function runAndWait(tp: Locator, button = 'button[data-action="run"]', progress = 'kl-run-progress .bar', timeout = 120_000) {
  const run = tp.locator(button).first();
  expect(await run.isEnabled()).toBe(true);
  await run.click();
  await tp.locator(progress).first().waitFor({ state: 'visible' });
  await tp.locator(progress).first().waitFor({ state: 'detached', timeout });
}

/** Screenshots of the technique pages come from their default runs (see the last describe), not these small ones. */
const DEFAULT_RUN_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

/** The result card: verified badge, finite positive time, GB/s, GFLOP/s and roofline fractions. */
async function expectVerifiedResult(tp: Locator) {
  expect(await tp.locator('[data-run-error]').count()).toBe(0);
  const card = tp.locator('kl-result-card');
  expect(await card.locator('[data-verified]').getAttribute('data-verified')).toBe('ok');
  expect(await card.locator('[data-verified]').innerText()).toMatch(/verified · rel-L2 \d/);
  const median = card.locator('[data-stat="median time"]');
  expect(await median.innerText()).toMatch(/ ms$/);
  for (const l of [median, card.locator('[data-stat="GB/s"]'), card.locator('[data-stat="GFLOP/s"]'), card.locator('[data-roofline="copy"]'), card.locator('[data-roofline="fma"]')]) {
    const x = await shownNumber(l);
    expect(Number.isFinite(x) && x > 0, `${await l.innerText()} is a positive number`).toBe(true);
  }
}

interface ChartCheck {
  /** Data-table rows expected. */
  rows?: number;
  /** Values may be 0 (counts), not only positive (times). */
  zeroOk?: boolean;
}

/** A uPlot chart whose canvas holds each series' colour, and whose data table has only finite values (> 0 unless zeroOk). */
async function expectChart(chart: Locator, series: number, o: ChartCheck = {}) {
  const ink = await canvasInk(chart.locator('canvas').first(), SERIES_COLORS.slice(0, series).map(hex));
  expect(ink.width).toBeGreaterThan(100);
  ink.matches.forEach((m, i) => expect(m, `series ${i} is drawn`).toBeGreaterThan(20));
  const body = chart.locator('details.data tbody tr');
  if (o.rows !== undefined) expect(await body.count()).toBe(o.rows);
  // The measured series' columns (reference lines such as a crossover marker are gaps by design).
  const cells = (await chart.locator('details.data tbody tr').evaluateAll((trs, n) => trs.flatMap((tr) => [...tr.querySelectorAll('td.num')].slice(0, n).map((td) => td.textContent!)), series));
  expect(cells.length).toBeGreaterThan(0);
  for (const c of cells) {
    expect(Number.isFinite(leadingNumber(c)), c).toBe(true);
    expect(leadingNumber(c), c).toBeGreaterThanOrEqual(o.zeroOk ? 0 : Number.MIN_VALUE);
  }
}

async function expectSweepChart(tp: Locator, points: number, series = 2) {
  await expectChart(tp.locator('section[aria-label="time chart"] kl-line-chart'), series, { rows: points });
  expect(await tp.locator('section[aria-label="time chart"] .notes').count()).toBe(0);
  // The lesson: where the kernel overtakes its baseline, or why not in this range.
  expect(await tp.locator('section[aria-label="time chart"] [data-lesson]').innerText()).toMatch(/Crossover between|faster than .* at every point|stays slower than/);
}

/** A composite's stage bars, from the stage timings of the same run. */
async function expectStageBars(tp: Locator, stages: string[]) {
  const bars = tp.locator('[data-stages]');
  await expectChart(bars.locator('kl-line-chart'), 1, { rows: stages.length });
  const summary = await bars.locator('[data-stage-summary]').innerText();
  for (const s of stages) expect(summary).toContain(`${s} `);
}

/**
 * Walk a step-through frame by frame with its forward button: each frame is shown and says it matches the
 * float64 reference. Returns the trace it drew (the GPU's intermediates, as plain arrays) for the test to
 * check again here, in Node, against the float64 references.
 */
async function walkSteps(tp: Locator, tag: string, frames: number): Promise<unknown> {
  const steps = tp.locator(tag);
  for (let i = 0; i < frames; i++) {
    expect(await steps.locator('[data-frame]').getAttribute('data-frame')).toBe(String(i));
    expect(await steps.locator('[data-frame-ok]').getAttribute('data-frame-ok'), `frame ${i}`).toBe('true');
    if (i < frames - 1) await steps.locator('button[data-step="forward"]').click();
  }
  return steps.evaluate((el) => (el as unknown as { trace: unknown }).trace);
}

describe('the built site', () => {
  it('ships a CSP without unsafe-eval or inline script, and the UI never writes HTML strings', () => {
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(site.indexHtml)?.[1];
    expect(csp).toBeDefined();
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline|wasm-unsafe-eval/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(site.indexHtml).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // What ships is the production build, and typegpu's eval probe is settled at build time (vite.config.ts).
    expect(site.scripts.length).toBeGreaterThan(0);
    for (const js of site.scripts) {
      expect(js).not.toContain('Lit is in dev mode');
      expect(js).not.toMatch(/Function\(\s*[`'"]return true[`'"]\s*\)/);
    }
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
    const writers = files(join(ROOT, 'src/ui'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => /\.innerHTML\b|\.outerHTML\s*=|insertAdjacentHTML|unsafeHTML|document\.write\(/.test(readFileSync(f, 'utf8')));
    expect(writers).toEqual([]);
  });

  it('loads every page with its heading, navigation state, title and labelled controls', async () => {
    for (const p of PAGES) {
      const page = await visit(`#/${p.id}`);
      expect(await page.evaluate(() => window.__kernelLab!.state())).toBe('ready');
      expect(await page.locator('nav[aria-label="pages"] a[aria-current="page"]').innerText()).toBe(p.label);
      expect(await page.title()).toBe(`${p.label} · LLM Kernel Lab`);
      expect(await page.locator(`main [data-page="${p.id}"] h2`).first().isVisible()).toBe(true);
      expect(await unlabelledControls(page)).toEqual([]);
      // The URL holds the page and its settings: a bare link is filled in with the page's defaults.
      expect(page.url()).toContain(`#/${p.id}`);
      if (p.id === 'overview' || p.id === 'sources') await screenshot(page, p.id);
    }
    const overview = await visit('#/overview');
    expect(await overview.locator('table[data-overview="kernels"] tbody tr').count()).toBeGreaterThan(10);
  });

  it('is keyboard-usable: skip link first, then the navigation', async () => {
    const page = await visit('#/overview');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('a: Skip to content');
    let hops = 0;
    while ((await focused(page)) !== 'a: Dense attention' && hops++ < 12) await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('a: Dense attention');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/dense'));
    expect(await page.locator('nav a[aria-current="page"]').innerText()).toBe('Dense attention');
    // Focus moves to the page content, so the next Tab starts there.
    expect(await focused(page)).toMatch(/^main:/);
  });
});

describe('technique pages', () => {
  it('dense attention: device panel, a verified run, the time chart, the attention heatmap, live GPU bytes, light and dark', async () => {
    const page = await visit(RUNS.dense);
    const panel = page.locator('kl-device-panel');
    const adapter = await panel.locator('[data-device="adapter"]').innerText();
    expect(adapter.trim().length).toBeGreaterThan(0);
    expect(adapter).not.toBe('unknown adapter');
    expect(await panel.locator('[data-feature]').count()).toBe(3);
    await panel.locator('summary', { hasText: 'limits' }).click();
    const limits = await panel.locator('table tbody tr').allInnerTexts();
    expect(limits.some((r) => r.startsWith('maxStorageBufferBindingSize'))).toBe(true);
    // Watch the panel's live-bytes readout for the whole run (it polls the buffer tracker).
    await page.evaluate(() => {
      const w = window as unknown as { __liveSeen: string[] };
      w.__liveSeen = [];
      const el = () => document.querySelector('kl-app')?.shadowRoot?.querySelector('kl-device-panel')?.shadowRoot?.querySelector('[data-device="live-bytes"]');
      setInterval(() => {
        const t = el()?.textContent ?? '';
        if (!w.__liveSeen.includes(t)) w.__liveSeen.push(t);
      }, 50);
    });

    const tp = technique(page, 'dense');
    await runAndWait(tp);
    await expectVerifiedResult(tp);
    await expectSweepChart(tp, 2);
    const heat = tp.locator('kl-attention-picture kl-heatmap canvas');
    const ink = await canvasInk(heat, [hex(LIGHT.surface)]);
    expect(ink.colours, 'viridis shades of attention weights').toBeGreaterThan(20);
    expect(ink.matches[0], 'causal mask: positions after each query are not visible').toBeGreaterThan(0);
    expect((await tp.locator('kl-attention-picture p').allInnerTexts()).join(' ')).toMatch(/float64 reference: out ok .*probs ok/);
    // Flash decoding split by split: the page's frames are flash_decode's partials read back; each is
    // checked here against the float64 split softmax and the attention over the keys so far.
    const flash = (await walkSteps(tp, 'kl-flash-steps', 8)) as FlashTrace;
    for (const f of checkFlashTrace(flash)) expect(f.ok, JSON.stringify(f.checks)).toBe(true);
    expect(await tp.locator('kl-flash-steps [data-frame]').innerText()).toContain(`running sum L = ${flashFrames(flash).at(-1)!.L[0]!.toFixed(4)}`);

    const roofline = await panel.locator('[data-device="roofline"]').innerText();
    const [copy, fma] = [...roofline.matchAll(/(\d[\d.e+-]*) (?:GB|GFLOP)\/s/g)].map((m) => Number(m[1]));
    expect(copy).toBeGreaterThan(0);
    expect(fma).toBeGreaterThan(0);
    const seen = await page.evaluate(() => (window as unknown as { __liveSeen: string[] }).__liveSeen);
    expect(seen.some((t) => /^(\d+(\.\d+)? (KiB|MiB|GiB)|[1-9]\d* B)$/.test(t)), `live bytes seen during the run: ${seen.join(', ')}`).toBe(true);
    // Everything the run allocated is freed again.
    await page.waitForFunction(() => window.__kernelLab!.liveBytes() === 0);
    await page.waitForFunction(() => document.querySelector('kl-app')!.shadowRoot!.querySelector('kl-device-panel')!.shadowRoot!.querySelector('[data-device="live-bytes"]')!.textContent === '0 B');

    // Dark theme: the toggle switches every component, the heatmap repaints with the dark surface colour.
    const toggle = page.locator('kl-theme-toggle button');
    await toggle.click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    const dark = await canvasInk(heat, [hex(DARK.surface), hex(LIGHT.surface)]);
    expect(dark.matches[0]).toBeGreaterThan(0);
    expect(dark.matches[1]).toBe(0);
    await expectChart(tp.locator('section[aria-label="time chart"] kl-line-chart'), 2, { rows: 2 });
    await toggle.click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  });

  it('MLA & KV cache: a verified run, the time chart, the KV-bytes chart and the measured allocation', async () => {
    const page = await visit(RUNS.mla);
    const tp = technique(page, 'mla');
    await runAndWait(tp);
    await expectVerifiedResult(tp);
    // absorbed MLA against naive MLA and MHA with the same heads
    await expectSweepChart(tp, 2, 3);
    const explorer = tp.locator('kl-memory-explorer');
    await expectChart(explorer.locator('kl-line-chart'), 4);
    await explorer.getByRole('button', { name: 'Measure allocation on this GPU' }).click();
    const measured = explorer.locator('table[data-memory="measured"] tbody tr');
    await measured.first().waitFor();
    const rows = await measured.allInnerTexts();
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) expect(r, 'formula bytes equal the allocated bytes').toMatch(/\byes\b/);
    // Absorbed MLA pass by pass: the page's frames are mla.decode_absorbed's own buffers read back after each
    // pass; each is checked here against the float64 reference's intermediates (q_lat, scores, softmax, o_lat, out).
    const mla = (await walkSteps(tp, 'kl-mla-steps', 5)) as MlaTrace;
    for (const f of checkMlaTrace(mla)) expect(f.ok, `${f.stage}: ${JSON.stringify(f.checks)}`).toBe(true);
  });

  it('sparse attention: a verified DSA run against dense flash, and the selected-keys mask', async () => {
    const page = await visit(RUNS.sparse);
    const tp = technique(page, 'sparse');
    await runAndWait(tp);
    await expectVerifiedResult(tp);
    await expectSweepChart(tp, 2);
    const ink = await canvasInk(tp.locator('kl-attention-picture kl-heatmap canvas'), [hex(LIGHT.accent), hex(LIGHT.surface2)]);
    expect(ink.matches[0], 'attended keys').toBeGreaterThan(0);
    expect(ink.matches[1], 'visible keys not attended').toBeGreaterThan(0);
    expect((await tp.locator('kl-attention-picture p').allInnerTexts()).join(' ')).toMatch(/float64 reference: .*out ok/);
    expect((await tp.locator('kl-attention-picture p').allInnerTexts()).join(' ')).not.toMatch(/FAILS|Not drawn/);
    await expectStageBars(tp, ['indexer', 'top-k', 'attention']);
    // The step-through: each stage's buffers read back equal the float64 reference's (structured inputs).
    const steps = tp.locator('kl-dsa-steps');
    expect(await steps.locator('[data-check="scores"]').innerText()).toBe('equal to the float64 reference');
    await steps.locator('button[data-action="step-next"]').click();
    expect(await steps.locator('[data-check="selection"]').innerText()).toBe('the same set as the reference');
    await steps.locator('input[data-action="scrub-query"]').fill('20');
    expect(await steps.locator('[data-check="selection"]').innerText()).toBe('the same set as the reference');
    await steps.locator('button[data-action="step-next"]').click();
    expect(Number(await steps.locator('[data-check="out"]').innerText())).toBeLessThan(1e-4);
  });

  it('MoE routing: a verified run, the routing heatmap, the load histogram and the bias-balancing demo', async () => {
    const page = await visit(RUNS.moe);
    const tp = technique(page, 'moe');
    const N = Number(await tp.locator('kl-kernel-form input[name="N"]').inputValue());
    const k = Number(await tp.locator('kl-kernel-form input[name="topk"]').inputValue());
    await runAndWait(tp);
    await expectVerifiedResult(tp);
    await expectSweepChart(tp, 2);
    await expectStageBars(tp, ['router', 'dispatch', 'experts', 'combine']);
    const routing = tp.locator('kl-routing-picture');
    const heat = await canvasInk(routing.locator('kl-heatmap canvas'));
    expect(heat.colours).toBeGreaterThan(5);
    await expectChart(routing.locator('kl-line-chart'), 1, { zeroOk: true });
    // Every token goes to top-k experts: the histogram's bars add up to N x k token copies.
    const bars = await routing.locator('details.data tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.querySelectorAll('td')[1]!.textContent)));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(N * k);
    // The MoE layer stage by stage: moe.forward's stage buffers as the page drew them, checked here against
    // the float64 gate, dispatch, grouped FFN and layer references.
    const moe = (await walkSteps(tp, 'kl-moe-steps', 5)) as MoeTrace;
    for (const f of moeFrames(moe)) expect(f.checks.every((c) => c.ok), `${f.stage}: ${JSON.stringify(f.checks)}`).toBe(true);

    const demo = tp.locator('kl-balance-demo');
    await runAndWait(demo, 'button.primary');
    const headline = await demo.locator('[data-balance="result"]').innerText();
    const m = /max\/mean load ([\d.]+) at step 0 → ([\d.]+) at step 7/.exec(headline);
    expect(m, headline).not.toBeNull();
    expect(Number(m![2]), 'bias balancing lowers the imbalance').toBeLessThan(Number(m![1]));
    const charts = demo.locator('kl-line-chart');
    expect(await charts.count()).toBe(2);
    await expectChart(charts.nth(0), 2, { rows: 8 });
    await expectChart(charts.nth(1), 1, { zeroOk: true });
  });

  it('refuses a bad value inline with the CLI message and does not run', async () => {
    const page = await visit(RUNS.dense);
    const tp = technique(page, 'dense');
    await tp.locator('kl-kernel-form input[name="D"]').fill('300');
    const def = findKernel('attention.flash_decode')!;
    const expected = validateConfig(def, { ...defaults(def.schema), S: 64, Hq: 4, Hkv: 2, D: 300 }, WEBGPU_DEFAULT_CAPS).find((i) => i.field === 'D')!.message;
    expect(expected).toMatch(/300/);
    const error = tp.locator('kl-kernel-form [data-field="D"] .field-error');
    expect(await error.innerText()).toBe(expected);
    expect(await tp.locator('kl-kernel-form input[name="D"]').getAttribute('aria-invalid')).toBe('true');
    const run = tp.locator('button[data-action="run"]');
    expect(await run.isDisabled()).toBe(true);
    expect(await tp.locator('[data-blocked]').innerText()).toBe('fix the settings marked in red');
    await run.click({ force: true });
    await page.waitForTimeout(300);
    expect(await tp.locator('kl-run-progress .bar').count()).toBe(0);
    expect(await tp.locator('kl-result-card').count()).toBe(0);
    // The URL keeps the bad value, so a reload shows the same message.
    expect(page.url()).toContain('D=300');
    await page.reload();
    await page.waitForFunction(() => window.__kernelLab?.state() === 'ready');
    expect(await error.innerText()).toBe(expected);
    // A bad sweep list is refused too.
    await tp.locator('kl-kernel-form input[name="D"]').fill('32');
    await tp.locator('details.run-settings summary').click();
    await tp.getByLabel(/chart points/).fill('64,zero');
    expect(await tp.locator('[data-blocked]').innerText()).toMatch(/comma-separated list of positive integers/);
  });

  it('a model preset fills the form and the URL', async () => {
    const page = await visit('#/dense');
    const tp = technique(page, 'dense');
    const qwen = MODEL_PRESETS.find((p) => p.id === 'qwen3-235b-a22b')!;
    await tp.locator('kl-preset-picker select').selectOption(qwen.id);
    expect(await tp.locator('kl-kernel-form input[name="Hq"]').inputValue()).toBe(String(qwen.arch.heads));
    expect(await tp.locator('kl-kernel-form input[name="Hkv"]').inputValue()).toBe(String(qwen.arch.kvHeads));
    expect(await tp.locator('kl-kernel-form input[name="D"]').inputValue()).toBe(String(qwen.arch.headDim));
    expect(page.url()).toContain(`preset=${qwen.id}`);
    expect(page.url()).toContain(`Hq=${qwen.arch.heads}`);
  });
});

describe('decoder layer page', () => {
  it('runs every variant of layer.deepseek_v32 at its CPU opening shape: the stacked bars and the waterfall are the measured stage times', { timeout: 900_000 }, async () => {
    const page = await visit('#/layer');
    const lp = page.locator('kl-decoder-layer-page');
    // The page opens at this device's small shape and says so.
    await lp.locator('[data-opening]').waitFor();
    await runAndWait(lp, 'button[data-action="run"]', 'kl-run-progress .bar', 840_000);
    expect(await lp.locator('[data-run-error]').count()).toBe(0);
    expect(await lp.locator('kl-result-card [data-verified]').getAttribute('data-verified')).toBe('ok');
    const results = (await lp.evaluate((el) => (el as unknown as { results: { variant: { label: string; attention: string; ffn: string }; result: KernelResult }[] }).results)) as {
      variant: { label: string; attention: string; ffn: string };
      result: KernelResult;
    }[];
    const attention = (findKernel('layer.deepseek_v32')!.schema.attention as { values: readonly string[] }).values;
    for (const a of attention) expect(results.some((r) => r.variant.attention === a)).toBe(true);
    // Each bar's segments are that variant's measured stage medians, grouped (the data table behind the SVG).
    const bars = lp.locator('[data-stages] kl-stacked-bars');
    for (const group of ['attention', 'FFN', 'q proj']) {
      const cells = await bars.locator(`tr[data-segment="${group}"] td.num`).allTextContents();
      expect(cells).toEqual(results.map((r) => fmtMs(stageGroups(r.result).find((g) => g.name === group)!.ms)));
    }
    expect(await bars.locator('rect[data-seg]').count()).toBeGreaterThan(results.length * 5);
    // The waterfall: one row per step, ms = the step's measured stage sum.
    const rows = lp.locator('table[data-waterfall-table] tbody tr');
    expect(await rows.count()).toBe(WATERFALL.length);
    for (const [i, w] of WATERFALL.entries()) {
      const r = results.find((x) => x.variant.attention === w.attention && x.variant.ffn === w.ffn)!;
      expect(await rows.nth(i).locator('td').nth(1).innerText()).toBe(fmtMs(stepMs(r.result)));
    }
    expect(await lp.locator('tr[data-kv="V3.2 as deployed: FP8 record + indexer key"] [data-real]').innerText()).toBe('788 B');
    await expectChart(lp.locator('section[aria-label="time chart"] kl-line-chart'), results.length, { rows: 3 });
    expect(await lp.locator('section[aria-label="time chart"] [data-lesson]').innerText()).toMatch(/Crossover between|faster than .* at every point|stays slower than/);
    await screenshot(page, 'decoder-layer');
  });
});

describe('benchmarks page', () => {
  it('runs the suite with progress and cancel, exports JSON and CSV, re-imports and compares, refuses bad files', async () => {
    const page = await visit(SUITE);
    const bp = page.locator('kl-benchmarks-page');
    const runButton = bp.locator('button[data-action="run-suite"]');
    const jobs = leadingNumber((await runButton.innerText()).replace(/^Run /, ''));
    expect(jobs).toBeGreaterThan(0);

    // Cancel while it runs.
    await runButton.click();
    await bp.locator('kl-run-progress .bar').waitFor();
    await bp.locator('kl-run-progress button', { hasText: 'Cancel' }).click();
    await bp.locator('p.error', { hasText: 'Cancelled' }).waitFor();
    expect(await bp.locator('button[data-action="export-json"]').count()).toBe(0);

    // A bad setting is refused inline.
    await bp.locator('#f-repeats').fill('-1');
    expect(await bp.locator('kl-kernel-form [data-field="repeats"] .field-error').innerText()).toBe('-1 is below the minimum 0');
    expect(await runButton.isDisabled()).toBe(true);
    await bp.locator('#f-repeats').fill('2');

    await runAndWait(bp, 'button[data-action="run-suite"]');
    const table = bp.locator('section', { hasText: "This browser's run" }).locator('table[data-bench="results"] tbody tr');
    expect(await table.count()).toBe(jobs);

    const [json] = await Promise.all([page.waitForEvent('download'), bp.locator('button[data-action="export-json"]').click()]);
    expect(json.suggestedFilename()).toMatch(/^kernel-lab-.*\.json$/);
    const text = readFileSync((await json.path())!, 'utf8');
    const parsed = parseResultFile(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.file.results).toHaveLength(jobs);
    for (const r of parsed.file.results) {
      expect(r.verification.ok && r.outputsFinite).toBe(true);
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.gbps).toBeGreaterThan(0);
      expect(r.config.S).toBe(64);
    }
    const [csv] = await Promise.all([page.waitForEvent('download'), bp.locator('button[data-action="export-csv"]').click()]);
    const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(jobs + 1);

    // Round trip: the exported file imported back shows the same numbers beside this browser's run.
    const input = bp.locator('input[data-action="import"]');
    await input.setInputFiles({ name: 'exported.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    const comparison = bp.locator('kl-run-comparison table[data-bench="comparison"]');
    await comparison.locator('th.run').nth(1).waitFor();
    const rows = await comparison.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td.num')].map((td) => td.textContent!.trim())));
    expect(rows).toHaveLength(jobs);
    for (const cells of rows) {
      expect(cells).toHaveLength(7);
      expect(cells.slice(3, 6)).toEqual(cells.slice(0, 3));
      expect(cells[6]).toBe('1.00x');
      expect(leadingNumber(cells[0]!)).toBeGreaterThan(0);
    }
    // Equal runs: the second run's smaller markers sit inside the first's, so both colours show.
    await expectChart(bp.locator('kl-run-comparison kl-line-chart'), 2, { rows: jobs });

    // The roofline of the imported run: one dot per result with FLOPs; a dot opens its result card.
    const roof = bp.locator('section[aria-label="roofline"]');
    expect(await roof.locator('h3').innerText()).toBe('Roofline: exported.json');
    const dots = roof.locator('kl-roofline-plot button[data-dot]');
    expect(await dots.count()).toBeGreaterThan(0);
    expect((await canvasInk(roof.locator('canvas'), [SERIES_COLORS[0]!].map(hex))).matches[0]).toBeGreaterThan(20);
    // Click the first dot where the canvas drew it.
    const plot = roof.locator('kl-roofline-plot');
    const at = await plot.evaluate((el) => {
      const d = (el as unknown as { dots: { px: number; py: number }[] }).dots[0]!;
      return { x: d.px, y: d.py };
    });
    await plot.locator('canvas').click({ position: at });
    await roof.locator('[data-opened] kl-result-card').waitFor();
    await screenshotOf(roof, 'roofline');

    // Refused: not JSON, and a file from a future schema version; nothing is added.
    await input.setInputFiles([
      { name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{oops') },
      { name: 'future.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...JSON.parse(text), version: 2 })) },
    ]);
    const refused = bp.locator('.notice.bad');
    await refused.nth(1).waitFor();
    expect(await refused.nth(0).innerText()).toMatch(/broken\.json was not imported:\s*not JSON/);
    expect(await refused.nth(1).innerText()).toMatch(/future\.json was not imported:\s*version/);
    expect(await comparison.locator('th.run').count()).toBe(2);

    // Markup inside an imported file is shown as text, never parsed as HTML.
    const evil = JSON.parse(text);
    evil.environment.adapter.description = '<img id="pwned" src="x" onerror="window.__pwned=1">';
    evil.results[0].shape = '<b id="bold">shape</b>';
    await input.setInputFiles({ name: 'markup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(evil)) });
    await comparison.locator('th.run').nth(2).waitFor();
    expect(await comparison.innerText()).toContain('<b id="bold">shape</b>');
    expect(await bp.locator('kl-run-comparison ul.runs').innerText()).toContain('<img id="pwned"');
    expect(await comparison.locator('th.run').nth(2).innerText()).toContain('<img id="pwned" src="x"');
    expect(await existsDeep(page, 'pwned')).toBe(false);
    expect(await existsDeep(page, 'bold')).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // Back to the two honest runs for the screenshot.
    await bp.locator('button[aria-label="remove markup.json"]').click();
    await screenshot(page, 'benchmarks');
  });
});

describe('GPU trouble', () => {
  it('device lost during a run: the message, then re-initialising and running again', async () => {
    const page = await visit(RUNS.dense);
    const tp = technique(page, 'dense');
    await tp.locator('button[data-action="run"]').click();
    await tp.locator('kl-run-progress .bar').waitFor();
    await page.evaluate(() => window.__kernelLab!.loseDevice());
    const notice = page.locator('[data-device="lost"]');
    await notice.waitFor();
    expect(await notice.innerText()).toMatch(/^The GPU device was lost: /);
    expect(await tp.locator('[data-run-error]').innerText()).toBe(LOST_DURING_RUN);
    expect(await page.locator('kl-device-panel .badge.bad').innerText()).toBe('device lost');
    expect(await tp.locator('button[data-action="run"]').isDisabled()).toBe(true);
    expect(await tp.locator('[data-blocked]').innerText()).toMatch(/re-initialise/);
    expect(await page.evaluate(() => window.__kernelLab!.state())).toBe('lost');
    await screenshot(page, 'device-lost');

    await page.locator('button[data-action="reinitialise"]').click();
    await page.waitForFunction(() => window.__kernelLab!.state() === 'ready');
    await notice.waitFor({ state: 'detached' });
    await runAndWait(tp);
    await expectVerifiedResult(tp);
    await expectSweepChart(tp, 2);
  });

  it('no WebGPU: the notice with how to get it; runs are off, the KV-cache explorer still works', async () => {
    const ctx = await newContext(browser, { noWebGpu: true });
    try {
      const page = await visit(RUNS.dense, ctx);
      expect(await page.evaluate(() => window.__kernelLab!.state())).toBe('none');
      const notice = page.locator('[data-device="no-webgpu"]');
      expect(await notice.locator('h2').innerText()).toBe('This browser cannot run the kernels: no WebGPU');
      expect(await notice.innerText()).toMatch(/--enable-unsafe-webgpu/);
      expect(await page.locator('kl-device-panel').count()).toBe(0);
      const tp = technique(page, 'dense');
      expect(await tp.locator('button[data-action="run"]').isDisabled()).toBe(true);
      expect(await tp.locator('[data-blocked]').innerText()).toMatch(/needs WebGPU/);
      await screenshot(page, 'no-webgpu');
      await page.locator('nav a', { hasText: 'MLA & KV cache' }).click();
      await expectChart(technique(page, 'mla').locator('kl-memory-explorer kl-line-chart'), 4);
    } finally {
      await Promise.all(open.splice(0).map(async (p) => expect(await p.problems()).toEqual([])));
      await ctx.close();
    }
  });
});

// The README's pictures: each technique page after its DEFAULT run on this machine (the opening shape chosen
// for this device, so the crossover falls inside the chart or the chart says why not), with its stage bars,
// step-through and lesson. Slow on CPU emulation, so only with UPDATE_SCREENSHOTS=1.
describe.runIf(DEFAULT_RUN_SCREENSHOTS)('screenshots after each technique page\'s default run', () => {
  const STEPS: Record<FamilyPageId, [string, string]> = {
    dense: ['section[aria-label="step-through"]', 'dense-step-through'],
    mla: ['section[aria-label="step-through"]', 'mla-step-through'],
    sparse: ['section[aria-label="attention pattern"]', 'sparse-step-through'],
    moe: ['section[aria-label="step-through"]', 'moe-step-through'],
  };
  for (const id of Object.keys(STEPS) as FamilyPageId[]) {
    it(`${id}: the default run, its chart lesson, stage bars and step-through`, { timeout: 1_200_000 }, async () => {
      const page = await visit(`#/${id}`);
      const tp = technique(page, id);
      await tp.locator('[data-opening]').waitFor();
      await runAndWait(tp, 'button[data-action="run"]', 'kl-run-progress .bar', 1_100_000);
      await expectVerifiedResult(tp);
      await expectSweepChart(tp, FAMILY_PAGES[id].opening(true).sweep.length, id === 'mla' ? 3 : id === 'moe' ? 3 : 2);
      if (id === 'sparse') await expectStageBars(tp, ['indexer', 'top-k', 'attention']);
      if (id === 'moe') {
        await expectStageBars(tp, ['router', 'dispatch', 'experts', 'combine']);
        await runAndWait(tp.locator('kl-balance-demo'), 'button.primary', 'kl-run-progress .bar', 600_000);
      }
      const [part, name] = STEPS[id];
      if (id !== 'sparse') expect(await tp.locator(`${part} [data-frame-ok]`).getAttribute('data-frame-ok')).toBe('true');
      // The MLA step-through on its scores frame: where the sinks, needles and band show.
      if (id === 'mla') {
        await tp.locator('kl-mla-steps button[data-step="forward"]').click();
        expect(await tp.locator('kl-mla-steps [data-frame]').getAttribute('data-stage')).toBe('scores');
      }
      await screenshot(page, id);
      await screenshotOf(tp.locator(part), name);
      if (id === 'dense') {
        await page.locator('kl-theme-toggle button').click();
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
        await screenshot(page, 'dense-dark');
        await page.locator('kl-theme-toggle button').click();
      }
    });
  }
});
