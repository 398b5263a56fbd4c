// Dispatch geometry of one run: for every dispatch a kernel records, the workgroup grid, invocations per
// workgroup and workgroup-memory bytes. A recording pass wraps the real one (so what is recorded is what the
// device runs); indirect dispatches are resolved by running once and reading their argument words back.
// Threads and workgroup bytes come from the pipeline (src/gpu/pipeline-info.ts); a dispatch's read bytes are
// the read-only bindings its entry point uses, sized as its bind group bound them (or as the kernel said it
// reads them), so each dispatch is charged its own inputs, not the whole kernel's bytes.
import type { GpuContext } from '../gpu/context.ts';
import { bindGroupBytes, pipelineInfo } from '../gpu/pipeline-info.ts';
import type { InstanceStage } from '../kernels/contract.ts';
import type { Encodable } from './timer.ts';

export interface DispatchGeometry {
  /** The composite's stage that recorded it, if the kernel has stages. */
  stage?: string;
  /** Pipeline label ("module:entryPoint"). */
  pipeline: string;
  /** Workgroups in x, y, z (for an indirect dispatch: the arguments it ran with). */
  grid: [number, number, number];
  /** x * y * z. */
  workgroups: number;
  /** Invocations per workgroup; null if the pipeline's WGSL could not be read. */
  threads: number | null;
  /** Workgroup-memory bytes the entry point declares; null as above. */
  workgroupBytes: number | null;
  /**
   * Bytes this dispatch reads: the read-only storage bindings its entry point uses, each as bound (or as the
   * kernel's bind call said a gather reads of it); an upper bound where it reads a binding only in part.
   * null where the pipeline's WGSL or the bind group is not known.
   */
  readBytes?: number | null;
  indirect?: boolean;
  /** With `bindings`: each read-only binding the entry point uses, with its bytes as bound (or as the kernel said). */
  reads?: Record<string, number>;
}

interface Recorded {
  stage?: string;
  pipeline?: GPUComputePipeline;
  readBytes: number | null;
  reads?: Record<string, number>;
  grid?: [number, number, number];
  indirect?: { buffer: GPUBuffer; offset: number };
}

/** A pass call kept for encoding again. */
interface Replayed {
  indirect?: boolean;
  run: (pass: GPUComputePassEncoder) => void;
}

/**
 * A pass that forwards everything to `pass` and logs each dispatch with the pipeline set at the time; `replay`
 * collects the state-setting calls and dispatches in order, so a prefix of them can be encoded again.
 */
