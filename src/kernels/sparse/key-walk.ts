// Host side of the barrier-free key-walk core (shaders/sparse/key-walk.wgsl) that sliding window, block
// select and DSA attention in GQA layout run on: its lane plan, its constants, and the split-K geometry in
// walkers (one small workgroup each) with the merge dispatch that folds their partials.
import walkWgsl from '../../../shaders/sparse/key-walk.wgsl?raw';
import { usesSubgroups } from '../attention/flash-lanes.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { grid } from '../../gpu/shader.ts';
import type { BindingRecord } from '../../gpu/bindings.ts';
import type { ConstantRecord } from '../../gpu/wgsl-declarations.ts';
import { WG, sparseCoreKernel, type SparseKernelSource } from './sparse-config.ts';
import { flashSplit, type FlashSplit, type SplitOptions } from './flash-split.ts';

/** Rows a walker owns (a quad: its scores and softmax state are vec4s). */
export const WALK_ROWS = 4;
/** Keys a walker scores per online-max update (walk_four). */
export const WALK_KEYS = 4;

export interface WalkPlan {
  /** Invocations per walker (= workgroup): at most 4, the smallest subgroup size WebGPU allows. */
  LANES: number;
  /** vec4 columns of q / acc each lane keeps per row. */
  COLS: number;
  D4: number;
  DV4: number;
  /** lane_sum by subgroup butterfly (else workgroup memory, two barriers a call). */
  subgroups: boolean;
}

/** The lane plan for head dims D (keys) / Dv (values): 4 lanes (fewer for rows under 4 vec4s), each COLS columns. */
export function walkPlan(caps: DeviceCaps, o: { D: number; Dv: number }, opts: SplitOptions = {}): WalkPlan {
  const D4 = Math.ceil(o.D / 4);
  const DV4 = Math.ceil(o.Dv / 4);
  const widest = Math.max(D4, DV4);
  const LANES = widest >= 4 ? 4 : widest >= 2 ? 2 : 1;
  return { LANES, COLS: Math.ceil(widest / LANES), D4, DV4, subgroups: usesSubgroups(caps, opts) };
}

/**
 * Split of `items` quads whose key sequences are at most `keys` positions of `bytesPerKey` each, in walkers:
 * the split rule of flash-split.ts (about SPLIT_TARGET_WORKGROUPS walkers, at most SPLIT_MAX_BYTES of K/V each) with
 * chunks in whole fours of keys.
 */
export function walkSplit(o: { items: number; keys: number; bytesPerKey: number }, opts: SplitOptions = {}): FlashSplit {
  return flashSplit({ ...o, BK: WALK_KEYS }, opts);
}

/** Bytes of the partials buffer: per split and out row, DV4 accumulator vec4s and one (m, l) vec4. */
export function walkPartialBytes(split: FlashSplit, outRows: number, p: Pick<WalkPlan, 'DV4'>): number {
  return split.splits === 1 ? 16 : split.splits * outRows * (p.DV4 + 1) * 16;
}

/** The core's constants (generated as `const` lines). L is the lane count lane_sum adds over. */
export function walkConstants(p: WalkPlan): ConstantRecord {
  return { WG, LANES: p.LANES, L: p.LANES, COLS: p.COLS, D4: p.D4, DV4: p.DV4 };
}

/** Compile the key-walk core + a kernel's WGSL (its visible4() and entry points). */
export function walkKernel<X extends BindingRecord, E extends string>(ctx: GpuContext, o: SparseKernelSource<X, E> & { plan: WalkPlan }) {
  return sparseCoreKernel(ctx, { wgsl: walkWgsl, subgroups: o.plan.subgroups, laneCount: o.plan.LANES, constants: walkConstants(o.plan), workgroup: {} }, o);
}

/** The merge dispatch (one invocation per out vec4, WG a workgroup), after the walkers in the same pass; nothing with one split. */
export function walkMergeStep(ctx: GpuContext, split: FlashSplit, outRows: number, p: Pick<WalkPlan, 'DV4'>) {
  const mergeGrid = grid(Math.ceil((outRows * p.DV4) / WG), ctx.limits.maxComputeWorkgroupsPerDimension);
  return (pass: GPUComputePassEncoder, merge: GPUComputePipeline) => {
    if (split.splits === 1) return;
    pass.setPipeline(merge);
    pass.dispatchWorkgroups(...mergeGrid);
  };
}
