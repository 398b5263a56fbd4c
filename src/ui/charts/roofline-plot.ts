// <kl-roofline-plot>: the roofline model of this device, log-log: arithmetic intensity (FLOPs per byte of
// the cost model's minimum traffic) against achieved GFLOP/s, under the two ceilings measured in the same
// run (copy bandwidth x intensity, and FMA throughput; they meet at the ridge point). One dot per kernel and
// shape; a dot under the slanted roof is memory-bound, under the flat one compute-bound, and its distance
// below the roof is what is left. Drawn on one canvas (it hit-tests clicks itself); the same dots are listed
// as buttons below it, so keyboards and screen readers open them too. Clicking either sends `result-select`.
import { LitElement, html, css, nothing, unsafeCSS } from 'lit';
import type { KernelResult } from '../../bench/result-schema.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { SERIES_COLORS, seriesColor, themeColor } from './chart-colors.ts';
import { fmtNum } from '../run/display-number.ts';

export interface RooflineCeilings {
  copyGBps: number;
  fmaGflops: number;
}

export interface RooflineDot {
  result: KernelResult;
  /** FLOPs per byte. */
  intensity: number;
  gflops: number;
  /** Canvas position in CSS pixels. */
  px: number;
  py: number;
}

const PAD = { left: 64, right: 16, top: 16, bottom: 44 };
const DOT_RADIUS = 6;

const plotted = (r: KernelResult) => r.cost.flops > 0 && r.cost.bytes > 0 && r.gflops > 0 && r.verification.ok && r.outputsFinite;

