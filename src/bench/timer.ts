// Resolution-aware timing. A clock (GPU timestamps, or wall time around a submission) may be quantised:
// Chrome rounds timestamps to 100 µs unless its WebGPU developer features are on, Dawn to 65,536 ns, a
// browser's performance.now() to 5–100 µs. So the timer
//   1. measures the clock's resolution (smallest non-zero difference over growing batches of empty passes,
//      and whether the differences all fall on multiples of it);
//   2. times R runs back to back between one pair of timestamps, R chosen so a batch lasts >= 100x the
//      resolution and >= 1 ms (a batch's error is at most one resolution step, <= 1%);
//   3. warms up by time (>= 200 ms of batches, or until two successive medians agree within 5%);
//   4. subtracts a baseline measured the same way: R empty passes, with the same cache flush before each.
// Caches: each run inside a batch is preceded by a buffer clear larger than the GPU's L2 (so a repeat's
// inputs are not served from cache). On a quantised clock its time is inside the batch, measured in the
// baseline and subtracted. On an unquantised clock each run's pass gets its own timestamp pair and the clear
// sits outside every pair: a clear much longer than a small kernel (and as noisy) is then never subtracted,
// which would leave the kernel's time inside the clear's jitter (medians of 0 ms). If a subtraction still
// leaves nothing, the kernel is retimed with no clear at all, and the result says so (flushBytes 0).
// Each run is its own compute pass, as a kernel runs in an application.
import type { GpuContext } from '../gpu/context.ts';
import type { InstanceStage } from '../kernels/contract.ts';
import { median, medianCi } from './stats.ts';
import { guardLoss, throwIfCancelled } from './run-control.ts';

export type TimingMethod = 'gpu-timestamps' | 'wall-clock';

export interface Encodable {
  encode(pass: GPUComputePassEncoder): void;
}

/**
 * Where time comes from. `batches` runs `count` batches of `runs` back-to-back runs of `work` (null: an
 * empty pass), a flush before each run when `flush`, and returns each batch's elapsed ms as the clock saw it.
 * `stageBatches` does the same for a composite's stages, one pass per stage, with a timestamp at every stage
 * boundary, and returns per batch the summed ms of each stage.
 */
export interface BatchClock {
  method: TimingMethod;
  batches(work: Encodable | null, runs: number, count: number, flush: boolean): Promise<number[]>;
  stageBatches?(stages: readonly InstanceStage[], runs: number, count: number): Promise<number[][]>;
  /** Most runs one submission may hold (a query set has at most 4096 entries). */
  maxRuns: number;
  /**
   * Like `batches`, but a timestamp pair around each run's pass (the flush before a run outside its pair);
   * per batch the sum of the runs' spans. Only meaningful on an unquantised clock.
   */
  runSpans?(work: Encodable | null, runs: number, count: number, flush: boolean): Promise<number[]>;
}

export interface TimeOptions {
  /** Timed samples (batches). */
  samples: number;
  /** Minimum warm-up time (default 200 ms of batches; ends early once two successive medians agree). */
  warmupMs?: number;
  /** At least this many warm-up batches, whatever the time (default 0). */
  warmupBatches?: number;
  /** Bytes cleared before every run to flush caches (0 = none). */
  flushBytes?: number;
  signal?: AbortSignal;
  /** Force the wall-clock path (devices without timestamps; or to compare). */
  wallClock?: boolean;
  /** Shortest batch (default 1 ms); the timer also keeps a batch >= 100x the resolution. */
  minBatchMs?: number;
  /** Test hook: a clock other than the device's. */
  clock?: BatchClock;
}

export interface Resolution {
  ms: number;
  quantised: boolean;
}

export interface Timing {
  method: TimingMethod;
  /** Per-run ms: (batch - baseline) / runs, one per sample. */
  samplesMs: number[];
  resolutionMs: number;
  quantised: boolean;
  runsPerSample: number;
  baselineMs: number;
  flushBytes: number;
  /** 'batch': one timestamp pair per batch (the flush inside, in the baseline); 'each-run': a pair per run's pass. */
  stamped: 'batch' | 'each-run';
  warmupMs: number;
  /** Samples whose raw batch was within 10x of the resolution. */
  coarseSamples: number;
  medianCiMs: [number, number];
}

const QUERY_LIMIT = 4096;
/** Runs per submission when every run has its own timestamp pair. */
const SPAN_RUNS = QUERY_LIMIT / 2;

