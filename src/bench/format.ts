// Plain-text rendering of results for the terminal (the UI draws its own table and charts).
import type { KernelResult, ResultFile, StudyDigest } from './result-schema.ts';
import type { Roofline } from './roofline.ts';
import { geometryLines } from './geometry.ts';

export function fmtNum(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  return x.toPrecision(digits);
}

export function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%` : '—';
}

export const RESULT_COLUMNS = ['kernel', 'shape', 'median ms', 'p10–p90 ms', 'GB/s', 'GFLOP/s', '% copy BW', '% FMA peak', 'workgroups', 'verified'] as const;

export function resultRow(r: KernelResult): string[] {
  const verified = r.verification.ok && r.outputsFinite ? `ok ${maxRel(r)}` : r.verification.ok ? 'NON-FINITE' : 'MISMATCH';
  return [
    r.kernel,
    r.shape + (r.config.dtype === 'f16' ? ' [f16]' : ''),
    fmtNum(r.medianMs),
    `${fmtNum(r.p10Ms)}–${fmtNum(r.p90Ms)}`,
    fmtNum(r.gbps),
    fmtNum(r.gflops),
    fmtPct(r.copyFraction),
    fmtPct(r.fmaFraction),
    r.geometry ? String(r.geometry.workgroups) : '—',
    verified,
  ];
}

function maxRel(r: KernelResult): string {
  const worst = Math.max(...r.verification.outputs.map((o) => o.relL2 ?? Infinity));
  return Number.isFinite(worst) ? `(${worst.toExponential(0)})` : '';
}

export function table(header: readonly string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function rooflineLine(r: Roofline): string {
  return `measured roofline: copy ${fmtNum(r.copyGBps)} GB/s, f32 FMA ${fmtNum(r.fmaGflops)} GFLOP/s (${r.method})`;
}

/** Speed ratios between kernels that compute the same thing at the same shape (e.g. flash vs naive prefill). */
export function comparisons(file: ResultFile): string[] {
  const lines: string[] = [];
  const byShape = new Map<string, KernelResult[]>();
  for (const r of file.results) {
    const key = `${r.family}|${r.shape}|${JSON.stringify(r.config)}`;
    byShape.set(key, [...(byShape.get(key) ?? []), r]);
  }
  for (const group of byShape.values()) {
    const naive = group.find((r) => r.kernel === 'attention.naive');
    if (!naive) continue;
    for (const r of group) {
      if (r === naive) continue;
      lines.push(`${r.kernel} vs attention.naive at ${r.shape}: ${(naive.medianMs / r.medianMs).toFixed(2)}x faster (${fmtNum(r.medianMs)} ms vs ${fmtNum(naive.medianMs)} ms)`);
    }
  }
  return lines;
}

export function stageLine(r: KernelResult): string {
  const parts = (r.stages ?? []).map((s) => `${s.name} ${fmtNum(s.medianMs)} ms (${fmtPct(s.share)})`);
  return `  ${r.kernel} ${r.shape}: ${parts.join(' · ')}`;
}

export function renderResultFile(file: ResultFile): string {
  const a = file.environment.adapter;
  const out = [
    `adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')} via ${a.backend}; timing: ${file.roofline.method}`,
    rooflineLine(file.roofline),
    '',
    table(RESULT_COLUMNS, file.results.map(resultRow)),
  ];
  const staged = file.results.filter((r) => r.stages?.length);
  if (staged.length) out.push('', 'time per stage (each stage timed alone; share of their sum):', ...staged.map(stageLine));
  const shaped = file.results.filter((r) => r.geometry);
  if (shaped.length) {
    out.push('', 'dispatch geometry per run:');
    for (const r of shaped) out.push(`  ${r.kernel} ${r.shape}: ${r.geometry!.workgroups} workgroups`, ...geometryLines(r.geometry!.dispatches, r.cost.bytes));
  }
  const cmp = comparisons(file);
  if (cmp.length) out.push('', ...cmp);
  if (file.errors.length) out.push('', 'not run:', ...file.errors.map((e) => `  ${e.kernel} ${e.shape}: ${e.message}`));
  return out.join('\n');
}

/** A study's answer as a terminal table (numbers as the digest rounded them) and its notes. */
export function renderDigest(d: StudyDigest): string {
  const cell = (c: string | number | null) => (c === null ? '—' : typeof c === 'number' ? String(c) : c);
  return [`study ${d.id}: ${d.title}`, table(d.columns, d.rows.map((r) => r.map(cell))), ...d.notes.map((n) => `  ${n}`)].join('\n');
}
