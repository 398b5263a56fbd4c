// The benchmark suite: every registered kernel at each of its `benchmarks` shapes (filterable), one
// roofline measurement, one result file. Shared by the CLI and the UI's Benchmarks page.
import type { GpuContext } from '../gpu/context.ts';
import type { AnyKernel, Config } from '../kernels/contract.ts';
import { benchKernel, defaultFlushBytes, type BenchOptions } from './runner.ts';
import { measureRoofline, type Roofline } from './roofline.ts';
import { forEachItem, isAbortError } from './run-control.ts';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION, type KernelResult, type ResultFile } from './result-schema.ts';

export interface SuiteJob {
  def: AnyKernel;
  shape: { name: string; config: Partial<Config> };
}

export interface SuiteFilter {
  /** Kernel ids or families ("attention", "attention.flash_decode"); empty = all. */
  kernels?: string[];
  /** Substrings of shape names ("decode"); empty = all. */
  shapes?: string[];
  /** Field overrides applied to every selected shape (a custom shape). */
  set?: Config;
}

export function selectJobs(kernels: readonly AnyKernel[], filter: SuiteFilter = {}): SuiteJob[] {
  const jobs: SuiteJob[] = [];
  for (const def of kernels) {
    if (filter.kernels?.length && !filter.kernels.some((k) => def.id === k || def.family === k)) continue;
    for (const shape of def.benchmarks) {
      if (filter.shapes?.length && !filter.shapes.some((s) => shape.name.toLowerCase().includes(s.toLowerCase()))) continue;
      if (filter.set) {
        const extra = Object.entries(filter.set).filter(([k]) => k in def.schema);
        if (extra.length === 0 && Object.keys(filter.set).length) continue; // the override names no field of this kernel
        const custom = Object.fromEntries(extra);
        jobs.push({ def, shape: { name: `${shape.name} with ${extra.map(([k, v]) => `${k}=${v}`).join(' ')}`, config: { ...shape.config, ...custom } } });
      } else {
        jobs.push({ def, shape });
      }
    }
  }
  return jobs;
}

export type SuiteEvent =
  | { kind: 'roofline'; roofline: Roofline }
  | { kind: 'start'; index: number; total: number; job: SuiteJob }
  | { kind: 'result'; index: number; total: number; result: KernelResult }
  | { kind: 'error'; index: number; total: number; job: SuiteJob; message: string };

export interface SuiteOptions extends Omit<BenchOptions, 'flushBytes'> {
  flushBytes?: number;
  runtime: string;
  toolVersion: string;
  onEvent?: (e: SuiteEvent) => void;
  roofline?: Roofline;
  /** On a cancel (opts.signal) after the roofline: return what was measured, marked `incomplete`, instead of throwing. */
  partialOnAbort?: boolean;
}

export async function runSuite(ctx: GpuContext, jobs: SuiteJob[], opts: SuiteOptions): Promise<ResultFile> {
  const roofline = opts.roofline ?? (await measureRoofline(ctx, { wallClock: opts.wallClock }));
  opts.onEvent?.({ kind: 'roofline', roofline });
  const flushBytes = opts.flushBytes ?? defaultFlushBytes(ctx);
  const results: KernelResult[] = [];
  const errors: ResultFile['errors'] = [];
  const checked = new Map();
  let incomplete: string | undefined;
  try {
    // A lost device or a cancel ends the suite; a refused shape (over this device's limits) does not.
    await forEachItem(
      ctx,
      jobs,
      async (job, index) => {
        opts.onEvent?.({ kind: 'start', index, total: jobs.length, job });
        const result = await benchKernel(ctx, job.def, job.shape, roofline, { ...opts, flushBytes, checked });
        results.push(result);
        opts.onEvent?.({ kind: 'result', index, total: jobs.length, result });
      },
      {
        signal: opts.signal,
        onFailure(job, index, message) {
          errors.push({ kernel: job.def.id, shape: job.shape.name, message });
          opts.onEvent?.({ kind: 'error', index, total: jobs.length, job, message });
        },
      },
    );
  } catch (e) {
    // A cancel may keep what was measured (the CLI's SIGINT); a lost device always ends the run.
    if (!(isAbortError(e) && opts.partialOnAbort)) throw e;
    const index = Math.min(results.length + errors.length, jobs.length - 1);
    const job = jobs[index]!;
    incomplete = `cancelled during job ${index + 1} of ${jobs.length} (${job.def.id} ${job.shape.name}); ${results.length} measured before it`;
  }
  return {
    schema: RESULT_SCHEMA_ID,
    version: RESULT_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    tool: { name: 'llm-kernel-lab', version: opts.toolVersion },
    environment: {
      runtime: opts.runtime,
      adapter: ctx.adapter,
      features: ctx.features,
      limits: { ...ctx.limits },
    },
    settings: { warmup: opts.warmup, repeats: opts.repeats, flushBytes },
    roofline,
    results,
    errors,
    ...(incomplete ? { incomplete } : {}),
  };
}
