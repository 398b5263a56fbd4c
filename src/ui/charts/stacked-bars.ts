// <kl-stacked-bars>: horizontal bars made of segments, one bar per row (a variant, a waterfall step), drawn as
// SVG with presentation attributes only (the site's CSP allows no inline styles). A segment may be hidden: the
// waterfall's invisible base that lifts a step's bar to where the previous total ended. Hover or focus a
// segment for its value; the numbers are also a table (screen readers, copying, tests).
import { LitElement, html, svg, css, nothing } from 'lit';
import { sharedStyles } from '../shell/shared-styles.ts';
import { seriesColor } from './chart-colors.ts';

export interface BarSegment {
  name: string;
  value: number | null;
  /** Default: the colour of `name`'s place in the legend. */
  color?: string;
  /** Takes room but is not drawn (a waterfall's base). */
  hidden?: boolean;
}

export interface BarRow {
  label: string;
  segments: BarSegment[];
  /** Shown after the bar ("12.3 ms", "−4.1 ms"); default: the visible segments' sum. */
  note?: string;
}

export interface StackedBarsSpec {
  rows: BarRow[];
  /** Segment names in colour order (the legend). */
  legend: string[];
  format: (v: number) => string;
  /** The quantity, for the axis and the table ("median ms per step"). */
  unit: string;
}

const LABEL_W = 190;
const NOTE_W = 150;
const BAR_H = 22;
const GAP = 8;

export class StackedBars extends LitElement {
  static override properties = { spec: { attribute: false }, label: { type: String }, hover: { state: true } };
  declare spec: StackedBarsSpec | undefined;
  declare label: string;
  declare hover: string;

  constructor() {
    super();
    this.label = 'stacked bars';
    this.hover = '';
  }

  #color(s: BarSegment): string {
    if (s.color) return s.color;
    const i = this.spec!.legend.indexOf(s.name);
    return seriesColor(i < 0 ? 0 : i);
  }

  override render() {
    const spec = this.spec;
    if (!spec || !spec.rows.length) return html`<p class="muted">No measured rows yet.</p>`;
    const W = 720;
    const plotW = W - LABEL_W - NOTE_W;
    const total = (r: BarRow) => r.segments.reduce((a, s) => a + Math.max(0, s.value ?? 0), 0);
    const max = Math.max(...spec.rows.map(total), Number.MIN_VALUE);
    const H = spec.rows.length * (BAR_H + GAP) + 24;
    const sx = (v: number) => (v / max) * plotW;
    const bars = spec.rows.map((r, i) => {
      const y = i * (BAR_H + GAP);
      let x = LABEL_W;
      const rects = r.segments.map((s, j) => {
        const w = sx(Math.max(0, s.value ?? 0));
        const at = x;
        x += w;
        if (s.hidden || w <= 0) return nothing;
        const text = `${r.label} · ${s.name}: ${spec.format(s.value!)}`;
        return svg`<rect x=${at} y=${y} width=${Math.max(0.5, w)} height=${BAR_H} fill=${this.#color(s)} tabindex="0" data-row=${i} data-seg=${j}
          @mouseenter=${() => (this.hover = text)} @focus=${() => (this.hover = text)}><title>${text}</title></rect>`;
      });
      const visible = r.segments.filter((s) => !s.hidden).reduce((a, s) => a + (s.value ?? 0), 0);
      return svg`<text x=${LABEL_W - 6} y=${y + BAR_H / 2 + 4} text-anchor="end" fill="currentColor" font-size="12">${r.label}</text>
        ${rects}
        <text x=${x + 6} y=${y + BAR_H / 2 + 4} fill="currentColor" font-size="12">${r.note ?? spec.format(visible)}</text>`;
    });
    const axisY = spec.rows.length * (BAR_H + GAP);
    const used = spec.legend.filter((n) => spec.rows.some((r) => r.segments.some((s) => s.name === n && !s.hidden && (s.value ?? 0) > 0)));
    return html`<svg class="bars" viewBox="0 0 ${W} ${H}" role="img" aria-label=${this.label} @mouseleave=${() => (this.hover = '')}>
        ${bars}
        <line x1=${LABEL_W} x2=${LABEL_W + plotW} y1=${axisY} y2=${axisY} stroke="currentColor" stroke-opacity="0.3"></line>
        <text x=${LABEL_W} y=${axisY + 16} fill="currentColor" font-size="11">0</text>
        <text x=${LABEL_W + plotW} y=${axisY + 16} text-anchor="end" fill="currentColor" font-size="11">${spec.format(max)} (${spec.unit})</text>
      </svg>
      <p class="small hover" data-hover aria-live="polite">${this.hover || 'Hover a segment for its value.'}</p>
      <ul class="legend small">
        ${used.map((n) => html`<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=${seriesColor(spec.legend.indexOf(n))}></rect></svg> ${n}</li>`)}
      </ul>
      <details class="data small">
        <summary>data table</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>${spec.unit}</th>
                ${spec.rows.map((r) => html`<th class="num">${r.label}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${[...new Set(spec.rows.flatMap((r) => r.segments.filter((s) => !s.hidden).map((s) => s.name)))].map(
                (n) => html`<tr data-segment=${n}>
                  <td>${n}</td>
                  ${spec.rows.map((r) => {
                    const s = r.segments.find((x) => x.name === n && !x.hidden);
                    return html`<td class="num">${s && s.value !== null ? spec.format(s.value) : '—'}</td>`;
                  })}
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </details>`;
  }

  static override styles = [
    sharedStyles,
    css`
      svg.bars {
        width: 100%;
        height: auto;
        color: var(--kl-text);
        overflow: visible;
      }
      svg.swatch {
        vertical-align: -1px;
      }
      rect[tabindex]:focus {
        outline: none;
        stroke: var(--kl-focus);
        stroke-width: 2;
      }
      .legend li {
        display: flex;
        align-items: center;
        gap: 4px;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 14px;
        list-style: none;
        padding: 0;
        margin: 4px 0;
      }
      .hover {
        min-height: 1.2em;
        color: var(--kl-muted);
      }
      .data summary {
        cursor: pointer;
        color: var(--kl-muted);
      }
    `,
  ];
}

customElements.define('kl-stacked-bars', StackedBars);

declare global {
  interface HTMLElementTagNameMap {
    'kl-stacked-bars': StackedBars;
  }
}
