// The resolution-aware timer against a fake clock quantised to 100 µs (Chrome's default): kernels of known
// duration far below, near and above the quantum are each reported within 5%, with the resolution found.
import { describe, expect, it } from 'vitest';
import type { InstanceStage } from '../kernels/contract.ts';
import { createRng } from '../kernels/random.ts';
import { measureResolution, timeRepeats, timeStages, type BatchClock, type Encodable } from './timer.ts';
import { median } from './stats.ts';

const QUANTUM_NS = 100_000;
const PASS_NS = 2_000; // an empty pass
const FLUSH_NS = 20_000; // the cache clear before each run

/** Virtual GPU time: every run costs pass + flush + its kernel's duration (±1% jitter); reads are quantised. */
function fakeClock(durationNs: Map<Encodable, number>, seed: number): BatchClock {
  const rng = createRng(seed);
  let t = 0;
  const q = (x: number) => Math.floor(x / QUANTUM_NS) * QUANTUM_NS;
  const run = (work: Encodable | null, flush: boolean) => (PASS_NS + (flush ? FLUSH_NS : 0) + (work ? durationNs.get(work)! : 0)) * (1 + 0.01 * (rng.next() * 2 - 1));
  return {
    method: 'gpu-timestamps',
    maxRuns: 1 << 14,
    async batches(work, runs, count, flush) {
      const out: number[] = [];
      for (let b = 0; b < count; b++) {
        t += rng.next() * 1e6; // idle time between submissions: the batch starts at a random phase of the quantum
        const start = t;
        for (let r = 0; r < runs; r++) t += run(work, flush);
        out.push((q(t) - q(start)) / 1e6);
      }
      return out;
    },
    async stageBatches(stages, runs, count) {
      const out: number[][] = [];
      for (let b = 0; b < count; b++) {
        t += rng.next() * 1e6;
        const sums = stages.map(() => 0);
        for (let r = 0; r < runs; r++) {
          stages.forEach((s, i) => {
            const start = t;
            t += run(s, false);
            sums[i]! += (q(t) - q(start)) / 1e6;
          });
        }
        out.push(sums);
      }
      return out;
    },
  };
}

const kernel = (): Encodable => ({ encode() {} });

describe('timeRepeats with a clock quantised to 100 µs', () => {
  it('finds the resolution and that it is quantised', async () => {
    const r = await measureResolution(fakeClock(new Map(), 1));
    expect(r.ms).toBeCloseTo(QUANTUM_NS / 1e6, 9);
    expect(r.quantised).toBe(true);
  });

  for (const trueUs of [10, 50, 2000]) {
    it(`a ${trueUs} µs kernel is reported within 5%`, async () => {
      const work = kernel();
      const clock = fakeClock(new Map([[work, trueUs * 1000]]), trueUs);
      const t = await timeRepeats(undefined, work, { samples: 30, clock, flushBytes: 1 << 20 });
      const ms = median(t.samplesMs);
      expect(Math.abs(ms * 1000 - trueUs) / trueUs, `measured ${ms * 1000} µs with R=${t.runsPerSample}`).toBeLessThan(0.05);
      expect(t.resolutionMs).toBeCloseTo(0.1, 9);
      expect(t.quantised).toBe(true);
      // A batch spans >= 100 resolution steps, so no sample is coarse; the flush + empty pass is the baseline.
      expect(t.runsPerSample * (trueUs / 1000 + t.baselineMs)).toBeGreaterThanOrEqual(10);
      expect(t.coarseSamples).toBe(0);
      expect(t.baselineMs * 1e6).toBeGreaterThan(0.9 * (PASS_NS + FLUSH_NS));
      expect(t.baselineMs * 1e6).toBeLessThan(1.1 * (PASS_NS + FLUSH_NS));
      expect(t.samplesMs).toHaveLength(30);
      expect(t.medianCiMs[0]).toBeLessThanOrEqual(ms);
      expect(t.medianCiMs[1]).toBeGreaterThanOrEqual(ms);
    });
  }

  it('stages timed in the same runs add up to the whole, and each is near its true time', async () => {
    const stages: InstanceStage[] = [10, 50, 200].map((_, i) => ({ name: `s${i}`, encode() {} }));
    const durations = new Map<Encodable, number>(stages.map((s, i) => [s, [10, 50, 200][i]! * 1000]));
    const st = (await timeStages(undefined as never, stages, 400, 30, undefined, fakeClock(durations, 7)))!;
    const sum = st.stagesMs.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - st.wholeMs) / st.wholeMs).toBeLessThan(0.1);
    // Each stage includes its pass's overhead (2 µs); quantisation averages out over the runs.
    [12, 52, 202].forEach((us, i) => expect(Math.abs(st.stagesMs[i]! * 1000 - us) / us).toBeLessThan(0.25));
  });
});

/**
 * An unquantised clock whose cache clear is 2 ms ± 25% (a loaded CPU emulating the GPU), 200x a 10 µs kernel:
 * subtracting a baseline that holds the clear leaves the kernel inside the clear's jitter.
 */
function noisyFlushClock(durationNs: Map<Encodable, number>, seed: number, withSpans: boolean): BatchClock {
  const rng = createRng(seed);
  const flushNs = () => 2_000_000 * (1 + 0.25 * (rng.next() * 2 - 1));
  const kernelNs = (work: Encodable | null) => PASS_NS + (work ? durationNs.get(work)! : 0);
  const clock: BatchClock = {
    method: 'gpu-timestamps',
    maxRuns: 1 << 14,
    async batches(work, runs, count, flush) {
      return Array.from({ length: count }, () => {
        let ns = 0;
        for (let r = 0; r < runs; r++) ns += (flush ? flushNs() : 0) + kernelNs(work);
        return ns / 1e6;
      });
    },
  };
  if (withSpans) {
    clock.runSpans = async (work, runs, count) => Array.from({ length: count }, () => (runs * kernelNs(work)) / 1e6);
  }
  return clock;
}

describe('timeRepeats when the cache clear dwarfs the kernel', () => {
  it('an unquantised clock stamps each run, leaving the clear outside: a 10 µs kernel within 5%', async () => {
    const work = kernel();
    const t = await timeRepeats(undefined, work, { samples: 30, clock: noisyFlushClock(new Map([[work, 10_000]]), 3, true), flushBytes: 8 << 20 });
    expect(t.stamped).toBe('each-run');
    expect(t.flushBytes).toBe(8 << 20);
    expect(Math.abs(median(t.samplesMs) * 1000 - 10) / 10).toBeLessThan(0.05);
  });

  it('without per-run stamps a kernel lost in the clear\'s jitter is retimed with no clear, and says so', async () => {
    const work = kernel();
    const t = await timeRepeats(undefined, work, { samples: 30, clock: noisyFlushClock(new Map([[work, 10_000]]), 4, false), flushBytes: 8 << 20 });
    expect(t.flushBytes, 'retimed with no clear').toBe(0);
    expect(t.stamped).toBe('batch');
    expect(Math.abs(median(t.samplesMs) * 1000 - 10) / 10).toBeLessThan(0.05);
  });
});
