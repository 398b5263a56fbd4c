// What a result file must satisfy beyond its schema before anything of it is shown: statistics that a timer
// can produce. A file edited by hand or written by a broken tool (p10 above the median, a zero median that
// turns every ratio into Infinity, 12300% of the copy bandwidth) is refused, naming the row.
import { quote } from '../io/printable.ts';
import type { KernelResult, ResultFile } from './result-schema.ts';

/**
 * Largest believable fraction of a measured peak: caches can serve a small working set faster than the
 * copy probe streams DRAM, but not by more than this (10 = 1000%).
 */
export const MAX_PEAK_FRACTION = 10;

function rowName(r: KernelResult, i: number): string {
  return `results[${i}] (${quote(r.kernel)} ${quote(r.shape)})`;
}

/** One line per impossible statistic (empty when the file is believable); stops after `limit` lines. */
export function statisticsIssues(file: ResultFile, limit = 10): string[] {
  const issues: string[] = [];
  for (let i = 0; i < file.results.length && issues.length < limit; i++) {
    const r = file.results[i]!;
    const at = rowName(r, i);
    if (!(r.medianMs > 0)) issues.push(`${at}: median ${r.medianMs} ms is not a measured time (must be > 0)`);
    const order: [string, number][] = [['min', r.minMs], ['p10', r.p10Ms], ['median', r.medianMs], ['p90', r.p90Ms], ['max', r.maxMs]];
    for (let j = 1; j < order.length; j++) {
      const [a, x] = order[j - 1]!;
      const [b, y] = order[j]!;
      if (x > y) {
        issues.push(`${at}: ${a} ${x} ms > ${b} ${y} ms (order statistics must not decrease)`);
        break;
      }
    }
    const fractions: [string, number | undefined][] = [['copyFraction', r.copyFraction], ['fmaFraction', r.fmaFraction], ['readFraction', r.readFraction]];
    for (const [name, f] of fractions) {
      if (f !== undefined && f > MAX_PEAK_FRACTION) issues.push(`${at}: ${name} ${f} is ${Math.round(f * 100)}% of the measured peak, above the ${MAX_PEAK_FRACTION * 100}% any cache could explain`);
    }
    for (const s of r.stages ?? []) {
      if (s.share > 1 + 1e-6) issues.push(`${at}: stage ${quote(s.name)} has a share of ${s.share}, above 1`);
    }
  }
  const roof = file.roofline;
  if (issues.length < limit && !(roof.copyGBps > 0 && roof.fmaGflops > 0)) issues.push(`roofline: copy ${roof.copyGBps} GB/s and FMA ${roof.fmaGflops} GFLOP/s must both be > 0`);
  return issues;
}

/** The rows a speed-up may be computed from: verified against the reference, outputs finite, time > 0. */
export function comparable(r: KernelResult): boolean {
  return r.verification.ok && r.outputsFinite && r.medianMs > 0;
}
