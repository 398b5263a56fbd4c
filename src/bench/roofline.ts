// The measured roofline of this device: copy bandwidth and f32 FMA throughput, probed in the same session
// as the kernels so "% of roofline" compares like with like (a spec sheet's peak is never reached).
import * as d from 'typegpu/data';
import copyWgsl from '../../shaders/common/copy-probe.wgsl?raw';
import fmaWgsl from '../../shaders/common/fma-probe.wgsl?raw';
import type { GpuContext } from '../gpu/context.ts';
import { storage, uniform } from '../gpu/bindings.ts';
import { createKernel, type KernelShader } from '../gpu/shader.ts';
import { allocate, planned, plannedUniform } from '../kernels/common/buffer-plan.ts';
import { median } from './stats.ts';
import { timeRepeats, type TimingMethod } from './timer.ts';

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
}

export interface RooflineOptions {
  repeats?: number;
  /** Bytes per copy buffer (default: 256 MiB on GPUs, 32 MiB on CPU emulation; clamped to the binding limit). */
  copyBytes?: number;
  wallClock?: boolean;
}

export function isCpuEmulation(ctx: GpuContext): boolean {
  return /swiftshader|llvmpipe|lavapipe|warp|cpu/i.test(`${ctx.adapter.architecture} ${ctx.adapter.description} ${ctx.adapter.vendor}`);
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
  const repeats = opts.repeats ?? 10;
  const wanted = opts.copyBytes ?? (isCpuEmulation(ctx) ? 32 : 256) * 1024 * 1024;
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
  try {
    const copy = await createKernel(ctx, probeShader('copy-probe', copyWgsl), ['main'] as const);
    const copyGroup = copy.bind({ params: copyParams, src, dst });
    // Enough workgroups to fill any GPU, few enough that each thread loops (grid stride).
    const copyGroups = Math.min(Math.ceil(n / WG), 4096, ctx.limits.maxComputeWorkgroupsPerDimension);
    const copyTiming = await timeRepeats(
      ctx,
      {
        encode(pass) {
          pass.setPipeline(copy.pipelines.main);
          pass.setBindGroup(0, copyGroup);
          pass.dispatchWorkgroups(copyGroups);
        },
      },
      { warmup: 2, repeats, wallClock: opts.wallClock },
    );
    const copyMedianMs = median(copyTiming.samplesMs);

    const fma = await createKernel(ctx, probeShader('fma-probe', fmaWgsl), ['main'] as const);
    // Calibrate: grow the grid until one run takes >= 5 ms, so launch overhead is a small fraction.
    let groups = 16;
    let fmaMedianMs = 0;
    let method: TimingMethod = copyTiming.method;
    const maxGroups = Math.min(ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(bytes / 16 / WG));
    const fmaGroup = fma.bind({ params: fmaParams, src, dst });
    for (;;) {
      const g = groups;
      const t = await timeRepeats(
        ctx,
        {
          encode(pass) {
            pass.setPipeline(fma.pipelines.main);
            pass.setBindGroup(0, fmaGroup);
            pass.dispatchWorkgroups(g);
          },
        },
        { warmup: 1, repeats: groups >= maxGroups || fmaMedianMs > 2 ? repeats : 3, wallClock: opts.wallClock },
      );
      fmaMedianMs = median(t.samplesMs);
      method = t.method;
      if (fmaMedianMs >= 5 || groups >= maxGroups) break;
      groups = Math.min(maxGroups, groups * 4);
    }
    const fmaFlops = groups * WG * iterations * 64;
    return {
      copyGBps: (2 * bytes) / (copyMedianMs * 1e6),
      fmaGflops: fmaFlops / (fmaMedianMs * 1e6),
      copyBytes: 2 * bytes,
      fmaFlops,
      copyMedianMs,
      fmaMedianMs,
      method,
    };
  } finally {
    made.destroy();
  }
}
