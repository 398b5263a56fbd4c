// <kl-heatmap>: a matrix on one canvas — masks in the accent colour, weights on viridis normalised per row,
// cells with no value in the surface colour — repainted when the theme flips; hovering reads a cell out.
import { afterEach, describe, expect, it } from 'vitest';
import { mount, q, settle, text, unmountAll } from '../testing.ts';
import { viridis } from './color-ramp.ts';
import { HeatmapCanvas, type HeatmapMatrix } from './heatmap-canvas.ts';

async function heatmap(matrix: HeatmapMatrix): Promise<HeatmapCanvas> {
  const h = new HeatmapCanvas();
  h.matrix = matrix;
  h.style.width = '400px';
  h.style.display = 'block';
  return mount(h);
}

const px = (c: Uint8ClampedArray, cols: number, r: number, col: number) => [...c.slice(4 * (r * cols + col), 4 * (r * cols + col) + 3)];

afterEach(unmountAll);

describe('<kl-heatmap>', () => {
  it('colours a mask: selected = accent, not selected = surface-2, no value = surface', async () => {
    const h = await heatmap({ rows: 2, cols: 3, values: [1, 0, Number.NaN, 0, 1, 1], kind: 'mask', rowLabel: 'query', colLabel: 'key' });
    const c = h.cellColors()!;
    expect(px(c, 3, 0, 0)).toEqual([0x1f, 0x5f, 0xbf]);
    expect(px(c, 3, 0, 1)).toEqual([0xee, 0xf1, 0xf5]);
    expect(px(c, 3, 0, 2)).toEqual([0xff, 0xff, 0xff]);
    expect(text(q(h, '.legend'))).toContain('not visible');
  });

  it('normalises weights per row: each row maximum is the top of the ramp', async () => {
    const h = await heatmap({ rows: 2, cols: 2, values: [0.2, 0.8, 0.01, 0.02], kind: 'weight', rowLabel: 'token', colLabel: 'expert' });
    const c = h.cellColors()!;
    expect(px(c, 2, 0, 1)).toEqual(viridis(1));
    expect(px(c, 2, 1, 1)).toEqual(viridis(1));
    expect(px(c, 2, 0, 0)).toEqual(viridis(0.25));
    expect(text(q(h, '.legend'))).not.toContain('not visible');
  });

  it('paints the canvas, repaints in the dark theme, and reads a cell under the pointer', async () => {
    const h = await heatmap({ rows: 4, cols: 4, values: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, Number.NaN], kind: 'mask', rowLabel: 'query', colLabel: 'key', rowOffset: 10 });
    const canvas = q<HTMLCanvasElement>(h, 'canvas');
    // Let the resize-driven redraws settle first, so only the theme switch can repaint afterwards.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))));
    const at = (x: number, y: number) => [...canvas.getContext('2d')!.getImageData(x, y, 1, 1).data.slice(0, 3)];
    const w = canvas.width;
    const cell = w / 4;
    expect(at(cell / 2, cell / 2)).toEqual([0x1f, 0x5f, 0xbf]);
    expect(at(3.5 * cell, (canvas.height * 7) / 8)).toEqual([0xff, 0xff, 0xff]);
    document.documentElement.dataset.theme = 'dark';
    await Promise.resolve();
    expect(at(3.5 * cell, (canvas.height * 7) / 8)).toEqual([0x17, 0x1e, 0x26]);
    expect(at(cell / 2, cell / 2)).toEqual([0x6e, 0xa8, 0xfe]);
    const rect = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: rect.left + rect.width * 0.3, clientY: rect.top + rect.height * 0.1, bubbles: true }));
    await settle(h);
    expect(text(q(h, '.axes'))).toContain('query 10, key 1: not selected');
  });
});
