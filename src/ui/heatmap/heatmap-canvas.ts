// <kl-heatmap>: a rows x cols matrix drawn on one <canvas> with the 2D context (one pixel per cell in an
// ImageData, scaled up without smoothing), never as a grid of DOM nodes. Weights use the viridis ramp,
// normalised per row or over the whole matrix; masks use the accent colour; zero cells a light grey; NaN
// cells (not visible, e.g. after a query's position) the surface colour. Hovering reads a cell out. (No style attributes anywhere: the CSP's
// style-src 'self' refuses them; sizes are set through CSSOM.)
import { LitElement, html, css, nothing, unsafeCSS } from 'lit';
import { sharedStyles } from '../shell/shared-styles.ts';
import { themeColor } from '../charts/chart-colors.ts';
import { VIRIDIS_GRADIENT, parseColor, viridis } from './color-ramp.ts';

export interface HeatmapMatrix {
  rows: number;
  cols: number;
  /** Row-major values; NaN = no value (masked / not computed). */
  values: ArrayLike<number>;
  /** 'mask': 0/1 cells; 'weight': a colour ramp. */
  kind: 'mask' | 'weight';
  /** How weights map to the ramp: per-row maximum (attention rows) or the global min..max. */
  normalise?: 'row' | 'global';
  rowLabel: string;
  colLabel: string;
  /** Row r stands for rowOffset + r (e.g. query positions S-T..S-1). */
  rowOffset?: number;
}

function hasHidden(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return true;
  return false;
}

export class HeatmapCanvas extends LitElement {
  static override properties = { matrix: { attribute: false }, label: { type: String }, hover: { state: true } };
  declare matrix: HeatmapMatrix | undefined;
  declare label: string;
  declare hover: string;
  #resize: ResizeObserver | undefined;
  #themeObserver: MutationObserver | undefined;

