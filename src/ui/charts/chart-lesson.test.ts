// The chart's lesson from numbers alone: where two measured curves change order, the kernel's ideal from
// the cost model at the baseline's efficiency, and the cost model's crossover past the sweep.
import { describe, expect, it } from 'vitest';
import { findKernel } from '../../kernels/registry.ts';
import { defaults } from '../../kernels/contract.ts';
import { configAt } from '../../bench/sweep.ts';
import { crossing, idealSeries, lessonSentence, predictedCrossing, roofMs, type LessonSeries } from './chart-lesson.ts';

const dsa = findKernel('sparse.dsa')!;
const flash = findKernel('attention.flash_decode')!;
const roof = { copyGBps: 2, fmaGflops: 8 };
const base = { ...defaults(dsa.schema), Hq: 16, Hkv: 1, D: 64, topk: 256, Hi: 2, Di: 32 };
const series = (label: string, def: typeof dsa, config: typeof base, ms: (number | null)[]): LessonSeries => ({ label, def, config, ms });
const fmtX = (x: number) => String(x);

describe('chart lesson', () => {
  it('finds the first change of order, skipping points either side lacks', () => {
    expect(crossing([2, 1, 0.5], [1, 1.5, 4])).toEqual({ index: 1, faster: true });
    expect(crossing([2, null, 0.5], [1, 1.5, 4])).toEqual({ index: 2, faster: true });
    expect(crossing([0.5, 0.6, 3], [1, 1, 1])).toEqual({ index: 2, faster: false });
    expect(crossing([0.5, 0.6], [1, 1])).toBeUndefined();
  });

  it('the ideal is the baseline measured time scaled by the two roofline times', () => {
    const k = series('dsa', dsa, base, [3, 2]);
    const b = series('dense', flash, { ...defaults(flash.schema), Hq: 16, Hkv: 1, D: 64 }, [1, 4]);
    const ideal = idealSeries(k, b, 'S', [256, 4096], roof);
    for (const [i, x] of [256, 4096].entries()) {
      const want = (b.ms[i]! * roofMs(dsa.cost(configAt(dsa, base, 'S', x)), roof)) / roofMs(flash.cost(configAt(flash, b.config, 'S', x)), roof);
      expect(ideal[i]).toBeCloseTo(want, 12);
    }
    // At S = top-k DSA attends every key and adds the indexer: its ideal is slower than dense there.
    expect(ideal[0]!).toBeGreaterThan(b.ms[0]!);
    expect(ideal[1]!).toBeLessThan(b.ms[1]!);
  });

  it('says the crossover in one sentence, or where the cost model puts it past the chart', () => {
    const b = series('dense', flash, { ...defaults(flash.schema), Hq: 16, Hkv: 1, D: 64 }, [1, 2, 4]);
    const crossed = lessonSentence(series('dsa', dsa, base, [2, 1, 0.5]), b, 'S', [128, 1024, 4096], roof, fmtX)!;
    expect(crossed.crossing).toEqual({ index: 1, faster: true });
    expect(crossed.sentence).toMatch(/^Crossover between S = 128 and 1024: from there dsa is faster than dense \(8\.0x at S = 4096; the cost model's ideal there: [\d.]+x (faster|slower)\)\.$/);
    const short = series('dsa', dsa, base, [2, 3, 5]);
    const none = lessonSentence(short, { ...b, ms: [1, 1.5, 2] }, 'S', [64, 128, 256], roof, fmtX)!;
    const at = predictedCrossing(short, b, 'S', 256, roof)!;
    expect(at).toBeGreaterThan(256);
    expect(none.sentence).toContain(`by the cost model it would overtake at about S = ${at}, past this chart.`);
    // Slower where the cost model says faster: the sentence says so instead of predicting a crossover.
    const heavy = lessonSentence(series('dsa', dsa, base, [10, 20]), { ...b, ms: [1, 2] }, 'S', [1024, 4096], roof, fmtX)!;
    expect(heavy.sentence).toMatch(/^dsa stays slower than dense over this range \(10x slower at S = 4096\), although the cost model says it should be [\d.]+x faster there/);
  });
});
