// <kl-line-chart>: the app's one chart component, on uPlot. uPlot was chosen because it is small (~50 KB),
// draws on a canvas (fast with thousands of points), has real log scales, and never evaluates strings as
// code, so it runs under the site's CSP without 'unsafe-eval'. Its stylesheet is adopted into the shadow
// root. Every chart also carries its numbers as a table (for screen readers, copying, and tests).
import { LitElement, html, css, nothing, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { sharedStyles } from '../shell/shared-styles.ts';
import { seriesColor, themeColor } from './chart-colors.ts';

export interface ChartSeries {
  label: string;
  /** One value per x; null is a gap (a point that was not measured or not finite). */
  values: (number | null)[];
  color?: string;
  dash?: boolean;
  /** Overrides the chart's kind for this series (e.g. a mean line over bars). */
  kind?: 'line' | 'bars' | 'points';
  /** Draw a marker at each value (default: yes, except for bars). Off for reference lines such as a mean. */
  markers?: boolean;
  /** Marker diameter in px (default 6, 8 for point charts). */
  markerSize?: number;
}

export interface ChartSpec {
  xs: number[];
  series: ChartSeries[];
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  /** Base of the log y axis (default 10; 2 puts ticks at powers of two, e.g. KiB / MiB / GiB). */
  logBaseY?: 2 | 10;
  kind?: 'line' | 'bars' | 'points';
  /** Tick / table text for an x or y value. */
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
  /** Ticks only at the data's x values (categories, e.g. experts or jobs). */
  categoricalX?: boolean;
  /** x is a count (steps, experts): ticks at whole numbers only. */
  integerX?: boolean;
}

export class LineChart extends LitElement {
  static override properties = { spec: { attribute: false }, height: { type: Number }, label: { type: String } };
  declare spec: ChartSpec | undefined;
  declare height: number;
  /** What the chart shows, for assistive technology. */
  declare label: string;
  #plot: uPlot | undefined;
  #resize: ResizeObserver | undefined;
  #themeObserver: MutationObserver | undefined;

  constructor() {
    super();
    this.height = 260;
    this.label = 'chart';
  }

  override connectedCallback() {
    super.connectedCallback();
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(this);
    // Redraw with the new axis colours when the theme flips.
    this.#themeObserver = new MutationObserver(() => this.#draw());
    this.#themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#themeObserver?.disconnect();
    this.#plot?.destroy();
    this.#plot = undefined;
  }

  override updated() {
    this.#draw();
  }

  #width(): number {
    return Math.max(240, Math.floor(this.getBoundingClientRect().width || 480));
  }

  #fit() {
    if (this.#plot && Math.abs(this.#plot.width - this.#width()) > 2) this.#plot.setSize({ width: this.#width(), height: this.height });
  }

  #hasData(): boolean {
    return !!this.spec && this.spec.series.some((s) => s.values.some((v) => v !== null && Number.isFinite(v) && (!this.spec!.logY || v > 0)));
  }

  #draw() {
    this.#plot?.destroy();
    this.#plot = undefined;
    const spec = this.spec;
    const target = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!spec || !target || !this.#hasData()) return;
    const text = themeColor(this, '--kl-text', '#222');
    const grid = themeColor(this, '--kl-border', '#ddd');
    // uPlot merges options key by key: a key set to undefined would erase its default, so only set what is used.
    const axis = (label: string, fmt?: (v: number) => string): uPlot.Axis => {
      const a: uPlot.Axis = { label, stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      if (fmt) a.values = (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : fmt(v)));
      return a;
    };
    const xs = spec.xs;
    const xAxis = axis(spec.xLabel, spec.formatX);
    if (spec.integerX) xAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
    if (spec.categoricalX) {
      xAxis.splits = () => xs;
      if (xs.length > 12) {
        xAxis.rotate = -60;
        xAxis.size = 90;
      }
    }
    const xScale: uPlot.Scale = spec.logX ? { distr: 3, log: 2, time: false } : { time: false };
    const barSeries = spec.series.filter((s) => (s.kind ?? spec.kind) === 'bars').length;
    // Categories and bars get half a step of room at both ends, so the first and last bar are not cut off.
    if (spec.categoricalX || barSeries) {
      const step = xs.length > 1 ? Math.min(...xs.slice(1).map((x, i) => x - xs[i]!)) : 1;
      xScale.range = (_u, min, max) => [min - 0.6 * step, max + 0.6 * step];
    }
    const opts: uPlot.Options = {
      width: this.#width(),
      height: this.height,
      scales: {
        x: xScale,
        y: spec.logY ? { distr: 3, log: spec.logBaseY ?? 10 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      axes: [xAxis, { ...axis(spec.yLabel, spec.formatY), size: 70 }],
      // Hover (or touch) a point: the legend shows every series' value at that x; the data table has them all.
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: spec.xLabel, value: (_u, v) => (v === null ? '—' : spec.formatX ? spec.formatX(v) : String(v)) },
        ...spec.series.map((s, i) => {
          const kind = s.kind ?? spec.kind ?? 'line';
          const stroke = s.color ?? seriesColor(i);
          const series: uPlot.Series = {
            label: s.label,
            stroke,
            width: 2,
            spanGaps: false,
            value: (_u, v) => (v === null || !Number.isFinite(v) ? '—' : spec.formatY ? spec.formatY(v) : String(v)),
            points: { show: kind !== 'bars' && s.markers !== false, size: s.markerSize ?? (kind === 'points' ? 8 : 6), fill: stroke },
          };
          if (s.dash) series.dash = [6, 4];
          if (kind === 'bars') {
            series.paths = uPlot.paths.bars!({ size: [0.8 / barSeries, 60], align: 0 });
            series.fill = stroke;
          }
          if (kind === 'points') series.paths = () => null;
          return series;
        }),
      ],
    };
    const data: uPlot.AlignedData = [xs, ...spec.series.map((s) => s.values.map((v) => (v === null || !Number.isFinite(v) ? null : v)))];
    this.#plot = new uPlot(opts, data, target);
  }

  override render() {
    const spec = this.spec;
    if (!spec) return nothing;
    const fx = spec.formatX ?? ((x: number) => String(x));
    const fy = (y: number | null) => (y === null || !Number.isFinite(y) ? '—' : spec.formatY ? spec.formatY(y) : String(y));
    return html`<div class="plot" role="img" aria-label=${this.label}></div>
      ${this.#hasData() ? nothing : html`<p class="muted empty">No measured points to plot yet.</p>`}
      <details class="data small">
        <summary>data table</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>${spec.xLabel}</th>
                ${spec.series.map((s) => html`<th class="num">${s.label}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${spec.xs.map(
                (x, i) => html`<tr>
                  <td>${fx(x)}</td>
                  ${spec.series.map((s) => html`<td class="num">${fy(s.values[i] ?? null)}</td>`)}
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </details>`;
  }

  static override styles = [
    sharedStyles,
    unsafeCSS(uplotCss),
    css`
      .plot {
        min-height: 40px;
      }
      .uplot {
        width: 100%;
        font-family: var(--kl-font);
        color: var(--kl-text);
      }
      .u-legend {
        font-size: 0.85rem;
        text-align: left;
      }
      .empty {
        margin: 8px 0;
      }
      .data summary {
        cursor: pointer;
        color: var(--kl-muted);
      }
    `,
  ];
}

customElements.define('kl-line-chart', LineChart);

declare global {
  interface HTMLElementTagNameMap {
    'kl-line-chart': LineChart;
  }
}
