// Check a kernel on the GPU against its float64 reference: fresh random inputs, poisoned outputs,
// per-output comparison. Used by the tests and by the UI's verification badge.
import type { GpuContext } from '../gpu/context.ts';
import type { AnyKernel, Config, KernelDefinition, OutputSpec } from './contract.ts';
import { DEFAULT_TOLERANCE, exact, relL2, rowSets, type CompareResult } from './compare.ts';
import { makeInputs, runKernel } from './execute.ts';
import { createRng } from './random.ts';
import type { HostTensor } from './tensor.ts';

export function compareOutputs(specs: OutputSpec[], got: Record<string, HostTensor>, want: Record<string, HostTensor>): CompareResult[] {
  const results: CompareResult[] = [];
  for (const spec of specs) {
    const w = want[spec.name];
    const g = got[spec.name];
    if (!w) continue; // the case does not pin this output
    if (!g) {
      results.push({ name: spec.name, ok: false, maxAbs: Infinity, relL2: Infinity, nonFinite: 0, detail: 'output missing' });
      continue;
    }
    const cmp = spec.compare ?? { kind: 'rel-l2' };
    switch (cmp.kind) {
      case 'rel-l2':
        results.push(relL2(spec.name, g.data, w.data, cmp.tolerance ?? DEFAULT_TOLERANCE[spec.dtype]));
        break;
      case 'exact':
        results.push(exact(spec.name, g.data, w.data));
        break;
      case 'row-sets':
        results.push(rowSets(spec.name, g.data, w.data, cmp.cols));
        break;
      case 'custom':
        results.push(cmp.fn(got, want));
        break;
    }
  }
  return results;
}

export interface CheckReport {
  kernel: string;
  config: Config;
  seed: number;
  results: CompareResult[];
  ok: boolean;
}

export async function checkAgainstReference<C extends Config>(ctx: GpuContext, def: KernelDefinition<C>, config: C, seed: number): Promise<CheckReport> {
  const inputs = makeInputs(def, config, createRng(seed));
  const got = await runKernel(ctx, def, config, inputs);
  const want = def.reference(inputs, config);
  const results = compareOutputs(def.outputs(config), got, want);
  return { kernel: def.id, config, seed, results, ok: results.length > 0 && results.every((r) => r.ok) };
}

export function summarise(r: CheckReport): string {
  const parts = r.results.map((x) => `${x.name}: rel-L2 ${x.relL2.toExponential(2)}, max-abs ${x.maxAbs.toExponential(2)}${x.detail ? ` (${x.detail})` : ''}`);
  return `${r.kernel} ${JSON.stringify(r.config)} seed=${r.seed}: ${r.ok ? 'OK' : 'MISMATCH'} ${parts.join('; ')}`;
}

export type { AnyKernel };