function recordingPass(pass: GPUComputePassEncoder, log: Recorded[], stage: () => string | undefined, replay: Replayed[]): GPUComputePassEncoder {
  let pipeline: GPUComputePipeline | undefined;
  const groups: (GPUBindGroup | null | undefined)[] = [];
  // The read-only bindings the entry point names, each with its bytes in the bind groups set now.
  const reads = (): Record<string, number> | null => {
    const names = pipeline ? pipelineInfo(pipeline)?.reads : undefined;
    if (!names) return null;
    const bound = groups.map((g) => (g ? bindGroupBytes(g) : undefined));
    const out: Record<string, number> = {};
    for (const name of names) {
      const b = bound.find((g) => g && name in g);
      if (!b) return null;
      out[name] = b[name]!;
    }
    return out;
  };
  const logged = (): Pick<Recorded, 'readBytes' | 'reads'> => {
    const r = reads();
    return r ? { readBytes: Object.values(r).reduce((a, b) => a + b, 0), reads: r } : { readBytes: null };
  };
  return new Proxy(pass, {
    get(target, prop) {
      if (prop === 'setPipeline') {
        return (p: GPUComputePipeline) => {
          pipeline = p;
          target.setPipeline(p);
          replay.push({ run: (q) => q.setPipeline(p) });
        };
      }
      if (prop === 'setBindGroup') {
        return (index: number, group: GPUBindGroup | null, ...rest: unknown[]) => {
          groups[index] = group;
          (target.setBindGroup as (...a: unknown[]) => void)(index, group, ...rest);
          replay.push({ run: (q) => (q.setBindGroup as (...a: unknown[]) => void)(index, group, ...rest) });
        };
      }
      if (prop === 'dispatchWorkgroups') {
        return (x: number, y = 1, z = 1) => {
          log.push({ stage: stage(), pipeline, grid: [x, y, z], ...logged() });
          target.dispatchWorkgroups(x, y, z);
          replay.push({ run: (q) => q.dispatchWorkgroups(x, y, z) });
        };
      }
      if (prop === 'dispatchWorkgroupsIndirect') {
        return (buffer: GPUBuffer, offset: number) => {
          log.push({ stage: stage(), pipeline, indirect: { buffer, offset }, ...logged() });
          target.dispatchWorkgroupsIndirect(buffer, offset);
          replay.push({ indirect: true, run: (q) => q.dispatchWorkgroupsIndirect(buffer, offset) });
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export interface RecordOptions {
  /** Give each dispatch its read bindings by name (`reads`); off for result files, whose schema has none. */
  bindings?: boolean;
  /** Called before the run that resolves indirect grids, only when there is one (to upload the inputs they depend on). */
  beforeRun?: () => void;
  /**
   * Resolve indirect grids by running only the dispatches before the first indirect one, not the whole kernel:
   * right when every indirect dispatch's arguments are written before the first indirect dispatch runs (a
   * routing pass that sizes all expert passes at once), wrong when one indirect pass sizes a later one.
   */
  prefix?: boolean;
}

/** Encode `work` once (its stages in order, if it has them) and return every dispatch; run it only if a dispatch is indirect. */
export async function recordGeometry(ctx: GpuContext, work: Encodable & { stages?: InstanceStage[] }, opts: RecordOptions = {}): Promise<DispatchGeometry[]> {
  const log: Recorded[] = [];
  const replay: Replayed[] = [];
  let current: string | undefined;
  const recorded = ctx.device.createCommandEncoder();
  const pass = recordingPass(recorded.beginComputePass(), log, () => current, replay);
  if (work.stages && work.stages.length > 1) {
    for (const s of work.stages) {
      current = s.name;
      s.encode(pass);
    }
  } else {
    work.encode(pass);
  }
  pass.end();
  const indirect = log.filter((r) => r.indirect);
  let enc = recorded;
  if (indirect.length && opts.prefix) {
    // The calls before the first indirect dispatch, encoded again in a fresh pass; the recorded one is dropped.
    recorded.finish();
    enc = ctx.device.createCommandEncoder();
    const prefix = enc.beginComputePass();
    for (const call of replay.slice(0, replay.findIndex((c) => c.indirect))) call.run(prefix);
    prefix.end();
  }
  let words: Uint32Array | undefined;
  let staging: GPUBuffer | undefined;
  try {
    if (indirect.length) {
      staging = ctx.buffers.create('geometry indirect args', 12 * indirect.length, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
      indirect.forEach((r, i) => enc.copyBufferToBuffer(r.indirect!.buffer, r.indirect!.offset, staging!, 12 * i, 12));
    }
    // Direct grids are known from encoding alone; only indirect ones need the run.
    const commands = enc.finish();
    if (staging) {
      opts.beforeRun?.();
      ctx.device.queue.submit([commands]);
      words = new Uint32Array(await ctx.buffers.read(staging));
    }
  } finally {
    ctx.buffers.destroy(staging);
  }
  let k = 0;
  return log.map((r) => {
    const grid: [number, number, number] = r.grid ?? (() => {
      const i = k++;
      return [words![3 * i]!, words![3 * i + 1]!, words![3 * i + 2]!];
    })();
    const info = r.pipeline ? pipelineInfo(r.pipeline) : undefined;
    return {
      ...(r.stage ? { stage: r.stage } : {}),
      pipeline: r.pipeline?.label ?? '(no pipeline)',
      grid,
      workgroups: grid[0] * grid[1] * grid[2],
      threads: info?.threads ?? null,
      workgroupBytes: info?.workgroupBytes ?? null,
      readBytes: r.readBytes,
      ...(r.indirect ? { indirect: true } : {}),
      ...(opts.bindings && r.reads ? { reads: r.reads } : {}),
    };
  });
}

export const totalWorkgroups = (g: readonly DispatchGeometry[]) => g.reduce((a, d) => a + d.workgroups, 0);

const fmtBytes = (b: number) => (b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`);

/** Bytes one workgroup of the dispatch reads (its read bytes over its workgroups); null if unknown or no workgroups. */
export function readPerWorkgroup(d: Pick<DispatchGeometry, 'readBytes' | 'workgroups'>): number | null {
  return d.readBytes === undefined || d.readBytes === null || d.workgroups === 0 ? null : d.readBytes / d.workgroups;
}

/** The dispatch that reads the most per workgroup (what decides whether a launch fills a GPU), if any is known. */
export function largestReadPerWorkgroup(g: readonly DispatchGeometry[]): { pipeline: string; bytes: number } | undefined {
  let best: { pipeline: string; bytes: number } | undefined;
  for (const d of g) {
    const b = readPerWorkgroup(d);
    if (b !== null && (!best || b > best.bytes)) best = { pipeline: d.pipeline, bytes: b };
  }
  return best;
}

/**
 * "grid 256x1x1 = 256 wg, 256 threads, wg mem 12.0 KiB, reads / wg <= 64.0 KiB" lines for the terminal (an
 * upper bound: a gather that reads part of a binding is charged all of it unless its bind call says less). A
 * dispatch without read bytes (a result file from before they were recorded) falls back to the whole
 * kernel's `bytes` over its workgroups, labelled as such.
 */
export function geometryLines(g: readonly DispatchGeometry[], bytes?: number): string[] {
  return g.map((d) => {
    const grid = d.grid.join('x');
    const mem = d.workgroupBytes === null ? '? B' : fmtBytes(d.workgroupBytes);
    const own = readPerWorkgroup(d);
    const per =
      own !== null
        ? `, reads / wg <= ${fmtBytes(own)} (its read bindings: ${fmtBytes(d.readBytes!)})`
        : bytes !== undefined && d.workgroups > 0
          ? `, whole kernel's bytes / wg ${fmtBytes(bytes / d.workgroups)}`
          : '';
    return `    ${(d.stage ? `${d.stage}: ` : '') + d.pipeline}  grid ${grid} = ${d.workgroups} wg${d.indirect ? ' (indirect)' : ''}, ${d.threads ?? '?'} threads, wg mem ${mem}${per}`;
  });
}
