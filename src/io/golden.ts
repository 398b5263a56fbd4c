// Golden files: one safetensors file = one verified case. `makeGolden` writes a case from a kernel's float64
// reference (our own fixtures); `verifyGolden` runs every registered kernel that implements the file's op on
// the GPU and compares each expected output.
import type { GpuContext } from '../gpu/context.ts';
import { describeError } from '../gpu/errors.ts';
import { withDefaults, type AnyKernel, type Config, type ConfigValue, type FieldSpec, type KernelDefinition, type OutputSpec } from '../kernels/contract.ts';
import { compareOutputs } from '../kernels/check.ts';
import { DEFAULT_TOLERANCE, type CompareResult } from '../kernels/compare.ts';
import { runKernel } from '../kernels/execute.ts';
import { makeInputs } from '../kernels/execute.ts';
import { createRng } from '../kernels/random.ts';
import { numel, type HostTensor } from '../kernels/tensor.ts';
import { validateConfig } from '../kernels/common/validate.ts';
import { hostData, readSafetensors, writeSafetensors, type Safetensors, type StDType, type StTensor, type StWriteTensor } from './safetensors.ts';
import { parseDecimal, parseInteger } from './numbers.ts';
import { printable, quote } from './printable.ts';

/** Host bytes one golden case needs while it is written: inputs and outputs in f64 (the reference) and the file. */
export function goldenHostBytes<C extends Config>(def: KernelDefinition<C>, config: C): number {
  const elements = [...def.inputs(config), ...def.outputs(config)].reduce((a, t) => a + numel(t.shape), 0);
  return elements * (8 + 8 + 4);
}

export function makeGolden<C extends Config>(def: KernelDefinition<C>, config: C, seed: number): Uint8Array {
  if (!def.goldenMeta) throw new Error(`${def.id} has no golden format`);
  const inputs = makeInputs(def, config, createRng(seed));
  const outputs = def.reference(inputs, config);
  const tensors: Record<string, StWriteTensor> = {};
  const specs = [...def.inputs(config), ...def.outputs(config)];
  for (const spec of specs) {
    const t = inputs[spec.name] ?? outputs[spec.name];
    if (!t) continue;
    // Half-precision tensors are stored as F16: the reference computed from the rounded inputs, so the
    // file must hold exactly those (unrounded f32 inputs would be a different case), and verify judges an
    // F16 expectation at half precision.
    const dtype = spec.dtype === 'i32' || spec.dtype === 'u32' ? 'I32' : spec.dtype === 'f16' ? 'F16' : 'F32';
    tensors[spec.name] = { dtype, shape: spec.shape, data: t.data };
  }
  return writeSafetensors(tensors, { kernel: def.implements ?? def.id, ...def.goldenMeta(config) });
}

