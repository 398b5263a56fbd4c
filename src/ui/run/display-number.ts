// Numbers as the UI shows them: a NaN or an infinity is never printed as a number ("—" instead), so a
// broken measurement can only ever look missing, not plausible.
import { fmtNum, fmtPct } from '../../bench/format.ts';
import { bytes } from '../../memory/report.ts';

export { fmtNum, fmtPct };

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return `${fmtNum(ms)} ms`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '—';
  return bytes(n);
}

export function fmtExp(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x === 0 ? '0' : x.toExponential(1);
}

/** "T=7 S=37 Hq=3" for a small config (booleans and strings included). */
export function fmtConfig(config: Record<string, unknown>): string {
  return Object.entries(config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