/** GPU timestamps: one pair per batch (first pass's start, last pass's end), resolved once per submission. */
export function timestampClock(ctx: GpuContext, flush: GPUBuffer | undefined): BatchClock {
  const stamps = async (count: number, record: (enc: GPUCommandEncoder, q: GPUQuerySet) => void): Promise<BigUint64Array> => {
    const querySet = ctx.device.createQuerySet({ type: 'timestamp', count });
    const resolve = ctx.buffers.create('timestamps', 8 * count, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
    try {
      const enc = ctx.device.createCommandEncoder();
      record(enc, querySet);
      enc.resolveQuerySet(querySet, 0, count, resolve, 0);
      ctx.device.queue.submit([enc.finish()]);
      return new BigUint64Array(await guardLoss(ctx, ctx.buffers.read(resolve, 8 * count)));
    } finally {
      querySet.destroy();
      ctx.buffers.destroy(resolve);
    }
  };
  // A difference that is negative (a driver clock reset) is no measurement: NaN, dropped by the caller.
  const diffMs = (t: BigUint64Array, a: number, b: number) => (t[b]! >= t[a]! ? Number(t[b]! - t[a]!) / 1e6 : NaN);
  return {
    method: 'gpu-timestamps',
    maxRuns: 1 << 14,
    async batches(work, runs, count, flush_) {
      const t = await stamps(2 * count, (enc, querySet) => {
        for (let b = 0; b < count; b++) {
          for (let r = 0; r < runs; r++) {
            if (flush_ && flush) enc.clearBuffer(flush);
            const timestampWrites: GPUComputePassTimestampWrites = { querySet };
            if (r === 0) timestampWrites.beginningOfPassWriteIndex = 2 * b;
            if (r === runs - 1) timestampWrites.endOfPassWriteIndex = 2 * b + 1;
            const pass = enc.beginComputePass(r === 0 || r === runs - 1 ? { timestampWrites } : {});
            work?.encode(pass);
            pass.end();
          }
        }
      });
      return Array.from({ length: count }, (_, b) => diffMs(t, 2 * b, 2 * b + 1));
    },
    async runSpans(work, runs, count, flush_) {
      const t = await stamps(2 * runs * count, (enc, querySet) => {
        for (let k = 0; k < runs * count; k++) {
          if (flush_ && flush) enc.clearBuffer(flush);
          const pass = enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } });
          work?.encode(pass);
          pass.end();
        }
      });
      return Array.from({ length: count }, (_, b) => {
        let sum = 0;
        for (let r = 0; r < runs; r++) sum += diffMs(t, 2 * (b * runs + r), 2 * (b * runs + r) + 1);
        return sum;
      });
    },
    async stageBatches(stages, runs, count) {
      // Per run: a timestamp at the start of each stage's pass and at the end of the last one.
      const n = stages.length + 1;
      const t = await stamps(n * runs * count, (enc, querySet) => {
        for (let k = 0; k < runs * count; k++) {
          stages.forEach((s, i) => {
            const pass = enc.beginComputePass({
              timestampWrites: { querySet, beginningOfPassWriteIndex: n * k + i, ...(i === stages.length - 1 ? { endOfPassWriteIndex: n * k + n - 1 } : {}) },
            });
            s.encode(pass);
            pass.end();
          });
        }
      });
      return Array.from({ length: count }, (_, b) =>
        stages.map((_, i) => {
          let sum = 0;
          for (let r = 0; r < runs; r++) sum += diffMs(t, n * (b * runs + r) + i, n * (b * runs + r) + i + 1);
          return sum;
        }),
      );
    },
  };
}

/** Wall clock from submit to onSubmittedWorkDone, per batch (includes the submission; the baseline takes it out). */
export function wallClock(ctx: GpuContext, flush: GPUBuffer | undefined): BatchClock {
  return {
    method: 'wall-clock',
    maxRuns: 1 << 14,
    async batches(work, runs, count, flush_) {
      const out: number[] = [];
      for (let b = 0; b < count; b++) {
        const enc = ctx.device.createCommandEncoder();
        for (let r = 0; r < runs; r++) {
          if (flush_ && flush) enc.clearBuffer(flush);
          const pass = enc.beginComputePass();
          work?.encode(pass);
          pass.end();
        }
        const commands = enc.finish();
        const t0 = performance.now();
        ctx.device.queue.submit([commands]);
        await guardLoss(ctx, ctx.device.queue.onSubmittedWorkDone());
        out.push(performance.now() - t0);
      }
      return out;
    },
  };
}