/** 10^k ticks covering [lo, hi]. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

const fmtTick = (v: number) => (v >= 1000 ? `${v / 1000}K` : v >= 1 ? String(v) : String(Number(v.toPrecision(1))));

export class RooflinePlot extends LitElement {
  static override properties = { results: { attribute: false }, ceilings: { attribute: false }, hover: { state: true } };
  declare results: readonly KernelResult[];
  declare ceilings: RooflineCeilings | undefined;
  declare hover: RooflineDot | undefined;
  #dots: RooflineDot[] = [];
  #resize: ResizeObserver | undefined;
  #families: string[] = [];

  constructor() {
    super();
    this.results = [];
  }

  override connectedCallback() {
    super.connectedCallback();
    this.#resize = new ResizeObserver(() => this.#draw());
    this.#resize.observe(this);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#resize?.disconnect();
  }

  /** The dots as drawn (positions in CSS pixels of the canvas). */
  get dots(): readonly RooflineDot[] {
    return this.#dots;
  }

  override updated() {
    this.#draw();
  }

  #select(r: KernelResult) {
    this.dispatchEvent(new CustomEvent<KernelResult>('result-select', { detail: r, bubbles: true, composed: true }));
  }

  #nearest(e: MouseEvent): RooflineDot | undefined {
    const canvas = e.currentTarget as HTMLCanvasElement;
    const box = canvas.getBoundingClientRect();
    const x = e.clientX - box.left;
    const y = e.clientY - box.top;
    let best: RooflineDot | undefined;
    let bestD = (DOT_RADIUS + 4) ** 2;
    for (const d of this.#dots) {
      const dd = (d.px - x) ** 2 + (d.py - y) ** 2;
      if (dd <= bestD) (best = d), (bestD = dd);
    }
    return best;
  }

  #draw() {
    const canvas = this.renderRoot.querySelector('canvas');
    const roof = this.ceilings;
    this.#dots = [];
    if (!canvas || !roof || roof.copyGBps <= 0 || roof.fmaGflops <= 0) return;
    const width = Math.max(280, Math.floor(this.getBoundingClientRect().width || 560));
    const height = 320;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr;
    canvas.height = height * dpr;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const text = themeColor(this, '--kl-text', '#222');
    const grid = themeColor(this, '--kl-border', '#ddd');
    const muted = themeColor(this, '--kl-muted', '#666');
    const pts = this.results.filter(plotted).map((r) => ({ r, ai: r.cost.flops / r.cost.bytes, gf: r.gflops }));
    // GB/s x FLOP/B = GFLOP/s: the ceilings meet where intensity = FMA / bandwidth.
    const ridge = roof.fmaGflops / roof.copyGBps;
    const xs = [ridge, ...pts.map((p) => p.ai)];
    const ys = [roof.fmaGflops, ...pts.map((p) => p.gf)];
    const x0 = Math.min(...xs) / 4;
    const x1 = Math.max(...xs) * 4;
    const y0 = Math.min(...ys, roof.copyGBps * x0) / 2;
    const y1 = roof.fmaGflops * 3;
    const w = width - PAD.left - PAD.right;
    const h = height - PAD.top - PAD.bottom;
    const X = (v: number) => PAD.left + (w * (Math.log10(v) - Math.log10(x0))) / (Math.log10(x1) - Math.log10(x0));
    const Y = (v: number) => PAD.top + h - (h * (Math.log10(v) - Math.log10(y0))) / (Math.log10(y1) - Math.log10(y0));
    g.font = '12px system-ui, sans-serif';
    g.lineWidth = 1;
    g.strokeStyle = grid;
    g.fillStyle = muted;
    for (const t of decades(x0, x1).filter((t) => t >= x0 && t <= x1)) {
      g.beginPath();
      g.moveTo(X(t), PAD.top);
      g.lineTo(X(t), PAD.top + h);
      g.stroke();
      g.textAlign = 'center';
      g.fillText(fmtTick(t), X(t), PAD.top + h + 16);
    }
    for (const t of decades(y0, y1).filter((t) => t >= y0 && t <= y1)) {
      g.beginPath();
      g.moveTo(PAD.left, Y(t));
      g.lineTo(PAD.left + w, Y(t));
      g.stroke();
      g.textAlign = 'right';
      g.fillText(fmtTick(t), PAD.left - 6, Y(t) + 4);
    }
    g.fillStyle = text;
    g.textAlign = 'center';
    g.fillText('arithmetic intensity (FLOP per byte, cost model)', PAD.left + w / 2, height - 6);
    g.save();
    g.translate(14, PAD.top + h / 2);
    g.rotate(-Math.PI / 2);
    g.fillText('achieved GFLOP/s', 0, 0);
    g.restore();
    // The roof: bandwidth-bound slope up to the ridge, then the FMA ceiling.
    g.strokeStyle = text;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(X(x0), Y(roof.copyGBps * x0));
    g.lineTo(X(ridge), Y(roof.fmaGflops));
    g.lineTo(X(x1), Y(roof.fmaGflops));
    g.stroke();
    g.fillStyle = text;
    g.textAlign = 'left';
    g.fillText(`FMA ${fmtNum(roof.fmaGflops)} GFLOP/s`, Math.min(X(ridge) + 6, PAD.left + w - 150), Y(roof.fmaGflops) - 6);
    g.save();
    g.translate(X(x0 * 2), Y(roof.copyGBps * x0 * 2) - 6);
    g.rotate(-Math.atan2(Y(roof.copyGBps * x0) - Y(roof.copyGBps * x0 * 10), X(x0 * 10) - X(x0)));
    g.fillText(`copy ${fmtNum(roof.copyGBps)} GB/s`, 0, 0);
    g.restore();
    this.#families = [...new Set(pts.map((p) => p.r.family))];
    for (const p of pts) {
      const dot: RooflineDot = { result: p.r, intensity: p.ai, gflops: p.gf, px: X(p.ai), py: Y(p.gf) };
      this.#dots.push(dot);
      g.fillStyle = seriesColor(this.#families.indexOf(p.r.family));
      g.beginPath();
      g.arc(dot.px, dot.py, dot === this.hover || this.hover?.result === p.r ? DOT_RADIUS + 2 : DOT_RADIUS, 0, 2 * Math.PI);
      g.fill();
    }
  }

  override render() {
    const roof = this.ceilings;
    if (!roof) return html`<p class="muted">No measured roofline yet: run something first.</p>`;
    const skipped = this.results.filter((r) => !plotted(r));
    const dots = this.results.filter(plotted);
    const families = [...new Set(dots.map((r) => r.family))];
    const h = this.hover;
    return html`<canvas
        role="img"
        aria-label="roofline: arithmetic intensity against achieved GFLOP/s, log-log, one dot per kernel and shape"
        @mousemove=${(e: MouseEvent) => (this.hover = this.#nearest(e))}
        @mouseleave=${() => (this.hover = undefined)}
        @click=${(e: MouseEvent) => {
          const d = this.#nearest(e);
          if (d) this.#select(d.result);
        }}
      ></canvas>
      <p class="small hover" aria-live="polite">
        ${h
          ? html`<strong>${h.result.kernel}</strong> ${h.result.shape}: ${fmtNum(h.intensity)} FLOP/B, ${fmtNum(h.gflops)} GFLOP/s
              (${(100 * (h.gflops / Math.min(roof.fmaGflops, roof.copyGBps * h.intensity))).toFixed(1)}% of the roof there) — click to open`
          : html`<span class="muted">Hover a dot for its numbers; click it to open its result. Left of the ridge (${fmtNum(roof.fmaGflops / roof.copyGBps)} FLOP/B) a kernel is
              bound by memory, right of it by arithmetic.</span>`}
      </p>
      <div class="legend small">${families.map((f, i) => html`<span><i class="c${i % SERIES_COLORS.length}"></i>${f}</span>`)}</div>
      <details class="small">
        <summary>the dots (${dots.length})${skipped.length ? `; ${skipped.length} not plotted` : ''}</summary>
        <ul class="dots">
          ${dots.map(
            (r) => html`<li>
              <button class="link" data-dot=${`${r.kernel} ${r.shape}`} @click=${() => this.#select(r)}>${r.kernel}</button> ${r.shape}: ${fmtNum(r.cost.flops / r.cost.bytes)} FLOP/B,
              ${fmtNum(r.gflops)} GFLOP/s
            </li>`,
          )}
        </ul>
        ${skipped.length
          ? html`<p class="muted">Not plotted (no FLOPs in the cost model, such as a sort or a selection, or not verified): ${skipped.map((r) => `${r.kernel} ${r.shape}`).join('; ')}.</p>`
          : nothing}
      </details>`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      canvas {
        display: block;
        cursor: crosshair;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 14px;
      }
      .legend i {
        display: inline-block;
        width: 10px;
        height: 10px;
        border-radius: 50%;
        margin-right: 4px;
      }
      .dots {
        padding-left: 18px;
      }
    `,
    // Swatch colours as classes: a style attribute would be blocked by the site's CSP (style-src 'self').
    unsafeCSS(SERIES_COLORS.map((c, i) => `.legend i.c${i} { background: ${c}; }`).join('\n')),
    css`
      button.link {
        padding: 0 4px;
        font-family: var(--kl-mono);
        font-size: 0.85em;
      }
    `,
  ];
}

customElements.define('kl-roofline-plot', RooflinePlot);

declare global {
  interface HTMLElementTagNameMap {
    'kl-roofline-plot': RooflinePlot;
  }
}
