// What the sparse-attention kernels share: the GPU parameter struct and bindings of the key-walk core
// (shaders/sparse/key-walk.wgsl, compiled by sparse/key-walk.ts), how a kernel is compiled on it, and small
// schema pieces (the golden mappings are sparse-golden.ts).
import { laneSumSource } from '../attention/flash-lanes.ts';
import * as d from 'typegpu/data';
import type { Infer } from 'typegpu/data';
import type { GpuContext } from '../../gpu/context.ts';
import { createKernel, type StorageDType } from '../../gpu/shader.ts';
import { storage, uniform, type BindingRecord } from '../../gpu/bindings.ts';
import type { ConstantRecord, WorkgroupRecord } from '../../gpu/wgsl-declarations.ts';
import type { FieldSpec } from '../contract.ts';

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
 * Parameters of the key-walk core and the kernels built on it (sliding window, block select, DSA
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

/** The core's bindings (key-walk.wgsl): params, q, k, v, out, split partials. Kernels append theirs. */
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
 * Compile the core (its WGSL, constants and workgroup arrays), the lane sum for
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
