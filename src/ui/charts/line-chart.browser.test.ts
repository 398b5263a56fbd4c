// <kl-line-chart>: uPlot draws each series in its colour on a canvas, gaps (null, NaN) are never plotted or
// printed as numbers, and the data table carries the same values.
import { afterEach, describe, expect, it } from 'vitest';
import { mount, q, qa, settle, text, unmountAll } from '../testing.ts';
import { SERIES_COLORS } from './chart-colors.ts';
import { LineChart, type ChartSpec } from './line-chart.ts';

function inkOf(canvas: HTMLCanvasElement, color: string): number {
  const want = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && want.every((w, c) => Math.abs(data[i + c]! - w) <= 40)) n++;
  return n;
}

async function chart(spec: ChartSpec): Promise<LineChart> {
  const c = new LineChart();
  c.spec = spec;
  c.label = 'test chart';
  c.style.width = '600px';
  c.style.display = 'block';
  await mount(c);
  await new Promise((r) => requestAnimationFrame(r));
  return c;
}

const spec: ChartSpec = {
  xs: [512, 1024, 2048],
  series: [
    { label: 'flash', values: [0.5, 1, 2] },
    { label: 'naive', values: [2, null, Number.NaN], dash: true },
  ],
  xLabel: 'S',
  yLabel: 'ms',
  logX: true,
  logY: true,
  formatY: (y) => `${y} ms`,
};

afterEach(unmountAll);

describe('<kl-line-chart>', () => {
  it('draws every series in its colour on the canvas', async () => {
    const c = await chart(spec);
    const canvas = q<HTMLCanvasElement>(c, 'canvas');
    expect(canvas.width).toBeGreaterThanOrEqual(590);
    expect(inkOf(canvas, SERIES_COLORS[0]!)).toBeGreaterThan(50);
    expect(inkOf(canvas, SERIES_COLORS[1]!)).toBeGreaterThan(0);
    expect(q(c, '.plot').getAttribute('aria-label')).toBe('test chart');
    expect(qa(c, '.u-legend .u-series .u-label').map(text)).toEqual(['S', 'flash', 'naive']);
  });

  it('shows the values under the cursor in the legend (hover)', async () => {
    const c = await chart(spec);
    const over = q(c, '.u-over');
    const box = over.getBoundingClientRect();
    // The last x (2048) sits at the right edge of a log-x plot.
    over.dispatchEvent(new MouseEvent('mouseenter', { clientX: box.right - 1, clientY: box.top + box.height / 2, bubbles: true }));
    over.dispatchEvent(new MouseEvent('mousemove', { clientX: box.right - 1, clientY: box.top + box.height / 2, bubbles: true }));
    await new Promise((r) => requestAnimationFrame(r));
    expect(qa(c, '.u-legend .u-series .u-value').map(text)).toEqual(['2048', '2 ms', '—']);
  });

  it('keeps its numbers in a data table, gaps as "—"', async () => {
    const c = await chart(spec);
    const rows = qa(c, 'details.data tbody tr').map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()));
    expect(rows).toEqual([
      ['512', '0.5 ms', '2 ms'],
      ['1024', '1 ms', '—'],
      ['2048', '2 ms', '—'],
    ]);
  });

  it('says so instead of drawing when nothing was measured', async () => {
    const c = await chart({ ...spec, series: [{ label: 'none', values: [null, Number.NaN, null] }] });
    expect(qa(c, 'canvas')).toHaveLength(0);
    expect(text(q(c, '.empty'))).toBe('No measured points to plot yet.');
  });

  it('redraws with the new data when the spec changes', async () => {
    const c = await chart(spec);
    c.spec = { ...spec, series: [{ label: 'only', values: [1, 2, 3], color: '#e59a1f' }] };
    await settle(c);
    const canvas = q<HTMLCanvasElement>(c, 'canvas');
    expect(inkOf(canvas, '#e59a1f')).toBeGreaterThan(50);
    expect(inkOf(canvas, SERIES_COLORS[0]!)).toBe(0);
  });

  it('draws bars in the series colour', async () => {
    const c = await chart({ xs: [0, 1, 2, 3], series: [{ label: 'load', values: [4, 1, 3, 6] }], xLabel: 'expert', yLabel: 'tokens', kind: 'bars', integerX: true });
    const canvas = q<HTMLCanvasElement>(c, 'canvas');
    expect(inkOf(canvas, SERIES_COLORS[0]!)).toBeGreaterThan(400);
  });
});
