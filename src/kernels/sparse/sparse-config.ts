// What the sparse-attention kernels share: the GPU parameter struct of the masked-flash core
// (shaders/sparse/masked-flash.wgsl), its tile plan (rows x keys per workgroup, sized from the device's
// workgroup memory) and small schema pieces (the golden mappings are sparse-golden.ts).
import { ConfigError } from '../../gpu/errors.ts';
import maskedFlashWgsl from '../../../shaders/sparse/masked-flash.wgsl?raw';
import { laneSumSource, usesSubgroups, type FlashOptions } from '../attention/flash-lanes.ts';
import * as d from 'typegpu/data';
import type { Infer } from 'typegpu/data';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { createKernel, type StorageDType } from '../../gpu/shader.ts';
import { storage, uniform, type BindingRecord } from '../../gpu/bindings.ts';
import { workgroupArray, workgroupBytes, type ConstantRecord, type WorkgroupRecord } from '../../gpu/wgsl-declarations.ts';
import type { FieldSpec, ValidationIssue } from '../contract.ts';

/** Threads per workgroup of every sparse kernel: the WebGPU guaranteed minimum of maxComputeInvocationsPerWorkgroup. */
export const WG = 256;

/** The optional "what it attended to" output: small cases only, so benches do not pay for it. */
export const selectedField: FieldSpec = {
  type: 'bool',
  label: 'output selection',
  doc: 'also output what each query attended to (for the UI pattern view; leave off for benchmarks)',
  default: false,
};

/**
 * Parameters of the masked-flash core and the kernels built on it (sliding window, block select, DSA
 * attention). Row counts are in vec4s so WGSL indexes `array<vec4<elem>>` directly.
 */
export const SparseAttnParams = d
  .struct({
    T: d.u32,
    S: d.u32,
    Hq: d.u32,
    Hkv: d.u32,
    /** Hq / Hkv: query heads per KV head. */
    group: d.u32,
    /** vec4s from one key's K row to the next (Hkv * D / 4); V rows likewise. */
    k_row4: d.u32,
    v_row4: d.u32,
    causal: d.u32,
    scale: d.f32,
    /** Sliding window W and sink tokens. */
    window: d.u32,
    sinks: d.u32,
    /** Block select: keys per block, number of blocks. */
    block: d.u32,
    n_blocks: d.u32,
    /** Block select pooling: workgroups per block, and keys each one sums. */
    pieces: d.u32,
    piece: d.u32,
    /** Entries per query's key list (DSA topk) or blocks per (query, head) (block select). */
    top: d.u32,
    /** Workgroups along the rows of one KV head (the grid is Hkv * row_blocks, DSA: T * Hkv * row_blocks, times splits). */
    row_blocks: d.u32,
    /** Split-K: workgroups per row block, and positions of the row block's key sequence each one walks. */
    splits: d.u32,
    chunk: d.u32,
  })
  .$name('SparseAttnParams');

export interface FlashPlan {
  /** Rows (query, head pairs) per workgroup, keys per tile, lanes per score dot product. */
  BR: number;
  BK: number;
  SPLIT: number;
  D4: number;
  DV4: number;
  vFromK: boolean;
  /** The lanes of a dot product are added by a subgroup butterfly (else through workgroup memory). */
  subgroups: boolean;
  /** The rows' queries sit in workgroup memory (else they are re-read from global memory at every tile). */
  qShared: boolean;
  /** Workgroup bytes of the core's arrays (the kernel's extra arrays come on top). */
  sharedBytes: number;
}

/** Private accumulator vec4s per thread in the core (MAXC in masked-flash.wgsl). */
export const FLASH_MAXC = 8;

/** The core's workgroup arrays for a tile shape (their bytes are what the plan fits into the device). */
export function flashWorkgroup(p: Pick<FlashPlan, 'BR' | 'BK' | 'D4' | 'DV4' | 'vFromK' | 'qShared'>): WorkgroupRecord {
  return {
    qs: workgroupArray('vec4<f32>', p.qShared ? p.BR * p.D4 : 1), // the rows' queries, pre-scaled
    ks: workgroupArray('vec4<f32>', p.BK * p.D4),
    vs: workgroupArray('vec4<f32>', p.vFromK ? 1 : p.BK * p.DV4),
    ps: workgroupArray('f32', p.BR * p.BK), // scores
    tile_keys: workgroupArray('i32', p.BK),
    row_q: workgroupArray('i32', p.BR), // the row's q / out row (t * Hq + h), -1 for an unused row
    row_pos: workgroupArray('u32', p.BR), // the row's query position
  };
}