/** Batches, split into submissions of at most `maxRuns` runs, NaN (invalid) batches dropped. */
async function sample(clock: BatchClock, work: Encodable | null, runs: number, count: number, flush: boolean, signal?: AbortSignal): Promise<number[]> {
  const out: number[] = [];
  const perSubmit = Math.max(1, Math.floor(clock.maxRuns / runs));
  for (let done = 0; done < count; ) {
    throwIfCancelled(signal);
    const n = Math.min(perSubmit, count - done);
    out.push(...(await clock.batches(work, runs, n, flush)).filter((x) => Number.isFinite(x)));
    done += n;
  }
  return out;
}

const resolutions = new WeakMap<object, Map<TimingMethod, Resolution>>();

/**
 * The smallest non-zero difference the clock reports, over growing batches of empty passes (at least 8
 * non-zero differences); quantised when zeros were seen and every non-zero difference is a multiple of it.
 */
export async function measureResolution(clock: BatchClock, signal?: AbortSignal): Promise<Resolution> {
  const nonZero: number[] = [];
  let zeros = 0;
  for (let runs = 1; runs <= clock.maxRuns && nonZero.length < 8; runs *= 4) {
    for (const d of await sample(clock, null, runs, 8, false, signal)) {
      if (d > 0) nonZero.push(d);
      else zeros++;
    }
  }
  if (nonZero.length === 0) throw new Error('the clock never advanced over thousands of empty passes; rerun, or use --wall-clock');
  const ms = Math.min(...nonZero);
  const onMultiples = nonZero.every((d) => Math.abs(d / ms - Math.round(d / ms)) < 0.02);
  return { ms, quantised: zeros > 0 && onMultiples };
}

async function resolutionOf(ctx: GpuContext | undefined, clock: BatchClock, signal?: AbortSignal): Promise<Resolution> {
  if (!ctx) return measureResolution(clock, signal);
  const byMethod = resolutions.get(ctx.device) ?? new Map<TimingMethod, Resolution>();
  resolutions.set(ctx.device, byMethod);
  let r = byMethod.get(clock.method);
  if (!r) {
    r = await measureResolution(clock, signal);
    byMethod.set(clock.method, r);
  }
  return r;
}

/** The device's clock for these options (timestamps when the device has them and they are not refused). */
function deviceClock(ctx: GpuContext, opts: TimeOptions, flush: GPUBuffer | undefined): BatchClock {
  return ctx.features.timestamps && !opts.wallClock ? timestampClock(ctx, flush) : wallClock(ctx, flush);
}

/**
 * Choose the runs per batch: grow R until a batch lasts >= target beyond `baselineMs` per run (so a kernel
 * much shorter than the flush before it still spans the target). Returns R and the warm-up time spent.
 */
async function calibrate(clock: BatchClock, work: Encodable | null, targetMs: number, flush: boolean, signal?: AbortSignal, baselineMs = 0) {
  let runs = 1;
  let spentMs = 0;
  for (let i = 0; i < 12; i++) {
    const gross = median(await sample(clock, work, runs, 1, flush, signal));
    spentMs += Number.isFinite(gross) ? gross : 0;
    const ms = gross - runs * baselineMs;
    if (ms >= targetMs || runs >= clock.maxRuns) break;
    // Aim 30% past the target so jitter does not leave the batch short.
    const next = ms > 0 ? Math.ceil((runs * targetMs * 1.3) / ms) : runs * 10;
    runs = Math.min(clock.maxRuns, Math.max(runs + 1, next));
  }
  return { runs, spentMs };
}

/**
 * Time `work`: resolution, runs per batch, warm-up by time, baseline, then `samples` batches. With a
 * `ctx`, the device's clock (and a flush buffer) is used unless opts.clock is given.
 */
export async function timeRepeats(ctx: GpuContext | undefined, work: Encodable, opts: TimeOptions): Promise<Timing> {
  ctx?.assertAlive();
  const flushBytes = opts.flushBytes ?? 0;
  const flushBuf = ctx && flushBytes > 0 && !opts.clock ? ctx.buffers.create('cache-flush', flushBytes, GPUBufferUsage.COPY_DST) : undefined;
  try {
    const device = opts.clock ?? deviceClock(ctx!, opts, flushBuf);
    const res = await resolutionOf(opts.clock ? undefined : ctx, device, opts.signal);
    const targetMs = Math.max(opts.minBatchMs ?? 1, 100 * res.ms);
    const spans = flushBytes > 0 && !res.quantised && device.runSpans !== undefined;
    // With a span per run the flush is outside every timestamp pair; the batch is then their sum.
    const clock: BatchClock = spans ? { method: device.method, maxRuns: SPAN_RUNS, batches: device.runSpans!.bind(device) } : device;
    const { baselineHalfCiMs, ...first } = await measure(clock, work, res, targetMs, flushBytes > 0, opts);
    const net = median(first.samplesMs);
    // Resolved: the median stands clear of the uncertainty of what was subtracted and of its own scatter.
    const halfCi = (first.medianCiMs[1] - first.medianCiMs[0]) / 2;
    if (flushBytes === 0 || (net > 0 && Math.max(baselineHalfCiMs, halfCi) <= 0.5 * net)) return { ...first, flushBytes, stamped: spans ? 'each-run' : 'batch' };
    // The flush's jitter swallowed the kernel: time it with no flush, and say so (flushBytes 0).
    const { baselineHalfCiMs: _, ...bare } = await measure(device, work, res, targetMs, false, opts);
    return { ...bare, flushBytes: 0, stamped: 'batch' };
  } finally {
    ctx?.buffers.destroy(flushBuf);
  }
}

