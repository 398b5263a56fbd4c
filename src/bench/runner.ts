// Benchmark one kernel at one shape: verify it on a small case against the float64 reference, then create
// the instance at the benchmark shape, upload random inputs, time warm-up + repeats, check the outputs are
// finite, and derive GB/s, GFLOP/s and the fractions of the measured roofline from the cost model.
import type { GpuContext } from '../gpu/context.ts';
import type { Config, InstanceStage, KernelDefinition } from '../kernels/contract.ts';
import { withDefaults } from '../kernels/contract.ts';
import { checkAgainstReference, type CheckReport } from '../kernels/check.ts';
import { createInstance, makeInputs, readOutputs, uploadInputs } from '../kernels/execute.ts';
import { createRng } from '../kernels/random.ts';
import { isCpuEmulation, type Roofline } from './roofline.ts';
import type { KernelResult } from './result-schema.ts';
import { spread } from './stats.ts';
import { timeRepeats } from './timer.ts';
import { recordGeometry, totalWorkgroups, type DispatchGeometry } from './geometry.ts';

export interface BenchOptions {
  warmup: number;
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

/** 256 MiB on a GPU (larger than any L2 today), 8 MiB on CPU emulation (its caches are a few MiB). */
export function defaultFlushBytes(ctx: GpuContext): number {
  const want = (isCpuEmulation(ctx) ? 8 : 256) * 1024 * 1024;
  return Math.min(want, ctx.limits.maxBufferSize);
}

/** Each stage timed alone, in order, so the table can show where a multi-stage kernel spends its time. */
async function timeStages(ctx: GpuContext, stages: InstanceStage[], opts: BenchOptions): Promise<NonNullable<KernelResult['stages']>> {
  const medians: number[] = [];
  for (const stage of stages) {
    const t = await timeRepeats(ctx, stage, {
      warmup: Math.min(1, opts.warmup),
      repeats: opts.repeats,
      flushBytes: opts.flushBytes ?? defaultFlushBytes(ctx),
      signal: opts.signal,
      wallClock: opts.wallClock,
    });
    medians.push(spread(t.samplesMs).medianMs);
  }
  const sum = medians.reduce((a, b) => a + b, 0);
  return stages.map((s, i) => ({ name: s.name, medianMs: medians[i]!, share: sum > 0 ? medians[i]! / sum : 0 }));
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
  const before = ctx.buffers.liveBytes;
  const instance = await createInstance(ctx, def, config);
  try {
    const allocatedBytes = ctx.buffers.liveBytes - before;
    uploadInputs(ctx, instance, def.inputs(config), makeInputs(def, config, createRng(opts.seed)));
    const timing = await timeRepeats(ctx, instance, {
      warmup: opts.warmup,
      repeats: opts.repeats,
      flushBytes: opts.flushBytes ?? defaultFlushBytes(ctx),
      signal: opts.signal,
      wallClock: opts.wallClock,
    });
    const dispatches = await recordGeometry(ctx, instance);
    const stages = instance.stages && instance.stages.length > 1 ? await timeStages(ctx, instance.stages, opts) : undefined;
    const outs = await readOutputs(ctx, instance, def.outputs(config));
    const outputsFinite = Object.entries(outs).every(([, t]) => t.data.every((x) => Number.isFinite(x) || x === -Infinity));
    const cost = def.cost(config);
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
      fmaFraction: roofline.fmaGflops > 0 ? gflops / roofline.fmaGflops : 0,
      allocatedBytes,
      outputsFinite,
      ...(stages ? { stages } : {}),
      geometry: { workgroups: totalWorkgroups(dispatches), dispatches },
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
