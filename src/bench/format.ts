// Plain-text rendering of results for the terminal (the UI draws its own table and charts).
import type { KernelResult, ResultFile, StudyDigest } from './result-schema.ts';
import type { Roofline } from './roofline.ts';
import { geometryLines } from './geometry.ts';
import { comparable } from './result-checks.ts';
import { printable } from '../io/printable.ts';

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

export const RESULT_COLUMNS = ['kernel', 'shape', 'median ms', 'p10–p90 ms', 'GB/s', 'GFLOP/s', '% read BW', '% copy BW', '% FMA peak', 'workgroups', 'timer', 'verified'] as const;

export function resultRow(r: KernelResult): string[] {
  const verified = r.verification.ok && r.outputsFinite ? `ok ${maxRel(r)}` : r.verification.ok ? 'NON-FINITE' : 'MISMATCH';
  return [
    r.kernel,
    r.shape + (r.config.dtype === 'f16' ? ' [f16]' : ''),
    fmtNum(r.medianMs),
    `${fmtNum(r.p10Ms)}–${fmtNum(r.p90Ms)}`,
    fmtNum(r.gbps),
    fmtNum(r.gflops),
    r.readFraction === undefined ? '—' : fmtPct(r.readFraction),
    fmtPct(r.copyFraction),
    fmtPct(r.fmaFraction),
    r.geometry ? String(r.geometry.workgroups) : '—',
    timerCell(r),
    verified,
  ];
}

/** "ts ×40" (GPU timestamps, 40 runs per timestamp pair) or "wall ×1"; "!" when a sample was near the resolution. */
export function timerCell(r: KernelResult): string {
  const m = r.method === 'gpu-timestamps' ? 'ts' : 'wall';
  if (!r.timer) return m;
  return `${m} ×${r.timer.runsPerSample}${r.timer.coarseSamples ? ' !' : ''}`;
}

/**
 * How the numbers were made: method, the clock's resolution, samples, runs per sample, baseline, warnings
 * (the CLI prints these under its table, the UI under its results table).
 */
export function timerLines(results: readonly KernelResult[]): string[] {
  const timed = results.filter((r) => r.timer);
  if (!timed.length) return [];
  const t = timed[0]!.timer!;
  const us = (ms: number) => `${fmtNum(ms * 1000)} µs`;
  const lines = [
    `timer: ${t.method === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock (submit to done)'}, resolution ${us(t.resolutionMs)}${t.quantised ? ' (quantised: values fall on its multiples)' : ''}; ` +
      (t.stamped === 'each-run'
        ? `each sample = R runs back to back, a timestamp pair around each run's pass, summed (R in the timer column: >= 100x the resolution and >= 1 ms), ` +
          `minus an empty pass measured the same way; the ${fmtNum(t.flushBytes / 2 ** 20)} MiB cache clear before every run lies outside every pair; `
        : `each sample = R runs back to back between one timestamp pair (R in the timer column: a batch >= 100x the resolution and >= 1 ms), ` +
          `minus an empty-pass baseline measured the same way${t.flushBytes ? `, which includes the ${fmtNum(t.flushBytes / 2 ** 20)} MiB cache clear before every run` : ', no cache clear'}; `) +
      `${timed[0]!.samplesMs.length} samples per shape; warm-up by time (>= 200 ms or two medians within 5%)`,
  ];
  for (const r of timed) {
    if (r.timer!.coarseSamples) lines.push(`  warning: ${r.kernel} ${r.shape}: ${r.timer!.coarseSamples} sample(s) within 10x of the clock's resolution: not trustworthy`);
  }
  if (t.quantised && t.resolutionMs >= 0.05) {
    lines.push('  note: this clock is quantised; in Chrome, chrome://flags/#enable-webgpu-developer-features gives unquantised timestamps');
  }
  return lines;
}

function maxRel(r: KernelResult): string {
  const worst = r.verification.outputs.reduce((w, o) => Math.max(w, o.relL2 ?? Infinity), -Infinity);
  return Number.isFinite(worst) ? `(${worst.toExponential(0)})` : '';
}

export function table(header: readonly string[], rows: string[][]): string {
  // A loop, not Math.max(...rows): a spread of 100k rows overflows the call stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function rooflineLine(r: Roofline): string {
  const read = r.readGBps === undefined ? '' : `read ${fmtNum(r.readGBps)} GB/s, `;
  return `measured roofline: ${read}copy ${fmtNum(r.copyGBps)} GB/s, f32 FMA ${fmtNum(r.fmaGflops)} GFLOP/s (${r.method})`;
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
    // A speed-up is only worth printing between two rows that both computed the right answer.
    const naive = group.find((r) => r.kernel === 'attention.naive');
    if (!naive || !comparable(naive)) continue;
    for (const r of group) {
      if (r === naive || !comparable(r)) continue;
      lines.push(`${r.kernel} vs attention.naive at ${r.shape}: ${(naive.medianMs / r.medianMs).toFixed(2)}x faster (${fmtNum(r.medianMs)} ms vs ${fmtNum(naive.medianMs)} ms)`);
    }
  }
  return lines;
}

export function stageLine(r: KernelResult): string {
  const stages = r.stages ?? [];
  const parts = stages.map((s) => `${s.name} ${fmtNum(s.medianMs)} ms (${fmtPct(s.share)})`);
  const sum = stages.reduce((a, s) => a + s.medianMs, 0);
  const whole = r.stagesWholeMs === undefined ? '' : `; stage sum ${fmtNum(sum)} ms vs whole ${fmtNum(r.stagesWholeMs)} ms in the same runs (${fmtPct(sum / r.stagesWholeMs - 1)} off)`;
  return `  ${r.kernel} ${r.shape}: ${parts.join(' · ')}${whole}; timed whole (with flush) ${fmtNum(r.medianMs)} ms`;
}

export function renderResultFile(file: ResultFile): string {
  const a = file.environment.adapter;
  const out = [
    `adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')} via ${a.backend}; timing: ${file.roofline.method}`,
    rooflineLine(file.roofline),
    ...(file.incomplete ? [`INCOMPLETE: ${file.incomplete}`] : []),
    '',
    table(RESULT_COLUMNS, file.results.map(resultRow)),
    ...timerLines(file.results),
  ];
  const staged = file.results.filter((r) => r.stages?.length);
  if (staged.length) out.push('', 'time per stage (timestamps at the stage boundaries of the same runs, one command buffer; share of their sum):', ...staged.map(stageLine));
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
  // Last line of defence: a ratio over a zero a study did not foresee shows as a dash, never as a number.
  const clean = (s: string) => printable(s).replace(/-?\b(?:NaN|Infinity)/g, '—');
  const cell = (c: string | number | null) => (c === null || (typeof c === 'number' && !Number.isFinite(c)) ? '—' : clean(String(c)));
  return [`study ${clean(d.id)}: ${clean(d.title)}`, table(d.columns.map(clean), d.rows.map((r) => r.map(cell))), ...d.notes.map((n) => `  ${clean(n)}`)].join('\n');
}
