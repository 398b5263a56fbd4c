// Time vs context length (or tokens), as the UI's technique pages plot it: each series is one kernel at a
// base config, timed at every point of the sweep field. One point at a time, awaited, so a page stays
// responsive and Cancel acts between points (and between the timer's batches). A point the config rules
// refuse is a gap with the reason, and a point whose output holds NaN/Inf is a gap too: such a time is never
// plotted.
import type { GpuContext } from '../gpu/context.ts';
import type { AnyKernel, Config } from '../kernels/contract.ts';
import { validateConfig } from '../kernels/common/validate.ts';
import { timeShape } from './runner.ts';
import { median } from './stats.ts';
import { forEachItem } from './run-control.ts';

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

export interface SweepOptions {
  warmup: number;
  repeats: number;
  seed: number;
  signal?: AbortSignal;
  /** Before each point (and once at the end): points done, total, what runs now. */
  onPoint?: (done: number, total: number, label: string) => void;
}

/** Let the page paint and handle input (Cancel) between points. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Every series at every x, one point at a time, each timed by the runner's timeShape (the same timer, flush
 * and finite-output check as the suite). The run-control loop decides what a failure means: a lost device
 * or a cancel ends the sweep, an ordinary failure (a refused allocation) is that point's gap.
 */
export async function runSweep(ctx: GpuContext, series: SweepSeries[], field: string, xs: number[], o: SweepOptions): Promise<SweepResult> {
  const out: SweepResult = { field, xs, series: series.map((s) => ({ label: s.label, kernel: s.def.id, points: [] })) };
  const items = xs.flatMap((x) => series.map((s, i) => ({ x, s, i })));
  await forEachItem(
    ctx,
    items,
    async ({ x, s, i }, done) => {
      o.onPoint?.(done, items.length, `timing ${s.def.id} at ${field} = ${x}`);
      const config = configAt(s.def, s.config, field, x);
      const issues = validateConfig(s.def, config, ctx);
      if (issues.length) {
        out.series[i]!.points.push({ x, ms: null, note: `${issues[0]!.field}: ${issues[0]!.message}` });
      } else {
        const r = await timeShape(ctx, s.def, config, o, false);
        out.series[i]!.points.push(r.outputsFinite ? { x, ms: median(r.timing.samplesMs) } : { x, ms: null, note: 'output had NaN/Inf: not plotted' });
      }
      await yieldToEventLoop();
    },
    { signal: o.signal, onFailure: ({ x, i }, _done, message) => out.series[i]!.points.push({ x, ms: null, note: message }) },
  );
  o.onPoint?.(items.length, items.length, 'sweep done');
  return out;
}
