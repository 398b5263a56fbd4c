// Generic validation, before anything is allocated: the schema's per-field bounds, the kernel's own rules,
// then every buffer the config implies (the kernel's buffer plan where it has one) against this device's
// binding and buffer limits.
import type { DeviceCaps } from '../../gpu/context.ts';
import { fmtBytes } from '../../gpu/buffers.ts';
import type { Config, FieldSpec, KernelDefinition, ValidationIssue } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import { parseDecimal, parseInteger } from '../../io/numbers.ts';
import { planIssues } from './buffer-plan.ts';

/** A value as a user would read it in a message (never "undefined" or "[object Object]"). */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export function checkField(field: string, spec: FieldSpec, value: unknown): ValidationIssue | undefined {
  switch (spec.type) {
    case 'int':
    case 'number': {
      // Text that did not read as a number (a URL's `S=1e3`): the grammar's own line says why.
      if (typeof value === 'string' && value !== '') {
        try {
          if (spec.type === 'int') parseInteger(value);
          else parseDecimal(value);
        } catch (e) {
          return { field, message: (e as Error).message };
        }
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) return { field, message: `must be a number, got ${showValue(value)}` };
      if (spec.type === 'int' && !Number.isInteger(value)) return { field, message: `must be an integer, got ${value}` };
      if (value < spec.min) return { field, message: `${value} is below the minimum ${spec.min}` };
      if (value > spec.max) return { field, message: `${value} is above the maximum ${spec.max}` };
      return undefined;
    }
    case 'bool':
      return typeof value === 'boolean' ? undefined : { field, message: `must be true or false, got ${showValue(value)}` };
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? undefined
        : { field, message: `must be one of ${spec.values.join(', ')}, got ${showValue(value)}` };
    case 'text':
      return typeof value === 'string' ? undefined : { field, message: `must be text, got ${showValue(value)}` };
  }
}

export function validateConfig<C extends Config>(def: KernelDefinition<C>, config: C, caps: DeviceCaps): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(config)) {
    if (!(key in def.schema)) issues.push({ field: key, message: `is not a setting of ${def.id} (settings: ${Object.keys(def.schema).join(', ')})` });
  }
  for (const [field, spec] of Object.entries(def.schema) as [string, FieldSpec][]) {
    const issue = checkField(field, spec, config[field]);
    if (issue) issues.push(issue);
  }
  if (issues.length) return issues;
  issues.push(...(def.check?.(config, caps) ?? []));
  if (issues.length) return issues;

  // Every buffer must fit its binding and buffer limits; name the buffer and both numbers.
  if (def.plan) return planIssues(def.plan(config, caps), caps);
  const maxBinding = caps.limits.maxStorageBufferBindingSize;
  const buffers = [
    ...def.inputs(config).map((t) => ({ name: t.name, bytes: tensorBytes(t.shape, t.dtype) })),
    ...def.outputs(config).map((t) => ({ name: t.name, bytes: tensorBytes(t.shape, t.dtype) })),
    ...(def.scratch?.(config) ?? []),
  ];
  for (const b of buffers) {
    if (b.bytes > maxBinding) {
      issues.push({
        field: b.name,
        message: `needs ${fmtBytes(b.bytes)}, over this device's maxStorageBufferBindingSize of ${fmtBytes(maxBinding)}`,
      });
    }
  }
  return issues;
}

/** Issue list -> one line per issue, "field: message". */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('\n');
}
