// Time vs context length (or tokens): each series is one kernel at a base config, timed at every point of
// the sweep field. One point at a time, awaited, so the page stays responsive and Cancel acts between
// points (and between the timer's batches). A point the config rules refuse is a gap with the reason, and
// a point whose output holds NaN/Inf is a gap too: such a time is never plotted.
import type { GpuContext } from '../../gpu/context.ts';
import type { AnyKernel, Config } from '../../kernels/contract.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import { timeShape } from '../../bench/runner.ts';
import { median } from '../../bench/stats.ts';
import { describeError, DeviceLostError } from '../../gpu/errors.ts';
import { isCancel, throwIfCancelled, yieldToBrowser } from './progress.ts';

export interface SweepSeries {
  label: string;
  def: AnyKernel;
  config: Config;
}

export interface SweepPoint {
  x: number;
  /** Median milliseconds, or null when the point could not be timed (see note). */
  ms: number | null;
  note?: string;
}

export interface SweepResult {
  field: string;
  xs: number[];
  series: { label: string; kernel: string; points: SweepPoint[] }[];
}

/** The base config with the sweep field set to x, keeping dependent fields consistent (T <= S, cache start). */
export function configAt(def: AnyKernel, base: Config, field: string, x: number): Config {
  const c: Config = { ...base, [field]: x };
  if (field === 'S' && 'T' in def.schema && typeof c.T === 'number') c.T = Math.min(c.T, x);
  if (field === 'S' && 'start' in def.schema && typeof c.T === 'number') c.start = x - c.T;
  if (field === 'S' && 'rows' in def.schema && 'causal' in def.schema && c.causal === true && typeof c.rows === 'number') c.rows = Math.min(c.rows, x);
  return c;
}

export interface TimeOptions {
  warmup: number;
  repeats: number;
  seed: number;
  signal?: AbortSignal;
}

/** One point: the bench runner's timeShape (same timer, flush and finite-output check as the suite). */
export async function timeKernel(ctx: GpuContext, def: AnyKernel, config: Config, o: TimeOptions): Promise<{ ms: number; finite: boolean }> {
  const r = await timeShape(ctx, def, config, o, false);
  return { ms: median(r.timing.samplesMs), finite: r.outputsFinite };
}

export async function runSweep(
  ctx: GpuContext,
  series: SweepSeries[],
  field: string,
  xs: number[],
  o: TimeOptions & { onPoint?: (done: number, total: number, label: string) => void },
): Promise<SweepResult> {
  const out: SweepResult = { field, xs, series: series.map((s) => ({ label: s.label, kernel: s.def.id, points: [] })) };
  const total = series.length * xs.length;
  let done = 0;
  for (const x of xs) {
    for (const [i, s] of series.entries()) {
      throwIfCancelled(o.signal);
      o.onPoint?.(done, total, `timing ${s.def.id} at ${field} = ${x}`);
      const config = configAt(s.def, s.config, field, x);
      const issues = validateConfig(s.def, config, ctx);
      let point: SweepPoint;
      if (issues.length) {
        point = { x, ms: null, note: `${issues[0]!.field}: ${issues[0]!.message}` };
      } else {
        try {
          const r = await timeKernel(ctx, s.def, config, o);
          point = r.finite ? { x, ms: r.ms } : { x, ms: null, note: 'output had NaN/Inf: not plotted' };
        } catch (e) {
          // A lost device or a cancel ends the sweep; a refused allocation only loses this point.
          if (e instanceof DeviceLostError || isCancel(e)) throw e;
          point = { x, ms: null, note: describeError(e) };
        }
      }
      out.series[i]!.points.push(point);
      done++;
      await yieldToBrowser();
    }
  }
  o.onPoint?.(done, total, 'sweep done');
  return out;
}
