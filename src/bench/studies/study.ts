// A study: a fixed list of (kernel, shape) runs that answers one question, and a digest that turns the
// measured results into the table that answers it (`npm run bench -- --study NAME`). Digests read only
// the result file, so they also work on a file measured elsewhere (a real GPU's run imported later).
import type { GpuContext } from '../../gpu/context.ts';
import type { AnyKernel } from '../../kernels/contract.ts';
import type { ResultFile, StudyDigest } from '../result-schema.ts';
import type { SuiteJob } from '../suite.ts';

export interface Study {
  id: string;
  question: string;
  /** Repeats and warm-ups when the command line names none (studies are long on CPU emulation). */
  repeats: number;
  warmup: number;
  jobs(registry: readonly AnyKernel[]): SuiteJob[];
  /** The answer from measured results; undefined when the file holds none of this study's runs. */
  digest(file: ResultFile): StudyDigest | undefined;
  /**
   * An untimed study answers from its jobs' encoded dispatches instead: the CLI calls this and times nothing
   * (`onRun` names each job as it starts).
   */
  measure?(ctx: GpuContext, registry: readonly AnyKernel[], onRun?: (what: string) => void): Promise<StudyDigest>;
}

export function requireKernel(registry: readonly AnyKernel[], id: string, study: string): AnyKernel {
  const def = registry.find((k) => k.id === id);
  if (!def) throw new Error(`study ${study} names an unregistered kernel ${id}`);
  return def;
}

/** 3 significant digits, as the result table prints; null for a missing value. */
export function sig(x: number | undefined, digits = 3): number | null {
  return x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(digits));
}