/** Baseline, runs per batch, warm-up and samples on one clock, with or without the flush. */
async function measure(clock: BatchClock, work: Encodable, res: Resolution, targetMs: number, flush: boolean, opts: TimeOptions): Promise<Omit<Timing, 'flushBytes' | 'stamped'> & { baselineHalfCiMs: number }> {
  // The baseline first, with its own runs per batch (an empty pass is short): the kernel's R then makes
  // its time beyond the baseline span the target.
  const base = await calibrate(clock, null, targetMs, flush, opts.signal);
  const baselineBatches = await sample(clock, null, base.runs, Math.max(3, Math.ceil(opts.samples / 3)), flush, opts.signal);
  const baselineMs = Math.max(0, median(baselineBatches)) / base.runs;
  const [bLo, bHi] = medianCi(baselineBatches);
  const { runs, spentMs } = await calibrate(clock, work, targetMs, flush, opts.signal, baselineMs);

  // Warm-up: >= warmupMs of batches, or two successive medians (of 3 batches) within 5%.
  const warmupMs = opts.warmupMs ?? 200;
  let warm = spentMs;
  let prev = NaN;
  for (let i = 0; i < (opts.warmupBatches ?? 0); i++) warm += (await sample(clock, work, runs, 1, flush, opts.signal))[0] ?? 0;
  while (warm < warmupMs) {
    const group = await sample(clock, work, runs, 3, flush, opts.signal);
    warm += group.reduce((a, b) => a + b, 0);
    const m = median(group);
    if (Math.abs(m - prev) <= 0.05 * prev) break;
    prev = m;
  }

  const raw = await sample(clock, work, runs, opts.samples, flush, opts.signal);
  if (raw.length === 0) throw new Error('every GPU timestamp pair was invalid (end before start); rerun, or use --wall-clock');
  const samplesMs = raw.map((b) => Math.max(0, b / runs - baselineMs));
  return {
    method: clock.method,
    samplesMs,
    resolutionMs: res.ms,
    quantised: res.quantised,
    runsPerSample: runs,
    baselineMs,
    warmupMs: warm,
    coarseSamples: raw.filter((b) => b < 10 * res.ms).length,
    medianCiMs: medianCi(samplesMs),
    baselineHalfCiMs: (bHi - bLo) / 2 / base.runs,
  };
}

export interface StageTiming {
  /** Per-run median ms of each stage. */
  stagesMs: number[];
  /** Per-run median ms of the whole (first stage's start to last stage's end) in the same runs. */
  wholeMs: number;
  runsPerSample: number;
}

/**
 * A composite's stages timed inside the same runs: one pass per stage in one command buffer, a timestamp
 * at every stage boundary, no flush in between, so the stages add up to the whole by construction (each
 * boundary is shared). `runs` per batch as the whole was timed with, capped by the query-set size.
 */
export async function timeStages(ctx: GpuContext, stages: readonly InstanceStage[], runs: number, samples: number, signal?: AbortSignal, clock?: BatchClock): Promise<StageTiming | undefined> {
  const c = clock ?? (ctx.features.timestamps ? timestampClock(ctx, undefined) : undefined);
  if (!c?.stageBatches) return undefined;
  const r = Math.max(1, Math.min(runs, Math.floor(QUERY_LIMIT / (stages.length + 1))));
  const per: number[][] = stages.map(() => []);
  const whole: number[] = [];
  for (let i = 0; i < samples; i++) {
    throwIfCancelled(signal);
    const [batch] = await c.stageBatches(stages, r, 1);
    if (!batch || batch.some((x) => !Number.isFinite(x))) continue;
    batch.forEach((ms, s) => per[s]!.push(ms / r));
    whole.push(batch.reduce((a, b) => a + b, 0) / r);
  }
  if (whole.length === 0) return undefined;
  return { stagesMs: per.map((p) => median(p)), wholeMs: median(whole), runsPerSample: r };
}