function flashShared(BR: number, BK: number, subgroups: boolean, qShared: boolean, D4: number, DV4: number, vFromK: boolean): number {
  return workgroupBytes({ ...flashWorkgroup({ BR, BK, D4, DV4, vFromK, qShared }), ...laneSumSource(subgroups, WG).workgroup });
}

/**
 * Pick the core's tile shape for head dims D (keys) / Dv (values): as many rows as asked (up to 16, a power
 * of two), each thread keeping at most FLASH_MAXC vec4 accumulators, then the largest key tile that fits the
 * device's workgroup memory next to `extraShared` bytes of the kernel's own arrays. Returns an issue naming D
 * when nothing fits.
 */
export function flashPlan(
  caps: DeviceCaps,
  o: { D: number; Dv: number; vFromK: boolean; rows: number; extraShared?: number },
  opts: FlashOptions = {},
): FlashPlan | ValidationIssue {
  const D4 = Math.ceil(o.D / 4);
  const DV4 = Math.ceil(o.Dv / 4);
  const budget = caps.limits.maxComputeWorkgroupStorageSize - (o.extraShared ?? 0);
  const wantRows = Math.min(16, 1 << Math.ceil(Math.log2(Math.max(1, o.rows))));
  let best: FlashPlan | undefined;
  for (let BR = wantRows; BR >= 1; BR /= 2) {
    const TPR = WG / BR;
    if (DV4 > FLASH_MAXC * TPR) continue; // accumulators per thread
    for (let BK = 32; BK >= 4; BK /= 2) {
      if (BK > TPR || BR * BK > WG) continue;
      const SPLIT = WG / (BR * BK);
      // A butterfly needs its lanes in one subgroup: at most 4, the smallest subgroup size WebGPU allows.
      const subgroups = usesSubgroups(caps, opts) && SPLIT <= 4;
      // Queries in workgroup memory where they fit beside the tile; else from global memory, so that all
      // rows still share each gathered tile (16 MLA heads x 576 dims are 36 KiB of f32 queries).
      const qShared = flashShared(BR, BK, subgroups, true, D4, DV4, o.vFromK) <= budget;
      const bytes = flashShared(BR, BK, subgroups, qShared, D4, DV4, o.vFromK);
      if (bytes > budget) continue;
      // Most work per barrier first (BR * BK), then more rows sharing each gathered K/V tile.
      if (!best || BR * BK > best.BR * best.BK) best = { BR, BK, SPLIT, D4, DV4, vFromK: o.vFromK, subgroups, qShared, sharedBytes: bytes };
      break;
    }
  }
  if (best) return best;
  return {
    field: 'D',
    message: `${o.D} (values ${o.Dv}) needs more than this device's ${caps.limits.maxComputeWorkgroupStorageSize}-byte workgroup memory for even a 1-row x 4-key tile`,
  };
}

export function isIssue(x: FlashPlan | ValidationIssue): x is ValidationIssue {
  return 'message' in x;
}

/** The plan, or a ConfigError naming the field when nothing fits (create() after check() passed cannot hit it). */
export function planOrThrow(x: FlashPlan | ValidationIssue): FlashPlan {
  if (isIssue(x)) throw new ConfigError([x]);
  return x;
}

/** The core's constants for a plan (generated as `const` lines; TS reads the same values). */
export function flashConstants(p: FlashPlan): ConstantRecord {
  return { WG, BR: p.BR, BK: p.BK, L: p.SPLIT, D4: p.D4, DV4: p.DV4, MAXC: FLASH_MAXC, V_FROM_K: p.vFromK ? 1 : 0, Q_SHARED: p.qShared ? 1 : 0 };
}

