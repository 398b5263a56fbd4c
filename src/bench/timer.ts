// Time repeated runs of a kernel. With timestamp-query, each repeat is its own compute pass with
// timestampWrites at its start and end, so only the kernel's dispatches are timed (no submit or readback
// overhead); repeats are submitted in chunks and read back once per chunk. Without the feature we fall back
// to wall time from submit to onSubmittedWorkDone per repeat, and say so in the result.
// Between repeats an optional buffer clear evicts the kernel's data from the GPU's L2, so a 32 MB KV cache
// is not served from a 50 MB cache and reported as DRAM bandwidth.
import type { GpuContext } from '../gpu/context.ts';
import { ConfigError, DeviceLostError } from '../gpu/errors.ts';

export type TimingMethod = 'gpu-timestamps' | 'wall-clock';

export interface Encodable {
  encode(pass: GPUComputePassEncoder): void;
}

export interface TimeOptions {
  warmup: number;
  repeats: number;
  /** Bytes cleared between repeats to flush caches (0 = none). */
  flushBytes?: number;
  /** Repeats per submission (keeps a browser tab responsive). */
  chunk?: number;
  signal?: AbortSignal;
  /** Force the wall-clock path (tests; devices without timestamps). */
  wallClock?: boolean;
}

export interface Timing {
  method: TimingMethod;
  samplesMs: number[];
}

/** Await a GPU promise; if the device died meanwhile, throw DeviceLostError instead of a driver message. */
export async function guardLoss<T>(ctx: GpuContext, p: Promise<T>): Promise<T> {
  try {
    const v = await p;
    ctx.assertAlive();
    return v;
  } catch (e) {
    // A refused config never comes from the device. (AbortError may: WebGPU rejects a pending mapAsync with
    // it when the device is lost, so a cancel also waits the moment below.)
    if (e instanceof DeviceLostError || e instanceof ConfigError) throw e;
    // device.lost resolves asynchronously (later still on a loaded machine); give it a moment to tell us
    // why the call failed.
    await Promise.race([ctx.device.lost, new Promise((r) => setTimeout(r, 1000))]);
    ctx.assertAlive();
    throw e;
  }
}

function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw new DOMException('benchmark cancelled', 'AbortError');
}

export async function timeRepeats(ctx: GpuContext, work: Encodable, opts: TimeOptions): Promise<Timing> {
  ctx.assertAlive();
  const flush = opts.flushBytes ? ctx.buffers.create('cache-flush', opts.flushBytes, GPUBufferUsage.COPY_DST) : undefined;
  try {
    // Warm-up: pipelines compiled, memory paged in, clocks up.
    for (let i = 0; i < opts.warmup; i++) {
      throwIfAborted(opts.signal);
      submitPass(ctx, work);
      await guardLoss(ctx, ctx.device.queue.onSubmittedWorkDone());
    }
    if (ctx.features.timestamps && !opts.wallClock) {
      return { method: 'gpu-timestamps', samplesMs: await timestampSamples(ctx, work, opts, flush) };
    }
    const samplesMs: number[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      throwIfAborted(opts.signal);
      if (flush) {
        const enc = ctx.device.createCommandEncoder();
        enc.clearBuffer(flush);
        ctx.device.queue.submit([enc.finish()]);
        await guardLoss(ctx, ctx.device.queue.onSubmittedWorkDone());
      }
      const t0 = performance.now();
      submitPass(ctx, work);
      await guardLoss(ctx, ctx.device.queue.onSubmittedWorkDone());
      samplesMs.push(performance.now() - t0);
    }
    return { method: 'wall-clock', samplesMs };
  } finally {
    ctx.buffers.destroy(flush);
  }
}

function submitPass(ctx: GpuContext, work: Encodable) {
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  work.encode(pass);
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
}

async function timestampSamples(ctx: GpuContext, work: Encodable, opts: TimeOptions, flush: GPUBuffer | undefined): Promise<number[]> {
  const chunk = Math.max(1, Math.min(opts.chunk ?? 16, opts.repeats));
  const querySet = ctx.device.createQuerySet({ type: 'timestamp', count: 2 * chunk });
  const resolve = ctx.buffers.create('timestamps', 16 * chunk, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
  const samplesMs: number[] = [];
  try {
    for (let done = 0; done < opts.repeats; ) {
      throwIfAborted(opts.signal);
      const n = Math.min(chunk, opts.repeats - done);
      const enc = ctx.device.createCommandEncoder();
      for (let i = 0; i < n; i++) {
        if (flush) enc.clearBuffer(flush);
        const pass = enc.beginComputePass({
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
        work.encode(pass);
        pass.end();
      }
      enc.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
      ctx.device.queue.submit([enc.finish()]);
      const raw = await guardLoss(ctx, ctx.buffers.read(resolve, 16 * n));
      const ticks = new BigUint64Array(raw);
      for (let i = 0; i < n; i++) {
        const ns = Number(ticks[2 * i + 1]! - ticks[2 * i]!);
        // A pass whose end precedes its start (driver clock reset) is not a measurement.
        if (ns > 0) samplesMs.push(ns / 1e6);
      }
      done += n;
    }
  } finally {
    querySet.destroy();
    ctx.buffers.destroy(resolve);
  }
  if (samplesMs.length === 0) throw new Error('every GPU timestamp pair was invalid (end before start); rerun, or use --wall-clock');
  return samplesMs;
}
