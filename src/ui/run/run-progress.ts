// <kl-run-progress>: the progress bar of a long job, with its current step and a Cancel button that
// aborts the job's AbortController (the page stays usable meanwhile: work is awaited in batches).
import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { Progress } from './progress.ts';

export class RunProgress extends LitElement {
  static override properties = { progress: { attribute: false } };
  declare progress: Progress | undefined;

  override render() {
    const p = this.progress;
    if (!p) return nothing;
    const pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : 0;
    return html`<div class="bar row" role="status" aria-live="polite">
      <progress max=${p.total} .value=${p.done} aria-label="progress">${pct}%</progress>
      <span class="small">${pct}% · ${p.label}</span>
      <button @click=${() => this.dispatchEvent(new Event('cancel', { bubbles: true, composed: true }))}>Cancel</button>
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      progress {
        width: min(320px, 100%);
        height: 14px;
        accent-color: var(--kl-accent);
      }
    `,
  ];
}

customElements.define('kl-run-progress', RunProgress);

declare global {
  interface HTMLElementTagNameMap {
    'kl-run-progress': RunProgress;
  }
}