/** The core's bindings (masked-flash.wgsl): params, q, k, v, out, split partials. Kernels append theirs. */
export const FLASH_BINDINGS = {
  params: uniform(SparseAttnParams),
  q: storage('vec4<elem>'),
  k: storage('vec4<elem>'),
  v: storage('vec4<elem>'),
  out: storage('vec4<elem>', 'read_write'),
  // Split-K partials: acc [splits, T * Hq, DV4], then (m, l, -, -) [splits, T * Hq] (one buffer, so a kernel
  // with three tensors of its own stays within 8 storage bindings).
  part: storage('vec4<f32>', 'read_write'),
} as const;

/** A kernel on one of the sparse attention cores: its WGSL (visible() or visible4() and entry points) and what it adds to the core's. */
export interface SparseKernelSource<X extends BindingRecord, E extends string> {
  label: string;
  wgsl: string;
  elem: StorageDType;
  /** The kernel's own bindings, after the core's. */
  bindings: X;
  entries: readonly E[];
  /** The kernel's own constants and workgroup arrays. */
  constants?: ConstantRecord;
  workgroup?: WorkgroupRecord;
}

/**
 * Compile a core (masked-flash or key-walk: its WGSL, constants and workgroup arrays), the lane sum for
 * `laneCount` invocations (subgroup butterfly or workgroup memory) and a kernel, with the core's bindings.
 */
export function sparseCoreKernel<X extends BindingRecord, E extends string>(
  ctx: GpuContext,
  core: { wgsl: string; subgroups: boolean; laneCount: number; constants: ConstantRecord; workgroup: WorkgroupRecord },
  o: SparseKernelSource<X, E>,
) {
  const lanes = laneSumSource(core.subgroups, core.laneCount);
  const src = { label: o.label, wgsl: [core.wgsl, lanes.wgsl, o.wgsl].join('\n'), elem: o.elem, enable: lanes.enable };
  const bindings = { ...FLASH_BINDINGS, ...o.bindings };
  const constants = { ...core.constants, ...o.constants };
  return createKernel(ctx, { ...src, bindings, constants, workgroup: { ...core.workgroup, ...lanes.workgroup, ...o.workgroup } }, o.entries);
}

/** Compile the masked-flash core + a kernel's WGSL (its visible() and entry points) with the plan's tile constants. */
export function maskedFlashKernel<X extends BindingRecord, E extends string>(ctx: GpuContext, o: SparseKernelSource<X, E> & { plan: FlashPlan }) {
  // merge_main's arrays are its own: they do not count against the attend tile's budget.
  const workgroup = { ...flashWorkgroup(o.plan), merge_ml: workgroupArray('vec2<f32>', WG), merge_acc: workgroupArray('vec4<f32>', WG) };
  return sparseCoreKernel(ctx, { wgsl: maskedFlashWgsl, subgroups: o.plan.subgroups, laneCount: WG, constants: flashConstants(o.plan), workgroup }, o);
}

export type SparseAttnValues = Infer<typeof SparseAttnParams>;

/** Parameter values with the fields a kernel does not use set to 0. */
export function sparseAttnParams(p: Partial<SparseAttnValues> & Pick<SparseAttnValues, 'T' | 'S' | 'Hq' | 'Hkv' | 'k_row4' | 'v_row4' | 'scale'>): SparseAttnValues {
  return {
    group: p.Hq / p.Hkv,
    causal: 1,
    window: 0,
    sinks: 0,
    block: 0,
    n_blocks: 0,
    pieces: 1,
    piece: 0,
    top: 0,
    row_blocks: 1,
    splits: 1,
    chunk: 0x7fffffff,
    ...p,
  };
}

/** Sum over x = lo..hi of clamp(x, floor, ceil) (floor <= ceil), in closed form so cost models stay O(1). */
export function sumClamped(lo: number, hi: number, floor: number, ceil: number): number {
  if (hi < lo) return 0;
  const seg = (a: number, b: number) => (b < a ? 0 : ((a + b) * (b - a + 1)) / 2); // sum of x over a..b
  const below = Math.max(0, Math.min(hi, floor - 1) - lo + 1); // x < floor
  const above = Math.max(0, hi - Math.max(lo, ceil + 1) + 1); // x > ceil
  return below * floor + above * ceil + seg(Math.max(lo, floor), Math.min(hi, ceil));
}

/** A numeric field borrowed from another schema with its own default or doc. */
export function numField<F extends Extract<FieldSpec, { type: 'int' | 'number' }>>(spec: F, patch: { default?: number; doc?: string }): F {
  return { ...spec, ...patch };
}