  constructor() {
    super();
    this.label = 'heatmap';
    this.hover = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    this.#resize = new ResizeObserver(() => this.#draw());
    this.#resize.observe(this);
    // Mask, zero and "not visible" cells take the theme's colours: repaint when the theme flips.
    this.#themeObserver = new MutationObserver(() => this.#draw());
    this.#themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#themeObserver?.disconnect();
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('matrix')) this.#draw();
  }

  /** Colour of every cell as RGBA bytes, cols x rows (exported for tests through the element). */
  cellColors(): Uint8ClampedArray<ArrayBuffer> | undefined {
    const m = this.matrix;
    if (!m) return undefined;
    const px = new Uint8ClampedArray(m.rows * m.cols * 4);
    const none = parseColor(themeColor(this, '--kl-surface', '#ffffff'));
    const bg = parseColor(themeColor(this, '--kl-surface-2', '#eef1f5'));
    const on = parseColor(themeColor(this, '--kl-accent', '#1f5fbf'));
    let gmin = Infinity;
    let gmax = -Infinity;
    if (m.kind === 'weight') {
      for (let i = 0; i < m.values.length; i++) {
        const v = m.values[i]!;
        if (Number.isFinite(v)) {
          gmin = Math.min(gmin, v);
          gmax = Math.max(gmax, v);
        }
      }
    }
    for (let r = 0; r < m.rows; r++) {
      let rmax = -Infinity;
      let rmin = Infinity;
      if (m.kind === 'weight' && m.normalise !== 'global') {
        for (let c = 0; c < m.cols; c++) {
          const v = m.values[r * m.cols + c]!;
          if (Number.isFinite(v)) {
            rmax = Math.max(rmax, v);
            rmin = Math.min(rmin, v);
          }
        }
      }
      for (let c = 0; c < m.cols; c++) {
        const v = m.values[r * m.cols + c]!;
        let rgb: [number, number, number];
        if (!Number.isFinite(v)) rgb = none;
        else if (m.kind === 'mask') rgb = v !== 0 ? on : bg;
        else if (m.normalise === 'global') rgb = viridis(gmax > gmin ? (v - gmin) / (gmax - gmin) : 1);
        // Probabilities: zero stays background so the pattern reads like the mask; the rest by row maximum.
        else rgb = v === 0 && rmin >= 0 ? bg : viridis(rmax > 0 ? v / rmax : rmax > rmin ? (v - rmin) / (rmax - rmin) : 1);
        const o = 4 * (r * m.cols + c);
        px[o] = rgb[0];
        px[o + 1] = rgb[1];
        px[o + 2] = rgb[2];
        px[o + 3] = 255;
      }
    }
    return px;
  }

  #draw() {
    const m = this.matrix;
    const canvas = this.renderRoot.querySelector('canvas');
    if (!m || !canvas || m.rows === 0 || m.cols === 0) return;
    const width = Math.max(120, Math.floor(canvas.getBoundingClientRect().width || 480));
    // Square cells when they fit; never taller than 420 px or thinner than 2 px per row.
    const height = Math.round(Math.min(420, Math.max(2 * m.rows, (width * m.rows) / m.cols)));
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = `${height}px`;
    const g = canvas.getContext('2d');
    const colors = this.cellColors();
    if (!g || !colors) return;
    const cells = document.createElement('canvas');
    cells.width = m.cols;
    cells.height = m.rows;
    cells.getContext('2d')!.putImageData(new ImageData(colors, m.cols, m.rows), 0, 0);
    g.imageSmoothingEnabled = false;
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.drawImage(cells, 0, 0, canvas.width, canvas.height);
  }

  #onMove(e: PointerEvent) {
    const m = this.matrix;
    if (!m) return;
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * m.cols);
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * m.rows);
    if (r < 0 || c < 0 || r >= m.rows || c >= m.cols) return;
    const v = m.values[r * m.cols + c]!;
    const shown = !Number.isFinite(v) ? 'not visible' : m.kind === 'mask' ? (v ? 'selected' : 'not selected') : v.toPrecision(3);
    this.hover = `${m.rowLabel} ${r + (m.rowOffset ?? 0)}, ${m.colLabel} ${c}: ${shown}`;
  }

  override render() {
    const m = this.matrix;
    if (!m) return nothing;
    return html`<div class="axes small muted"><span>${m.colLabel} 0 → ${m.cols - 1}</span><span>${this.hover || ' '}</span></div>
      <div class="frame">
        <span class="ylabel small muted">${m.rowLabel} ${m.rowOffset ?? 0} → ${(m.rowOffset ?? 0) + m.rows - 1} ↓</span>
        <canvas role="img" aria-label=${this.label} @pointermove=${(e: PointerEvent) => this.#onMove(e)} @pointerleave=${() => (this.hover = '')}></canvas>
      </div>
      <div class="legend small muted row">
        ${m.kind === 'mask'
          ? html`<span class="swatch on"></span> attended <span class="swatch off"></span> visible, not attended`
          : html`<span>${m.normalise === 'global' ? 'min' : '0'}</span><span class="ramp"></span
              ><span>${m.normalise === 'global' ? 'max' : 'row maximum'}</span><span class="swatch off"></span> zero`}
        ${hasHidden(m.values) ? html`<span class="swatch none"></span> not visible` : nothing}
      </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .axes {
        display: flex;
        justify-content: space-between;
        gap: 8px;
      }
      .frame {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 4px;
        align-items: start;
      }
      .ylabel {
        writing-mode: vertical-rl;
        transform: rotate(180deg);
      }
      canvas {
        width: 100%;
        display: block;
        image-rendering: pixelated;
        border: 1px solid var(--kl-border);
        border-radius: 4px;
      }
      .legend {
        margin-top: 4px;
        gap: 6px;
      }
      .ramp {
        background-image: ${unsafeCSS(VIRIDIS_GRADIENT)};
        display: inline-block;
        width: 120px;
        height: 10px;
        border-radius: 3px;
      }
      .swatch {
        display: inline-block;
        width: 12px;
        height: 12px;
        border: 1px solid var(--kl-border);
        border-radius: 2px;
      }
      .swatch.on {
        background: var(--kl-accent);
      }
      .swatch.off {
        background: var(--kl-surface-2);
      }
      .swatch.none {
        background: var(--kl-surface);
      }
    `,
  ];
}

customElements.define('kl-heatmap', HeatmapCanvas);

declare global {
  interface HTMLElementTagNameMap {
    'kl-heatmap': HeatmapCanvas;
  }
}
