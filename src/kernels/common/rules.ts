// The rules many kernels share, each with one message, so a refusal reads the same whichever kernel gives it.
// Each returns the issues it finds (none when the rule holds); kernels concatenate them in `check`.
import type { DeviceCaps } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import type { ValidationIssue } from '../contract.ts';

/** f16 storage needs the device's shader-f16 feature. */
export function needF16(field: string, dtype: string, caps: DeviceCaps): ValidationIssue[] {
  return dtype === 'f16' && !caps.features.f16 ? [{ field, message: 'f16 needs the shader-f16 feature, which this adapter does not offer' }] : [];
}

/** A dimension the kernel reads as whole vec4s. `why` finishes the sentence, e.g. "for this kernel's vec4 loads". */
export function needVec4(field: string, value: number, why: string): ValidationIssue[] {
  return value % 4 === 0 ? [] : [{ field, message: `${value} must be a multiple of 4 ${why}` }];
}

/**
 * One dispatch dimension of `count` workgroups (`what`: "key tiles", "heads") against
 * maxComputeWorkgroupsPerDimension. `value` is the field's own value, shown first.
 */
export function fitGridDimension(field: string, value: number, count: number, what: string, caps: DeviceCaps): ValidationIssue[] {
  const max = caps.limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return [];
  const needs = count === value ? `${value} ${what}` : `${value} needs ${count} ${what}`;
  return [{ field, message: `${needs}, over this device's ${max} workgroups per dimension` }];
}

/** Workgroup memory of one module (`workgroupBytes` of its record) against maxComputeWorkgroupStorageSize. */
export function fitWorkgroupMemory(field: string, bytes: number, what: string, caps: DeviceCaps): ValidationIssue[] {
  const limit = caps.limits.maxComputeWorkgroupStorageSize;
  return bytes <= limit ? [] : [{ field, message: `${what} needs ${bytes} B of workgroup memory, over this device's maxComputeWorkgroupStorageSize of ${limit} B` }];
}

/** A golden file's tensor of the given rank, or a ConfigError naming it. */
export function requiredTensor(shapes: Record<string, number[]>, name: string, rank: number): number[] {
  const s = shapes[name];
  if (!s || s.length !== rank) throw new ConfigError([{ field: name, message: `expected a rank-${rank} tensor, got ${s ? `[${s}]` : 'none'}` }]);
  return s;
}
