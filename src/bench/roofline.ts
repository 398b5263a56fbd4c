// The measured roofline of this device: copy bandwidth, read bandwidth and f32 FMA throughput, probed in
// the same session as the kernels, with the same resolution-aware timer, so "% of roofline" compares like
// with like (a spec sheet's peak is never reached). Decode kernels almost only read, so they are also
// compared with the read probe.
import * as d from 'typegpu/data';
import copyWgsl from '../../shaders/common/copy-probe.wgsl?raw';
import fmaWgsl from '../../shaders/common/fma-probe.wgsl?raw';
import readWgsl from '../../shaders/common/read-probe.wgsl?raw';
import { isCpuEmulation, type GpuContext } from '../gpu/context.ts';
import { storage, uniform } from '../gpu/bindings.ts';
import { createKernel, type KernelShader } from '../gpu/shader.ts';
import { allocate, planned, plannedUniform } from '../kernels/common/buffer-plan.ts';
import { median } from './stats.ts';
import { timeRepeats, type Encodable, type TimingMethod } from './timer.ts';

export const ProbeParams = d.struct({ n: d.u32, mul: d.f32, add: d.f32 }).$name('ProbeParams');

export interface Roofline {
  /** Achieved copy bandwidth, bytes read + written per second / 1e9. */
  copyGBps: number;
  /** Achieved f32 FMA throughput, GFLOP/s (an FMA counts 2). */
  fmaGflops: number;
  copyBytes: number;
  fmaFlops: number;
  copyMedianMs: number;
  fmaMedianMs: number;
  method: TimingMethod;
  /** Achieved read bandwidth (a reduction reading every byte once), bytes / s / 1e9. */
  readGBps?: number;
  readBytes?: number;
  readMedianMs?: number;
}

export interface RooflineOptions {
  /** Timed samples per probe (default 30 on GPUs, 5 on CPU emulation). */
  repeats?: number;
  /** Bytes per probe buffer (default: 256 MiB on GPUs, 32 MiB on CPU emulation; clamped to the binding limit). */
  copyBytes?: number;
  wallClock?: boolean;
}

const WG = 256;

/** Both probes read one vec4 buffer and write another. */
const PROBE_BINDINGS = {
  params: uniform(ProbeParams),
  src: storage('vec4<f32>'),
  dst: storage('vec4<f32>', 'read_write'),
};

/** A probe's module: its bindings and its workgroup size WG. */
export function probeShader(label: string, wgsl: string, wg = WG): KernelShader<typeof PROBE_BINDINGS> {
  return { label, wgsl, bindings: PROBE_BINDINGS, constants: { WG: wg } };
}

export async function measureRoofline(ctx: GpuContext, opts: RooflineOptions = {}): Promise<Roofline> {
  const cpu = isCpuEmulation(ctx);
  const samples = opts.repeats ?? (cpu ? 5 : 30);
  const wanted = opts.copyBytes ?? (cpu ? 32 : 256) * 1024 * 1024;
  const bytes = Math.floor(Math.min(wanted, ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize) / 16) * 16;
  const n = bytes / 16;
  const iterations = 1024;
  const made = allocate(ctx, 'probe', {
    src: planned('scratch', bytes),
    dst: planned('scratch', bytes),
    copyParams: plannedUniform(ProbeParams, { n, mul: 1, add: 0 }),
    fmaParams: plannedUniform(ProbeParams, { n: iterations, mul: 0.999, add: 1e-3 }),
  });
  const { src, dst, copyParams, fmaParams } = made.buffers;
  const probe = async (label: string, wgsl: string, params: GPUBuffer, groups: number) => {
    const k = await createKernel(ctx, probeShader(label, wgsl), ['main'] as const);
    const group = k.bind({ params, src, dst });
    const work: Encodable = {
      encode(pass) {
        pass.setPipeline(k.pipelines.main);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(groups);
      },
    };
    return timeRepeats(ctx, work, { samples, wallClock: opts.wallClock });
  };
  try {
    // Enough workgroups to fill any GPU, few enough that each thread loops (grid stride).
    const copyGroups = Math.min(Math.ceil(n / WG), 4096, ctx.limits.maxComputeWorkgroupsPerDimension);
    const copy = await probe('copy-probe', copyWgsl, copyParams, copyGroups);
    // Read: >= 64 vec4s per thread, so its one written vec4 is <= 1/64 of the traffic (same params: n, 1, 0).
    const readGroups = Math.max(1, Math.min(Math.floor(n / WG / 64), ctx.limits.maxComputeWorkgroupsPerDimension));
    const read = await probe('read-probe', readWgsl, copyParams, readGroups);
    // FMA: one thread per vec4 of the buffer at most; the timer batches runs, so the grid need not be huge.
    const fmaGroups = Math.min(ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(n / WG), cpu ? 64 : 4096);
    const fma = await probe('fma-probe', fmaWgsl, fmaParams, fmaGroups);
    const copyMedianMs = median(copy.samplesMs);
    const readMedianMs = median(read.samplesMs);
    const fmaMedianMs = median(fma.samplesMs);
    const fmaFlops = fmaGroups * WG * iterations * 64;
    return {
      copyGBps: (2 * bytes) / (copyMedianMs * 1e6),
      fmaGflops: fmaFlops / (fmaMedianMs * 1e6),
      copyBytes: 2 * bytes,
      fmaFlops,
      copyMedianMs,
      fmaMedianMs,
      method: copy.method,
      readGBps: bytes / (readMedianMs * 1e6),
      readBytes: bytes,
      readMedianMs,
    };
  } finally {
    made.destroy();
  }
}
