// <kl-run-comparison>: several runs side by side — e.g. a CLI run from a server GPU beside this browser's
// run. One row per (kernel, shape) found in any run; for each run its median time, GB/s and fraction of its
// own measured copy bandwidth; a chart of achieved GB/s per job on a log scale. A result that failed
// verification or had a non-finite output shows no number.
import { LitElement, html, css, nothing } from 'lit';
import type { KernelResult } from '../../bench/result-schema.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import { fmtNum, fmtPct } from '../run/display-number.ts';
import type { LoadedRun } from './result-import.ts';
import '../charts/line-chart.ts';

export interface ComparisonRow {
  kernel: string;
  shape: string;
  /** One entry per run, undefined where the run has no such result. */
  cells: (KernelResult | undefined)[];
}

export function comparisonRows(runs: readonly LoadedRun[]): ComparisonRow[] {
  const rows = new Map<string, ComparisonRow>();
  runs.forEach((run, i) => {
    for (const r of run.file.results) {
      const key = `${r.kernel}\u0000${r.shape}`;
      let row = rows.get(key);
      if (!row) {
        row = { kernel: r.kernel, shape: r.shape, cells: runs.map(() => undefined) };
        rows.set(key, row);
      }
      row.cells[i] = r;
    }
  });
  return [...rows.values()];
}

export function runLabel(run: LoadedRun): string {
  const a = run.file.environment.adapter;
  const gpu = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  return `${run.name} · ${gpu}`;
}

const trusted = (r: KernelResult | undefined): boolean => !!r && r.verification.ok && r.outputsFinite;

/** Time of a run's result over the first run's (2.0x = twice as slow as the first run; 0.5x = twice as fast). */
export function timeRatio(row: ComparisonRow, i: number): number | undefined {
  const first = row.cells[0];
  const c = row.cells[i];
  return trusted(first) && trusted(c) && first!.medianMs > 0 ? c!.medianMs / first!.medianMs : undefined;
}

const fmtRatio = (x: number) => `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(2)}x`;

export class RunComparison extends LitElement {
  static override properties = { runs: { attribute: false } };
  declare runs: readonly LoadedRun[];

  constructor() {
    super();
    this.runs = [];
  }

  #chart(rows: ComparisonRow[]): ChartSpec {
    // Tick labels: kernel and the start of the shape name, numbered where two would read the same.
    const base = rows.map((r) => `${r.kernel.split('.').pop()} ${r.shape.split(' ').slice(0, 2).join(' ')}`);
    const short = base.map((b, i) => (base.indexOf(b) !== base.lastIndexOf(b) ? `${b} #${base.slice(0, i + 1).filter((x) => x === b).length}` : b));
    return {
      xs: rows.map((_, i) => i),
      // Later runs get smaller markers, so equal results show as rings instead of hiding each other.
      series: this.runs.map((run, i) => ({
        label: runLabel(run),
        values: rows.map((r) => (trusted(r.cells[i]) ? r.cells[i]!.gbps : null)),
        markerSize: Math.max(4, 14 - 4 * i),
      })),
      xLabel: 'kernel · shape',
      yLabel: 'GB/s',
      logY: true,
      kind: 'points',
      categoricalX: true,
      formatX: (x) => short[x] ?? '',
      formatY: (y) => fmtNum(y),
    };
  }

  override render() {
    if (!this.runs.length) return nothing;
    const rows = comparisonRows(this.runs);
    return html`<div class="table-wrap">
        <table data-bench="comparison">
          <thead>
            <tr>
              <th rowspan="2">kernel</th>
              <th rowspan="2">shape</th>
              ${this.runs.map((run, i) => html`<th colspan=${i ? 4 : 3} class="run">${runLabel(run)}</th>`)}
            </tr>
            <tr>
              ${this.runs.map(
                (_, i) =>
                  html`<th class="num">median ms</th><th class="num">GB/s</th><th class="num">% copy BW</th>${i
                      ? html`<th class="num" title="this run's median time over the first run's: below 1x is faster">time vs first</th>`
                      : nothing}`,
              )}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) => html`<tr>
                <td class="mono">${row.kernel}</td>
                <td>${row.shape}</td>
                ${row.cells.map((c, i) => {
                  const ratio = timeRatio(row, i);
                  const ratioCell = i ? html`<td class="num" data-ratio>${ratio === undefined ? '—' : fmtRatio(ratio)}</td>` : nothing;
                  return !c
                    ? html`<td class="num muted" colspan="3">not in this run</td>${ratioCell}`
                    : !trusted(c)
                      ? html`<td class="num error" colspan="3">${c.verification.ok ? 'non-finite output' : 'failed verification'}</td>${ratioCell}`
                      : html`<td class="num">${fmtNum(c.medianMs)}</td><td class="num">${fmtNum(c.gbps)}</td><td class="num">${fmtPct(c.copyFraction)}</td>${ratioCell}`;
                })}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <ul class="small muted runs">
        ${this.runs.map(
          (run) =>
            html`<li>
              <strong>${runLabel(run)}</strong>: ${run.file.environment.runtime}, ${run.file.createdAt}; roofline copy ${fmtNum(run.file.roofline.copyGBps)} GB/s, FMA
              ${fmtNum(run.file.roofline.fmaGflops)} GFLOP/s (${run.file.roofline.method}); ${run.file.results.length} results
            </li>`,
        )}
      </ul>
      <kl-line-chart .spec=${this.#chart(rows)} .height=${300} label="achieved GB/s per kernel and shape, one colour per run"></kl-line-chart>`;
  }

  static override styles = [
    sharedStyles,
    css`
      td.mono {
        font-family: var(--kl-mono);
        font-size: 0.85em;
        white-space: nowrap;
      }
      th.run {
        text-align: center;
        border-left: 1px solid var(--kl-border);
      }
      .runs {
        padding-left: 18px;
      }
    `,
  ];
}

customElements.define('kl-run-comparison', RunComparison);

declare global {
  interface HTMLElementTagNameMap {
    'kl-run-comparison': RunComparison;
  }
}
