// Benchmark one kernel at one shape: verify it on a small case against the float64 reference, then create
// the instance at the benchmark shape, upload random inputs, time warm-up + repeats, check the outputs are
// finite, and derive GB/s, GFLOP/s and the fractions of the measured roofline from the cost model.
import type { Config, KernelDefinition } from '../kernels/contract.ts';
import { withDefaults } from '../kernels/contract.ts';
import { checkAgainstReference, type CheckReport } from '../kernels/check.ts';
import { createInstance, makeInputs, readOutputs, uploadInputs } from '../kernels/execute.ts';
import { createRng } from '../kernels/random.ts';
import { isCpuEmulation, type GpuContext } from '../gpu/context.ts';
import type { Roofline } from './roofline.ts';
import type { KernelResult } from './result-schema.ts';
import { spread } from './stats.ts';
import { timeRepeats, timeStages } from './timer.ts';
import { recordGeometry, totalWorkgroups, type DispatchGeometry } from './geometry.ts';

export interface BenchOptions {
  /** Warm-up batches at least (warm-up is by time: >= 200 ms or two agreeing medians). */
  warmup: number;
  /** Timed samples, each a batch of back-to-back runs (see timer.ts). */
  repeats: number;
  /** Bytes cleared between repeats to evict caches; undefined = auto (see defaultFlushBytes). */
  flushBytes?: number;
  signal?: AbortSignal;
  wallClock?: boolean;
  seed: number;
  /**
   * Verifications already run in this suite, by kernel id and config: a kernel benched at several shapes
   * is checked on the same small case, so it is checked once (the suite passes one map for the whole run).
   */
  checked?: Map<string, Promise<CheckReport>>;
}

/**
 * Timed samples per shape when none is asked for: 30 on a GPU (enough for the median's confidence interval),
 * 3 on CPU emulation, where one sample of a benchmark shape takes seconds.
 */
export function defaultRepeats(ctx: GpuContext): number {
  return isCpuEmulation(ctx) ? 3 : 30;
}

/** 256 MiB on a GPU (larger than any L2 today), 8 MiB on CPU emulation (its caches are a few MiB). */
export function defaultFlushBytes(ctx: GpuContext): number {
  const want = (isCpuEmulation(ctx) ? 8 : 256) * 1024 * 1024;
  return Math.min(want, ctx.limits.maxBufferSize);
}

export async function benchKernel<C extends Config>(
  ctx: GpuContext,
  def: KernelDefinition<C>,
  shape: { name: string; config: Partial<C> },
  roofline: Roofline,
  opts: BenchOptions,
): Promise<KernelResult> {
  const config = withDefaults(def, shape.config);
  // 1. Verification on the kernel's first test case with the same storage type: a number is never shown
  //    for a kernel that is not right.
  const small = withDefaults(def, { ...(def.testCases[0]?.config ?? {}), ...('dtype' in config ? { dtype: config.dtype } : {}) } as Partial<C>);
  const key = `${def.id} ${JSON.stringify(small)}`;
  let pending = opts.checked?.get(key);
  if (!pending) {
    pending = checkAgainstReference(ctx, def, small, opts.seed);
    opts.checked?.set(key, pending);
  }
  const check = await pending;

  // 2. The timed shape.
  const { timing, allocatedBytes, outputsFinite, dispatches, staged, stageNames, cost } = await timeShape(ctx, def, config, opts, true);
  const stageSum = staged ? staged.stagesMs.reduce((a, b) => a + b, 0) : 0;
  const stages = staged?.stagesMs.map((ms, i) => ({ name: stageNames[i]!, medianMs: ms, share: stageSum > 0 ? ms / stageSum : 0 }));
  const { samplesMs: _samples, ...timer } = timing;
  const st = spread(timing.samplesMs);
  const seconds = st.medianMs / 1e3;
  const gbps = cost.bytes / seconds / 1e9;
  const gflops = cost.flops / seconds / 1e9;
  return {
    kernel: def.id,
    family: def.family,
    shape: shape.name,
    config,
    cost,
    method: timing.method,
    samplesMs: timing.samplesMs,
    ...st,
    gbps,
    gflops,
    copyFraction: roofline.copyGBps > 0 ? gbps / roofline.copyGBps : 0,
    ...(roofline.readGBps ? { readFraction: gbps / roofline.readGBps } : {}),
    fmaFraction: roofline.fmaGflops > 0 ? gflops / roofline.fmaGflops : 0,
    allocatedBytes,
    outputsFinite,
    ...(stages ? { stages, stagesWholeMs: staged!.wholeMs } : {}),
    timer,
    ...(dispatches ? { geometry: { workgroups: totalWorkgroups(dispatches), dispatches } } : {}),
    verification: {
      config: small,
      seed: check.seed,
      ok: check.ok,
      outputs: check.results.map((r) => ({
        name: r.name,
        relL2: Number.isFinite(r.relL2) ? r.relL2 : null,
        maxAbs: Number.isFinite(r.maxAbs) ? r.maxAbs : null,
        ok: r.ok,
      })),
    },
  };
}

/**
 * Create the instance at `config`, upload random inputs, time it, check its outputs are finite, destroy it.
 * With `detail`, also one run's dispatch geometry and, for a composite, its stages timed inside the same
 * runs. The one path by which the suite, the studies and the UI's sweep time a kernel.
 */
export async function timeShape<C extends Config>(ctx: GpuContext, def: KernelDefinition<C>, config: C, opts: Omit<BenchOptions, 'checked'>, detail: boolean) {
  const before = ctx.buffers.liveBytes;
  const instance = await createInstance(ctx, def, config);
  try {
    const allocatedBytes = ctx.buffers.liveBytes - before;
    const inputs = makeInputs(def, config, createRng(opts.seed));
    uploadInputs(ctx, instance, def.inputs(config), inputs);
    const timing = await timeRepeats(ctx, instance, {
      warmupBatches: opts.warmup,
      samples: opts.repeats,
      flushBytes: opts.flushBytes ?? defaultFlushBytes(ctx),
      signal: opts.signal,
      wallClock: opts.wallClock,
    });
    const dispatches = detail ? await recordGeometry(ctx, instance) : undefined;
    const multi = detail && instance.stages && instance.stages.length > 1 ? instance.stages : undefined;
    const staged = multi ? await timeStages(ctx, multi, timing.runsPerSample, opts.repeats, opts.signal) : undefined;
    const outs = await readOutputs(ctx, instance, def.outputs(config));
    const outputsFinite = Object.values(outs).every((t) => t.data.every((x) => Number.isFinite(x) || x === -Infinity));
    // What this run read where that depends on the data (the outputs read back once, above).
    const cost: KernelResult['cost'] = def.runCost ? { ...def.runCost(config, { ...inputs, ...outs }), fromRun: true } : def.cost(config);
    return { timing, allocatedBytes, outputsFinite, dispatches, staged, stageNames: (multi ?? []).map((s) => s.name), cost };
  } finally {
    instance.destroy();
  }
}

/** The dispatches of one run at `config`, untimed (random inputs: data-dependent grids see realistic data). */
export async function kernelGeometry<C extends Config>(ctx: GpuContext, def: KernelDefinition<C>, config: C, seed: number): Promise<DispatchGeometry[]> {
  const instance = await createInstance(ctx, def, config);
  try {
    uploadInputs(ctx, instance, def.inputs(config), makeInputs(def, config, createRng(seed)));
    return await recordGeometry(ctx, instance);
  } finally {
    instance.destroy();
  }
}
