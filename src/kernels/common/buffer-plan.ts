// One buffer plan per kernel: every buffer an instance owns (inputs, outputs, scratch, uniforms, indirect
// arguments) with its size and role, from the config alone. Validation checks the same plan against the
// device's limits, `scratch` is the plan's scratch entries, and `allocate` makes the buffers, freeing every
// one already made if a later step throws.
import * as d from 'typegpu/data';
import type { AnyWgslData, Infer } from 'typegpu/data';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { fmtBytes } from '../../gpu/buffers.ts';
import type { TensorSpec, ValidationIssue } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';

export type BufferRole = 'input' | 'output' | 'scratch' | 'uniform' | 'indirect';

export interface PlannedBuffer {
  readonly role: BufferRole;
  readonly bytes: number;
  /** Uniforms: writes the value once the buffer exists. */
  readonly write?: (ctx: GpuContext, buffer: GPUBuffer) => void;
}

export type BufferPlan<N extends string = string> = Readonly<Record<N, PlannedBuffer>>;

/** A storage buffer: a tensor (input/output), scratch, or indirect dispatch arguments. */
export function planned(role: Exclude<BufferRole, 'uniform'>, bytes: number): PlannedBuffer {
  return { role, bytes };
}

/** A uniform buffer holding one typegpu struct, written with `value` when allocated. */
/**
 * The definition's input and output tensors as plan entries (sizes from shape and dtype). `names` types the
 * result and must be exactly the specs' names (checked), so the plan and the definition cannot disagree.
 */
export function plannedTensors<N extends string>(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], names: readonly N[]): Record<N, PlannedBuffer> {
  const entries = [
    ...inputs.map((t) => [t.name, planned('input', tensorBytes(t.shape, t.dtype))] as const),
    ...outputs.map((t) => [t.name, planned('output', tensorBytes(t.shape, t.dtype))] as const),
  ];
  const got = entries.map(([name]) => name).sort();
  const want = [...names].sort();
  if (got.join() !== want.join()) throw new Error(`buffer plan names tensors ${want.join(', ')}, the definition declares ${got.join(', ')}`);
  return Object.fromEntries(entries) as Record<N, PlannedBuffer>;
}

export function plannedUniform<T extends AnyWgslData>(schema: T, value: Infer<T>): PlannedBuffer {
  return {
    role: 'uniform',
    bytes: d.sizeOf(schema),
    write: (ctx, buffer) => ctx.root.createBuffer(schema as never, buffer).write(value as never),
  };
}

export function planEntries(plan: BufferPlan): { name: string; role: BufferRole; bytes: number }[] {
  return Object.entries(plan).map(([name, b]) => ({ name, role: b.role, bytes: b.bytes }));
}

/** The plan's scratch buffers, in the shape of KernelDefinition.scratch. */
export function planScratch(plan: BufferPlan): { name: string; bytes: number }[] {
  return planEntries(plan)
    .filter((b) => b.role === 'scratch')
    .map(({ name, bytes }) => ({ name, bytes }));
}

export function planBytes(plan: BufferPlan, role?: BufferRole): number {
  return planEntries(plan).reduce((sum, b) => sum + (role === undefined || b.role === role ? b.bytes : 0), 0);
}

/** Every buffer against this device's limits: one issue per buffer over a limit, naming both numbers. */
export function planIssues(plan: BufferPlan, caps: DeviceCaps): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const b of planEntries(plan)) {
    const [limitName, limit] =
      b.role === 'uniform'
        ? (['maxUniformBufferBindingSize', caps.limits.maxUniformBufferBindingSize] as const)
        : (['maxStorageBufferBindingSize', caps.limits.maxStorageBufferBindingSize] as const);
    if (b.bytes > limit) issues.push({ field: b.name, message: `needs ${fmtBytes(b.bytes)}, over this device's ${limitName} of ${fmtBytes(limit)}` });
    else if (b.bytes > caps.limits.maxBufferSize) {
      issues.push({ field: b.name, message: `needs ${fmtBytes(b.bytes)}, over this device's maxBufferSize of ${fmtBytes(caps.limits.maxBufferSize)}` });
    }
  }
  return issues;
}

// GPUBufferUsage is read at call time: in Node it exists only once the Dawn globals are installed.
function usageOf(role: BufferRole): GPUBufferUsageFlags {
  if (role === 'uniform') return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  return role === 'indirect' ? storage | GPUBufferUsage.INDIRECT : storage;
}

export interface Allocation<N extends string> {
  buffers: Readonly<Record<N, GPUBuffer>>;
  /** The input and output buffers by name: a KernelInstance's `tensors`. */
  tensors: Readonly<Record<string, GPUBuffer>>;
  /** Frees every buffer of the plan. */
  destroy(): void;
}

/** Make every buffer of the plan (labels `label:name`, or `name` without a label); if any step throws, the ones made are freed first. */
export function allocate<N extends string>(ctx: GpuContext, label: string, plan: BufferPlan<N>): Allocation<N> {
  const made: [N, GPUBuffer][] = [];
  const destroy = () => {
    for (const [, buffer] of made) ctx.buffers.destroy(buffer);
  };
  try {
    for (const [name, b] of Object.entries(plan) as [N, PlannedBuffer][]) {
      const buffer = ctx.buffers.create(label ? `${label}:${name}` : name, b.bytes, usageOf(b.role));
      made.push([name, buffer]);
      b.write?.(ctx, buffer);
    }
  } catch (e) {
    destroy();
    throw e;
  }
  const buffers = Object.fromEntries(made) as Record<N, GPUBuffer>;
  const tensors = Object.fromEntries(made.filter(([name]) => plan[name].role === 'input' || plan[name].role === 'output'));
  return { buffers, tensors, destroy };
}
