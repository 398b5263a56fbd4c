// What the flash kernels share on the host: the workgroup size taken from the device limits and, for the
// kernels that split one dot product over L lanes (the key-walk core in src/kernels/sparse, the
// indexer's few-query path), which lane_sum of the WGSL library they include: a subgroup xor butterfly
// where the device has subgroups, workgroup memory otherwise (tests force the latter too).
import laneSumSubgroup from '../../../shaders/lib/lane-sum-subgroup.wgsl?raw';
import laneSumWorkgroup from '../../../shaders/lib/lane-sum-workgroup.wgsl?raw';
import type { DeviceCaps, DeviceLimits } from '../../gpu/context.ts';
import { workgroupArray, type WorkgroupRecord } from '../../gpu/wgsl-declarations.ts';

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

export function usesSubgroups(caps: DeviceCaps, opts: FlashOptions = {}): boolean {
  return caps.features.subgroups && opts.subgroups !== false;
}

/**
 * The lane sum of a WG-invocation workgroup: its WGSL (defines `lane_sum`), the `enable` directives it needs,
 * and its workgroup arrays (the workgroup-memory version keeps one vec4f per invocation; the subgroup one none).
 */
export function laneSumSource(subgroups: boolean, wg: number): { wgsl: string; enable: string[]; workgroup: WorkgroupRecord } {
  return subgroups
    ? { wgsl: laneSumSubgroup, enable: ['subgroups'], workgroup: {} }
    : { wgsl: laneSumWorkgroup, enable: [], workgroup: { lane_red: workgroupArray('vec4<f32>', wg) } };
}
