// One line saying how a step-through frame compares with the float64 reference (shared by the step-throughs).
import { html } from 'lit';
import type { CompareResult } from '../../kernels/compare.ts';
import { fmtExp } from '../run/display-number.ts';

export function checkLine(checks: CompareResult[]) {
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  return html`<p class="small ${ok ? 'muted' : 'error'}" data-frame-ok=${ok ? 'true' : 'false'}>
    This frame against the float64 reference: ${checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAILS'}${Number.isFinite(c.relL2) && c.relL2 > 0 ? ` (rel-L2 ${fmtExp(c.relL2)})` : ''}`).join(', ')}.
  </p>`;
}
