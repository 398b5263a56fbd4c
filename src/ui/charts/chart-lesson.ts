// The lesson of a technique chart, from the measured sweep and the cost model: the kernel's "ideal" time
// (the baseline's measured time scaled by the two kernels' roofline times: what the kernel would take at the
// baseline's efficiency), where the measured curves cross, and one sentence saying it. Where no crossing
// falls inside the sweep, the cost model says where it would be (assuming both kernels reach the same
// fraction of the roofline), or that it predicts none.
import type { AnyKernel, Config, Cost } from '../../kernels/contract.ts';
import { configAt } from '../../bench/sweep.ts';

export interface LessonSeries {
  label: string;
  def: AnyKernel;
  config: Config;
  /** Measured median ms per sweep point (null: not measured). */
  ms: (number | null)[];
}

export interface Ceilings {
  copyGBps: number;
  fmaGflops: number;
}

/** The cost model's time: the slower of moving its minimum bytes and doing its FLOPs at the measured ceilings. */
export function roofMs(cost: Cost, roof: Ceilings): number {
  return Math.max(cost.bytes / (roof.copyGBps * 1e9), cost.flops / (roof.fmaGflops * 1e9)) * 1e3;
}

function costAt(s: Pick<LessonSeries, 'def' | 'config'>, field: string, x: number): Cost {
  return s.def.cost(configAt(s.def, s.config, field, x));
}

/** The kernel at the baseline's efficiency: baseline measured ms x roof(kernel) / roof(baseline), per point. */
export function idealSeries(kernel: LessonSeries, baseline: LessonSeries, field: string, xs: readonly number[], roof: Ceilings): (number | null)[] {
  return xs.map((x, i) => {
    const b = baseline.ms[i];
    if (b === null || b === undefined) return null;
    const rb = roofMs(costAt(baseline, field, x), roof);
    return rb > 0 ? (b * roofMs(costAt(kernel, field, x), roof)) / rb : null;
  });
}

export interface Crossing {
  /** Index of the first sweep point past the crossing (the measured curves changed order between i - 1 and i). */
  index: number;
  /** The kernel is faster from there on (true) or slower (false). */
  faster: boolean;
}

/** The first point where the kernel and the baseline change order (points either one lacks are skipped). */
export function crossing(kernel: readonly (number | null)[], baseline: readonly (number | null)[]): Crossing | undefined {
  let prev: boolean | undefined;
  for (let i = 0; i < kernel.length; i++) {
    const k = kernel[i];
    const b = baseline[i];
    if (k === null || k === undefined || b === null || b === undefined) continue;
    const faster = k < b;
    if (prev !== undefined && faster !== prev) return { index: i, faster };
    prev = faster;
  }
  return undefined;
}

/** The smallest x past the sweep (doubling, within the field's bounds) where the cost model puts the kernel ahead. */
export function predictedCrossing(kernel: LessonSeries, baseline: LessonSeries, field: string, from: number, roof: Ceilings): number | undefined {
  const spec = kernel.def.schema[field];
  const max = spec && 'max' in spec ? spec.max : from * 1024;
  for (let x = from * 2; x <= max; x *= 2) {
    if (roofMs(costAt(kernel, field, x), roof) < roofMs(costAt(baseline, field, x), roof)) return x;
  }
  return undefined;
}

const ratio = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(1));
/** A speed-up as words: "2.0x faster" or "3.1x slower". */
const speedup = (x: number) => (x >= 1 ? `${ratio(x)}x faster` : `${ratio(1 / x)}x slower`);

export interface LessonText {
  sentence: string;
  crossing?: Crossing;
}

/** One sentence: where the kernel overtakes the baseline (or why not here), with the measured and ideal speed-ups at the last point. */
export function lessonSentence(
  kernel: LessonSeries,
  baseline: LessonSeries,
  field: string,
  xs: readonly number[],
  roof: Ceilings,
  fmtX: (x: number) => string,
): LessonText | undefined {
  const both = xs.map((_, i) => i).filter((i) => kernel.ms[i] != null && baseline.ms[i] != null);
  if (!both.length) return undefined;
  const last = both.at(-1)!;
  const speed = baseline.ms[last]! / kernel.ms[last]!;
  const ideal = idealSeries(kernel, baseline, field, xs, roof)[last];
  const idealSpeed = ideal ? baseline.ms[last]! / ideal : undefined;
  const at = `${field} = ${fmtX(xs[last]!)}`;
  const idealText = idealSpeed !== undefined ? `; the cost model's ideal there: ${speedup(idealSpeed)}` : '';
  const c = crossing(kernel.ms, baseline.ms);
  if (c) {
    const range = `between ${field} = ${fmtX(xs[c.index - 1]!)} and ${fmtX(xs[c.index]!)}`;
    return {
      crossing: c,
      sentence: c.faster
        ? `Crossover ${range}: from there ${kernel.label} is faster than ${baseline.label} (${ratio(speed)}x at ${at}${idealText}).`
        : `Crossover ${range}: from there ${kernel.label} is slower than ${baseline.label} (${ratio(1 / speed)}x slower at ${at}${idealText}).`,
    };
  }
  if (speed > 1) return { sentence: `${kernel.label} is faster than ${baseline.label} at every point here (${ratio(speed)}x at ${at}${idealText}): the crossover lies below this range.` };
  if (idealSpeed !== undefined && idealSpeed > 1) {
    return {
      sentence:
        `${kernel.label} stays slower than ${baseline.label} over this range (${ratio(1 / speed)}x slower at ${at}), although the cost model says it should be ` +
        `${ratio(idealSpeed)}x faster there: at this size its fixed costs (more passes, each over little data) outweigh the work it saves; try larger ${field}.`,
    };
  }
  const predicted = predictedCrossing(kernel, baseline, field, xs[last]!, roof);
  return {
    sentence:
      `${kernel.label} stays slower than ${baseline.label} over this range (${ratio(1 / speed)}x slower at ${at}${idealText}); ` +
      (predicted !== undefined
        ? `by the cost model it would overtake at about ${field} = ${fmtX(predicted)}, past this chart.`
        : `the cost model predicts no crossover at any ${field} it allows.`),
  };
}
