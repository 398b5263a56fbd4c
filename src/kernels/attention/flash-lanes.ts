// What the flash kernels share on the host: the workgroup size taken from the device limits and, for the
// masked-flash core (src/kernels/sparse), how many lanes split one row (or key) of D and which lane_sum the
// WGSL gets appended: a subgroup xor
// butterfly where the device has subgroups, workgroup memory otherwise (tests force the latter too).
import laneSumSubgroup from '../../../shaders/attention/flash-lane-sum-subgroup.wgsl?raw';
import laneSumWorkgroup from '../../../shaders/attention/flash-lane-sum-workgroup.wgsl?raw';
import type { DeviceCaps, DeviceLimits } from '../../gpu/context.ts';

/** Internal knobs of the flash kernels (not part of the config schema; tests use them to reach every path). */
export interface FlashOptions {
  /** false forces the workgroup-memory lane sum even where the device has subgroups. */
  subgroups?: boolean;
}

/** Largest power of two <= 256 that the device allows for a 1-D workgroup. */
export function flashWorkgroupSize(limits: DeviceLimits): number {
  const cap = Math.min(256, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  return 2 ** Math.floor(Math.log2(Math.max(1, cap)));
}

/**
 * Lanes that share one row of D/4 vec4s: 4 where there are at least 4 vec4s. Never more than 4, the smallest
 * subgroup size WebGPU allows, so a lane group never straddles two subgroups.
 */
export function lanesFor(d4: number): number {
  return d4 >= 4 ? 4 : d4 >= 2 ? 2 : 1;
}

export function usesSubgroups(caps: DeviceCaps, opts: FlashOptions = {}): boolean {
  return caps.features.subgroups && opts.subgroups !== false;
}

/** Workgroup bytes the lane sum itself needs (the workgroup-memory version keeps one vec4f per invocation). */
export function laneSumBytes(subgroups: boolean, wg: number): number {
  return subgroups ? 0 : wg * 16;
}

/** The WGSL to append to a flash kernel (it defines `lane_sum`) and the `enable` directives it needs. */
export function laneSumSource(subgroups: boolean): { wgsl: string; enable: string[] } {
  return subgroups ? { wgsl: laneSumSubgroup, enable: ['subgroups'] } : { wgsl: laneSumWorkgroup, enable: [] };
}
