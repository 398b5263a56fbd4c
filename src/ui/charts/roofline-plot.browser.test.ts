// <kl-roofline-plot>: one dot per verified kernel and shape at (FLOP per byte, achieved GFLOP/s) on log-log
// axes under the measured ceilings; a click on a dot (or its button) opens that result; results without
// FLOPs are listed as not plotted. And on the Benchmarks page: an imported file's dots open its result card.
import { afterEach, describe, expect, it } from 'vitest';
import { fakeResult, fakeResultFile } from '../../bench/result-fixture.ts';
import { GpuSession } from '../device/gpu-session.ts';
import { BenchmarksPage } from '../pages/benchmarks-page.ts';
import { mount, q, qa, settle, text, unmountAll, until } from '../testing.ts';
import { RooflinePlot } from './roofline-plot.ts';

afterEach(unmountAll);

const results = [
  fakeResult({ shape: 'memory-bound', cost: { flops: 1e6, bytes: 4e6 }, gflops: 2 }),
  fakeResult({ kernel: 'moe.grouped_ffn', family: 'moe', shape: 'compute-bound', cost: { flops: 4e9, bytes: 1e7 }, gflops: 300 }),
  fakeResult({ kernel: 'sparse.topk', family: 'sparse', shape: 'no flops', cost: { flops: 0, bytes: 1e6 }, gflops: 0 }),
];

async function plot(): Promise<RooflinePlot> {
  const p = new RooflinePlot();
  p.results = results;
  p.ceilings = { copyGBps: 20, fmaGflops: 400 };
  p.style.width = '640px';
  await mount(p);
  await new Promise((r) => requestAnimationFrame(r));
  return p;
}

describe('<kl-roofline-plot>', () => {
  it('places each dot by intensity and GFLOP/s on log axes (higher intensity right, faster up)', async () => {
    const p = await plot();
    expect(p.dots.map((d) => [d.result.shape, d.intensity, d.gflops])).toEqual([
      ['memory-bound', 0.25, 2],
      ['compute-bound', 400, 300],
    ]);
    const [a, b] = p.dots;
    expect(b!.px).toBeGreaterThan(a!.px);
    expect(b!.py).toBeLessThan(a!.py);
    // Log x: 0.25 -> 400 FLOP/B is 3.2 decades; the pixels per decade are the same everywhere.
    const canvas = q<HTMLCanvasElement>(p, 'canvas');
    expect(canvas.getContext('2d')!.getImageData(Math.round(a!.px), Math.round(a!.py), 1, 1).data[3]).toBeGreaterThan(0);
    expect(text(q(p, 'details summary'))).toBe('the dots (2); 1 not plotted');
    // Legend swatches by class: a style attribute would be a CSP violation on the site.
    expect(qa(p, '.legend i').map((i) => [i.className, i.getAttribute('style')])).toEqual([
      ['c0', null],
      ['c1', null],
    ]);
    expect(getComputedStyle(q(p, '.legend i.c1')).backgroundColor).not.toBe('rgba(0, 0, 0, 0)');
    expect(text(q(p, 'details'))).toContain('sparse.topk no flops');
  });

  it('opens a result by clicking its dot, or its button', async () => {
    const p = await plot();
    const opened: string[] = [];
    p.addEventListener('result-select', (e) => opened.push((e as CustomEvent).detail.shape));
    const canvas = q<HTMLCanvasElement>(p, 'canvas');
    const box = canvas.getBoundingClientRect();
    const d = p.dots[1]!;
    canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + d.px, clientY: box.top + d.py, bubbles: true }));
    await settle(p);
    expect(text(q(p, '.hover'))).toContain('moe.grouped_ffn compute-bound: 400 FLOP/B, 300 GFLOP/s (75.0% of the roof there)');
    canvas.dispatchEvent(new MouseEvent('click', { clientX: box.left + d.px, clientY: box.top + d.py, bubbles: true }));
    canvas.dispatchEvent(new MouseEvent('click', { clientX: box.left + 2, clientY: box.top + 2, bubbles: true }));
    q<HTMLButtonElement>(p, 'button[data-dot="attention.flash_decode memory-bound"]').click();
    expect(opened).toEqual(['compute-bound', 'memory-bound']);
  });

  it('on the Benchmarks page, plots an imported file and opens the clicked result', async () => {
    const page = new BenchmarksPage();
    page.session = new GpuSession();
    await mount(page);
    const input = q<HTMLInputElement>(page, 'input[data-action="import"]');
    const dt = new DataTransfer();
    dt.items.add(new File([JSON.stringify(fakeResultFile(results))], 'gpu.json', { type: 'application/json' }));
    input.files = dt.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => qa(page, 'kl-roofline-plot').length === 1, 'the roofline plot');
    await settle(page);
    expect(text(q(page, 'section[aria-label="roofline"] h3'))).toBe('Roofline: gpu.json');
    q<HTMLButtonElement>(page, 'kl-roofline-plot', 'button[data-dot="moe.grouped_ffn compute-bound"]').click();
    await settle(page);
    expect(text(q(page, '[data-opened] kl-result-card'))).toContain('moe.grouped_ffn');
  });
});
