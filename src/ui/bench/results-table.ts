// <kl-results-table>: one run's results in the CLI's own columns (resultRow from src/bench/format.ts, which
// prints "—" for anything non-finite and MISMATCH / NON-FINITE where verification failed), plus the shapes
// that were refused with their reasons, and under it the CLI's lines on how the numbers were made (clock
// resolution, runs per timestamp pair, baseline, a warning per result with samples near the resolution, and
// where to turn Chrome's timestamp quantisation off).
import { LitElement, html, css, nothing } from 'lit';
import { RESULT_COLUMNS, resultRow, timerLines } from '../../bench/format.ts';
import type { KernelResult, ResultFile } from '../../bench/result-schema.ts';
import { sharedStyles } from '../shell/shared-styles.ts';

export class ResultsTable extends LitElement {
  static override properties = { results: { attribute: false }, errors: { attribute: false } };
  declare results: readonly KernelResult[];
  declare errors: ResultFile['errors'];

  constructor() {
    super();
    this.results = [];
    this.errors = [];
  }

  override render() {
    return html`<div class="table-wrap">
        <table data-bench="results">
          <thead>
            <tr>
              ${RESULT_COLUMNS.map((c, i) => html`<th class=${i >= 2 ? 'num' : ''}>${c}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${this.results.map((r) => {
              const row = resultRow(r);
              const ok = r.verification.ok && r.outputsFinite;
              return html`<tr>
                ${row.map((c, i) =>
                  i === row.length - 1 ? html`<td class="num verified ${ok ? '' : 'error'}">${c}</td>` : html`<td class=${i >= 2 ? 'num' : i === 0 ? 'mono' : ''}>${c}</td>`,
                )}
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      ${this.results.length
        ? html`<ul class="small muted timer" data-timer-notes>
            ${timerLines(this.results).map((l) => html`<li class=${l.includes('warning:') ? 'error' : ''}>${l.trim()}</li>`)}
          </ul>`
        : nothing}
      ${this.errors.length
        ? html`<details class="small" open>
            <summary>${this.errors.length} shape(s) not run</summary>
            <ul>
              ${this.errors.map((e) => html`<li><code>${e.kernel}</code> ${e.shape}: ${e.message}</li>`)}
            </ul>
          </details>`
        : nothing}`;
  }

  static override styles = [
    sharedStyles,
    css`
      td.mono {
        font-family: var(--kl-mono);
        font-size: 0.85em;
        white-space: nowrap;
      }
      td.verified {
        white-space: nowrap;
      }
      ul.timer {
        padding-left: 18px;
        margin: 6px 0 0;
      }
    `,
  ];
}

customElements.define('kl-results-table', ResultsTable);

declare global {
  interface HTMLElementTagNameMap {
    'kl-results-table': ResultsTable;
  }
}
