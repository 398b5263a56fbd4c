// How long a run will take, said from its start: before anything finished, the cost model at this GPU's
// measured roofline (a lower bound: a kernel reaches a fraction of its roofline, and the timer warms each
// shape up for at least 200 ms); once points finish, the measured time so far scaled by the share of the
// (roofline-weighted) work still to do.
import type { AnyKernel, Config } from '../../kernels/contract.ts';
import { roofMs, type Ceilings } from '../charts/chart-lesson.ts';

/** The timer's least warm-up per timed shape and its shortest batch (bench/timer.ts defaults). */
export const WARMUP_MS = 200;
export const MIN_BATCH_MS = 1;

export interface EstimateJob {
  def: AnyKernel;
  config: Config;
  /** Timed samples (batches). */
  samples: number;
  /** The stages are also timed, in their own batches (composites' result card). */
  stages?: boolean;
}

/** The least wall time one timed shape can take at this roofline. */
export function jobFloorMs(job: EstimateJob, roof: Ceilings): number {
  const run = roofMs(job.def.cost(job.config), roof);
  const batch = Math.max(run, MIN_BATCH_MS);
  return WARMUP_MS + job.samples * batch * (job.stages ? 2 : 1);
}

export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export class RunEstimate {
  readonly weights: number[];
  readonly totalMs: number;
  #start = performance.now();
  /** For tests: the clock. */
  now = () => performance.now();

  constructor(jobs: readonly EstimateJob[], roof: Ceilings) {
    this.weights = jobs.map((j) => jobFloorMs(j, roof));
    this.totalMs = this.weights.reduce((a, b) => a + b, 0);
    this.#start = this.now();
  }

  /** Restart the clock (at the first job, after setup). */
  start() {
    this.#start = this.now();
  }

  /**
   * " · at least ~40 s (cost model at this GPU's roofline)" before the first job finished; then
   * " · about 2 min left (measured)"; nothing once every job is done.
   */
  label(done: number): string {
    if (done >= this.weights.length) return '';
    if (done <= 0) return ` · estimate: at least ${fmtDuration(this.totalMs)} (cost model at this GPU's measured roofline)`;
    const did = this.weights.slice(0, done).reduce((a, b) => a + b, 0);
    if (did <= 0) return '';
    const s = (this.now() - this.#start) * ((this.totalMs - did) / did);
    return ` · about ${fmtDuration(s)} left (measured so far)`;
  }
}