export interface KernelVerification {
  kernel: string;
  /** Set when this kernel could not take the case (a constraint of the kernel or of this device). */
  skipped?: string;
  error?: string;
  /** How the comparison differs from the default (an F16/BF16 expectation judged at its own precision). */
  notes?: string[];
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

/** Parse `bytes` and verify the case (the UI's path; the CLI reads files with readSafetensorsFile). */
export async function verifyGolden(ctx: GpuContext, bytes: Uint8Array, file: string, registry: readonly AnyKernel[]): Promise<GoldenVerification> {
  let parsed: Safetensors;
  try {
    parsed = readSafetensors(bytes, printable(file));
  } catch (e) {
    return { file, error: describeError(e), kernels: [], ok: false };
  }
  return verifyParsed(ctx, parsed, file, registry);
}

/** The op a case names and the kernels that implement it, or the one-line reason there are none. */
export function candidatesFor(parsed: Safetensors, file: string, registry: readonly AnyKernel[]): { op?: string; kernels: AnyKernel[]; error?: string } {
  const where = printable(file);
  const op = parsed.metadata.kernel;
  if (!op) return { kernels: [], error: `${where}: __metadata__ has no "kernel" entry naming the op` };
  const kernels = registry.filter((k) => k.fromGolden && (k.implements === op || k.id === op));
  if (kernels.length === 0) {
    const known = [...new Set(registry.flatMap((k) => (k.fromGolden ? [k.implements ?? k.id] : [])))].join(', ');
    return { op, kernels, error: `${where}: no registered kernel implements ${quote(op)} (known ops: ${known})` };
  }
  return { op, kernels };
}

export async function verifyParsed(ctx: GpuContext, parsed: Safetensors, file: string, registry: readonly AnyKernel[]): Promise<GoldenVerification> {
  const { op, kernels: candidates, error: noKernel } = candidatesFor(parsed, file, registry);
  if (noKernel) return { file, op, error: noKernel, kernels: [], ok: false };
  const shapes: Record<string, number[]> = Object.create(null);
  for (const [n, t] of Object.entries(parsed.tensors)) shapes[n] = t.shape;
  const vocabulary = hyperParameters(registry);
  const opFields = new Set(candidates.flatMap((k) => Object.keys(k.schema)));
  const kernels: KernelVerification[] = [];
  for (const def of candidates) {
    kernels.push(await verifyWith(ctx, def, parsed.metadata, shapes, parsed.tensors, vocabulary, opFields));
  }
  const ran = kernels.filter((k) => !k.skipped);
  const error = ran.length === 0 ? `${printable(file)}: no kernel could take this case (${kernels.map((k) => `${k.kernel}: ${k.skipped}`).join('; ')})` : undefined;
  return { file, op, error, kernels, ok: !error && ran.every((k) => k.ok) };
}

/**
 * Metadata names that mean a model's hyper-parameter under its config.json name, and the config fields they
 * must agree with (the first one the kernel has).
 */
const ALIASES: Record<string, readonly string[]> = {
  num_heads: ['H', 'Hq'],
  n_heads: ['H', 'Hq'],
  num_attention_heads: ['Hq', 'H'],
  num_key_value_heads: ['Hkv'],
  head_dim: ['D'],
  qk_nope_head_dim: ['dn'],
  qk_rope_head_dim: ['dr'],
  v_head_dim: ['dv'],
  kv_lora_rank: ['dc'],
  sliding_window: ['window'],
  index_topk: ['topk'],
  index_n_heads: ['Hi'],
  index_head_dim: ['Di'],
  n_routed_experts: ['E'],
  num_experts: ['E'],
  n_activated_experts: ['topk'],
  num_experts_per_tok: ['topk'],
  n_expert_groups: ['n_groups'],
  n_group: ['n_groups'],
  n_limited_groups: ['topk_groups'],
  topk_group: ['topk_groups'],
  moe_inter_dim: ['inter'],
  moe_intermediate_size: ['inter'],
  hidden_size: ['dim'],
  routed_scaling_factor: ['route_scale'],
  scoring_func: ['score_func'],
};

/** Every metadata key that names a hyper-parameter of some registered kernel: its fields, its golden keys, the aliases. */
function hyperParameters(registry: readonly AnyKernel[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>(Object.entries(ALIASES));
  for (const k of registry) {
    for (const f of Object.keys(k.schema)) if (!out.has(f)) out.set(f, [f]);
    if (k.goldenMeta) {
      try {
        for (const f of Object.keys(k.goldenMeta(withDefaults(k, {})))) if (!out.has(f)) out.set(f, [f]);
      } catch {
        // a kernel whose defaults do not make a case still names its fields in the schema
      }
    }
  }
  return out;
}

/** Does the metadata text say the same value as the config field (in the one number grammar: `3.0` is no int)? */
function sameValue(text: string, value: ConfigValue, spec: FieldSpec | undefined): boolean {
  if (typeof value === 'boolean') return text === (value ? '1' : '0') || text === String(value);
  if (typeof value === 'string') return text === value;
  try {
    return (spec?.type === 'int' ? parseInteger(text) : parseDecimal(text)) === value;
  } catch {
    return false;
  }
}

/**
 * Metadata the kernel's fromGolden did not read must still agree with the case: a key naming some kernel's
 * hyper-parameter either applies to this op (and then equals what the tensors imply) or is refused, so a
 * `window` on a dense-attention case or a `kv_lora_rank` the tensors contradict cannot pass unnoticed.
 * Keys no kernel knows (seed, generator, margins) are the file's own notes and stay allowed.
 */
function metadataIssue(def: AnyKernel, meta: Record<string, string>, read: Set<string>, config: Config, vocabulary: Map<string, readonly string[]>, opFields: Set<string>): string | undefined {
  for (const [key, text] of Object.entries(meta)) {
    if (key === 'kernel' || read.has(key)) continue;
    const fields = vocabulary.get(key);
    if (!fields) continue;
    const field = fields.find((f) => f in def.schema);
    if (field === undefined) {
      if (fields.some((f) => opFields.has(f))) continue; // another kernel of this op takes it
      return `metadata ${quote(key)} does not apply to ${quote(meta.kernel ?? '')} (no kernel of that op has such a setting)`;
    }
    const value = config[field]!;
    if (!sameValue(text, value, def.schema[field])) {
      const from = typeof value === 'number' ? [...def.inputs(config), ...def.outputs(config)].find((t) => t.shape.includes(value)) : undefined;
      return `metadata ${quote(key)} = ${quote(text)} disagrees with the case: ${field} = ${value}${from ? ` (tensor ${quote(from.name)} [${from.shape}])` : ''}`;
    }
  }
  return undefined;
}

/** rel-L2 tolerance an expectation stored in half precision can be held to: a few times its rounding error. */
const HALF_TOLERANCE: Partial<Record<StDType, number>> = { F16: 2e-3, BF16: 1e-2 };

async function verifyWith(
  ctx: GpuContext,
  def: AnyKernel,
  meta: Record<string, string>,
  shapes: Record<string, number[]>,
  tensors: Record<string, StTensor>,
  vocabulary: Map<string, readonly string[]>,
  opFields: Set<string>,
): Promise<KernelVerification> {
  let config: Config;
  // Record what fromGolden reads, so the rest of the metadata can be held to the case too.
  const read = new Set<string>();
  const watched = new Proxy(meta, {
    get(t, k) {
      if (typeof k === 'string') read.add(k);
      return Reflect.get(t, k);
    },
    has(t, k) {
      if (typeof k === 'string') read.add(k);
      return Reflect.has(t, k);
    },
  });
  try {
    config = def.fromGolden!(watched, shapes);
  } catch (e) {
    return { kernel: def.id, skipped: describeError(e), results: [], ok: false };
  }
  const issues = validateConfig(def, config, ctx);
  if (issues.length) return { kernel: def.id, skipped: issues.map((i) => `${i.field}: ${i.message}`).join('; '), results: [], ok: false };
  const metaError = metadataIssue(def, meta, read, config, vocabulary, opFields);
  if (metaError) return { kernel: def.id, error: metaError, results: [], ok: false };
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const inputs: Record<string, HostTensor> = {};
  for (const spec of def.inputs(config)) {
    const t = tensors[spec.name];
    if (!t) return { kernel: def.id, error: `the file has no input tensor ${quote(spec.name)}`, results: [], ok: false };
    if (!same(t.shape, spec.shape)) return { kernel: def.id, error: `input ${quote(spec.name)} has shape [${t.shape}], expected [${spec.shape}]`, results: [], ok: false };
    inputs[spec.name] = { shape: t.shape, data: hostData(t) };
  }
  const outSpecs: OutputSpec[] = [];
  const expected: Record<string, HostTensor> = {};
  const notes: string[] = [];
  for (const spec of def.outputs(config)) {
    const t = tensors[spec.name];
    outSpecs.push(spec);
    if (!t) continue;
    if (!same(t.shape, spec.shape)) {
      return { kernel: def.id, error: `expected output ${quote(spec.name)} has shape [${t.shape}], the kernel produces [${spec.shape}]`, results: [], ok: false };
    }
    const half = HALF_TOLERANCE[t.dtype];
    if (half !== undefined) {
      const cmp = spec.compare ?? { kind: 'rel-l2' };
      if (cmp.kind === 'custom') {
        return { kernel: def.id, error: `expected output ${quote(spec.name)} is ${t.dtype}: ${cmp.describe} needs f32 values (store it as F32)`, results: [], ok: false };
      }
      if (cmp.kind === 'rel-l2') {
        const tolerance = Math.max(cmp.tolerance ?? DEFAULT_TOLERANCE[spec.dtype], half);
        outSpecs[outSpecs.length - 1] = { ...spec, compare: { kind: 'rel-l2', tolerance } };
        notes.push(`expected ${quote(spec.name)} is stored as ${t.dtype}: judged at rel-L2 ${tolerance} (its own rounding), not ${cmp.tolerance ?? DEFAULT_TOLERANCE[spec.dtype]}`);
      }
    }
    expected[spec.name] = { shape: t.shape, data: hostData(t) };
  }
  if (Object.keys(expected).length === 0) {
    return { kernel: def.id, error: `the file holds none of the outputs ${outSpecs.map((s) => s.name).join(', ')}`, results: [], ok: false };
  }
  // A custom comparison reads several outputs together (MoE routing: weights by their indices).
  const together = outSpecs.filter((s) => s.compare?.kind === 'custom' && expected[s.name]);
  for (const s of together) {
    const missing = outSpecs.find((o) => !expected[o.name]);
    if (missing) return { kernel: def.id, error: `expected output ${quote(s.name)} is compared together with ${quote(missing.name)}, which the file does not have`, results: [], ok: false };
  }
  try {
    const got = await runKernel(ctx, def, config, inputs);
    const results = compareOutputs(outSpecs, got, expected);
    return { kernel: def.id, notes: notes.length ? notes : undefined, results, ok: results.every((r) => r.ok) };
  } catch (e) {
    return { kernel: def.id, error: describeError(e), results: [], ok: false };
  }
}

/** Human-readable lines for one file (used by the CLI and the UI). */
export function formatVerification(v: GoldenVerification): string[] {
  // Names and messages come from the file: escaped, so no newline or terminal escape in them can forge a line.
  const lines = [`${v.ok ? 'PASS' : 'FAIL'} ${printable(v.file)}${v.op ? ` (${printable(v.op)})` : ''}`];
  if (v.error) lines.push(`  error: ${printable(v.error)}`);
  for (const k of v.kernels) {
    if (k.skipped) {
      lines.push(`  ${k.kernel}: not run: ${printable(k.skipped)}`);
      continue;
    }
    if (k.error) {
      lines.push(`  ${k.kernel}: FAIL ${printable(k.error)}`);
      continue;
    }
    for (const n of k.notes ?? []) lines.push(`  ${k.kernel}: note: ${printable(n)}`);
    for (const r of k.results) {
      const nums = `max-abs ${fmtErr(r.maxAbs)}  rel-L2 ${fmtErr(r.relL2)}`;
      lines.push(`  ${k.kernel.padEnd(28)} ${r.name.padEnd(14)} ${nums}  ${r.ok ? 'ok' : `MISMATCH${r.detail ? ` (${printable(r.detail)})` : ''}`}`);
    }
  }
  return lines;
}

function fmtErr(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}
