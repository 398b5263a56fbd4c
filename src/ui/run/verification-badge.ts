// <kl-verification-badge>: did the kernel match its float64 reference on a small random case, and by how
// much? A failed check, or a NaN/Inf in the timed output, is a red badge and hides the throughput numbers.
import { LitElement, html, css, nothing } from 'lit';
import type { KernelResult } from '../../bench/result-schema.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { fmtConfig, fmtExp } from './display-number.ts';

export function isTrusted(r: Pick<KernelResult, 'verification' | 'outputsFinite'>): boolean {
  return r.verification.ok && r.outputsFinite;
}

export class VerificationBadge extends LitElement {
  static override properties = { result: { attribute: false } };
  declare result: Pick<KernelResult, 'verification' | 'outputsFinite'> | undefined;

  override render() {
    const r = this.result;
    if (!r) return nothing;
    const v = r.verification;
    const worst = Math.max(...v.outputs.map((o) => (o.relL2 === null ? Infinity : o.relL2)));
    const label = !v.ok ? 'mismatch with the float64 reference' : !r.outputsFinite ? 'non-finite output (NaN or Inf)' : `verified · rel-L2 ${fmtExp(worst)}`;
    return html`<span class="badge ${isTrusted(r) ? 'ok' : 'bad'}" data-verified=${isTrusted(r) ? 'ok' : 'failed'}>${isTrusted(r) ? '✓' : '✗'} ${label}</span>
      <details class="small">
        <summary>check details</summary>
        <p class="muted">
          Run on a small random case (${fmtConfig(v.config)}, seed ${v.seed}) and compared with the float64 CPU reference; outputs
          poisoned with NaN before the run, so an unwritten element fails.
        </p>
        <table>
          <thead>
            <tr><th>output</th><th class="num">rel-L2</th><th class="num">max-abs</th><th>result</th></tr>
          </thead>
          <tbody>
            ${v.outputs.map(
              (o) => html`<tr>
                <td><code>${o.name}</code></td>
                <td class="num">${fmtExp(o.relL2)}</td>
                <td class="num">${fmtExp(o.maxAbs)}</td>
                <td>${o.ok ? 'ok' : html`<span class="error">fails</span>`}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </details>`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      details {
        margin-top: 4px;
      }
    `,
  ];
}

customElements.define('kl-verification-badge', VerificationBadge);

declare global {
  interface HTMLElementTagNameMap {
    'kl-verification-badge': VerificationBadge;
  }
}
