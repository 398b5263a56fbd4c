// What the step-throughs share: the line saying how a frame compares with the float64 reference, and styles.
import { html, css } from 'lit';
import type { CompareResult } from '../../kernels/compare.ts';
import { fmtExp } from '../run/display-number.ts';

export function checkLine(checks: CompareResult[]) {
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  return html`<p class="small ${ok ? 'muted' : 'error'}" data-frame-ok=${ok ? 'true' : 'false'}>
    This frame against the float64 reference: ${checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAILS'}${Number.isFinite(c.relL2) && c.relL2 > 0 ? ` (rel-L2 ${fmtExp(c.relL2)})` : ''}`).join(', ')}.
  </p>`;
}

/** Headings of a step-through's views. */
export const stepStyles = css`
  h4 {
    margin: 0.6rem 0 0.2rem;
    font-size: 0.9rem;
  }
`;
