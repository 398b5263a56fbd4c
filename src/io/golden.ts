// Golden files: one safetensors file = one verified case. `makeGolden` writes a case from a kernel's float64
// reference (our own fixtures); `verifyGolden` runs every registered kernel that implements the file's op on
// the GPU and compares each expected output.
import type { GpuContext } from '../gpu/context.ts';
import { describeError } from '../gpu/errors.ts';
import type { AnyKernel, Config, KernelDefinition } from '../kernels/contract.ts';
import { compareOutputs } from '../kernels/check.ts';
import type { CompareResult } from '../kernels/compare.ts';
import { runKernel } from '../kernels/execute.ts';
import { makeInputs } from '../kernels/execute.ts';
import { createRng } from '../kernels/random.ts';
import { numel, type HostTensor } from '../kernels/tensor.ts';
import { validateConfig } from '../kernels/common/validate.ts';
import { readSafetensors, writeSafetensors, type StWriteTensor } from './safetensors.ts';

export function makeGolden<C extends Config>(def: KernelDefinition<C>, config: C, seed: number): Uint8Array {
  if (!def.goldenMeta) throw new Error(`${def.id} has no golden format`);
  const inputs = makeInputs(def, config, createRng(seed));
  const outputs = def.reference(inputs, config);
  const tensors: Record<string, StWriteTensor> = {};
  const specs = [...def.inputs(config), ...def.outputs(config)];
  for (const spec of specs) {
    const t = inputs[spec.name] ?? outputs[spec.name];
    if (!t) continue;
    tensors[spec.name] = { dtype: spec.dtype === 'i32' || spec.dtype === 'u32' ? 'I32' : 'F32', shape: spec.shape, data: t.data };
  }
  return writeSafetensors(tensors, { kernel: def.implements ?? def.id, ...def.goldenMeta(config) });
}

export interface KernelVerification {
  kernel: string;
  /** Set when this kernel could not take the case (a constraint of the kernel or of this device). */
  skipped?: string;
  error?: string;
  results: CompareResult[];
  ok: boolean;
}

export interface GoldenVerification {
  file: string;
  op?: string;
  error?: string;
  kernels: KernelVerification[];
  ok: boolean;
}

export async function verifyGolden(ctx: GpuContext, bytes: Uint8Array, file: string, registry: readonly AnyKernel[]): Promise<GoldenVerification> {
  let parsed;
  try {
    parsed = readSafetensors(bytes, file);
  } catch (e) {
    return { file, error: describeError(e), kernels: [], ok: false };
  }
  const op = parsed.metadata.kernel;
  if (!op) return { file, error: `${file}: __metadata__ has no "kernel" entry naming the op`, kernels: [], ok: false };
  const candidates = registry.filter((k) => k.fromGolden && (k.implements === op || k.id === op));
  if (candidates.length === 0) {
    const known = [...new Set(registry.flatMap((k) => (k.fromGolden ? [k.implements ?? k.id] : [])))].join(', ');
    return { file, op, error: `${file}: no registered kernel implements "${op}" (known ops: ${known})`, kernels: [], ok: false };
  }
  const shapes = Object.fromEntries(Object.entries(parsed.tensors).map(([n, t]) => [n, t.shape]));
  const kernels: KernelVerification[] = [];
  for (const def of candidates) {
    kernels.push(await verifyWith(ctx, def, parsed.metadata, shapes, parsed.tensors));
  }
  const ran = kernels.filter((k) => !k.skipped);
  const error = ran.length === 0 ? `${file}: no kernel could take this case (${kernels.map((k) => `${k.kernel}: ${k.skipped}`).join('; ')})` : undefined;
  return { file, op, error, kernels, ok: !error && ran.every((k) => k.ok) };
}

async function verifyWith(
  ctx: GpuContext,
  def: AnyKernel,
  meta: Record<string, string>,
  shapes: Record<string, number[]>,
  tensors: Record<string, HostTensor>,
): Promise<KernelVerification> {
  let config: Config;
  try {
    config = def.fromGolden!(meta, shapes);
  } catch (e) {
    return { kernel: def.id, skipped: describeError(e), results: [], ok: false };
  }
  const issues = validateConfig(def, config, ctx);
  if (issues.length) return { kernel: def.id, skipped: issues.map((i) => `${i.field}: ${i.message}`).join('; '), results: [], ok: false };
  const inputs: Record<string, HostTensor> = {};
  for (const spec of def.inputs(config)) {
    const t = tensors[spec.name];
    if (!t) return { kernel: def.id, error: `the file has no input tensor "${spec.name}"`, results: [], ok: false };
    if (t.shape.length !== spec.shape.length || t.shape.some((x, i) => x !== spec.shape[i])) {
      return { kernel: def.id, error: `input "${spec.name}" has shape [${t.shape}], expected [${spec.shape}]`, results: [], ok: false };
    }
    inputs[spec.name] = t;
  }
  const outSpecs = def.outputs(config);
  const expected: Record<string, HostTensor> = {};
  for (const spec of outSpecs) {
    const t = tensors[spec.name];
    if (!t) continue;
    if (numel(t.shape) !== numel(spec.shape)) {
      return { kernel: def.id, error: `expected output "${spec.name}" has shape [${t.shape}], the kernel produces [${spec.shape}]`, results: [], ok: false };
    }
    expected[spec.name] = t;
  }
  if (Object.keys(expected).length === 0) {
    return { kernel: def.id, error: `the file holds none of the outputs ${outSpecs.map((s) => s.name).join(', ')}`, results: [], ok: false };
  }
  try {
    const got = await runKernel(ctx, def, config, inputs);
    const results = compareOutputs(outSpecs, got, expected);
    return { kernel: def.id, results, ok: results.every((r) => r.ok) };
  } catch (e) {
    return { kernel: def.id, error: describeError(e), results: [], ok: false };
  }
}

/** Human-readable lines for one file (used by the CLI and the UI). */
export function formatVerification(v: GoldenVerification): string[] {
  const lines = [`${v.ok ? 'PASS' : 'FAIL'} ${v.file}${v.op ? ` (${v.op})` : ''}`];
  if (v.error) lines.push(`  error: ${v.error}`);
  for (const k of v.kernels) {
    if (k.skipped) {
      lines.push(`  ${k.kernel}: not run: ${k.skipped}`);
      continue;
    }
    if (k.error) {
      lines.push(`  ${k.kernel}: FAIL ${k.error}`);
      continue;
    }
    for (const r of k.results) {
      const nums = `max-abs ${fmtErr(r.maxAbs)}  rel-L2 ${fmtErr(r.relL2)}`;
      lines.push(`  ${k.kernel.padEnd(28)} ${r.name.padEnd(14)} ${nums}  ${r.ok ? 'ok' : `MISMATCH${r.detail ? ` (${r.detail})` : ''}`}`);
    }
  }
  return lines;
}

function fmtErr(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}
