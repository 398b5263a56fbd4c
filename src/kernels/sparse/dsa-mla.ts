// sparse.dsa_attention in MLA latent mode: host side of shaders/sparse/dsa-mla.wgsl, the heads-as-M latent core
// (shaders/lib/latent-split.wgsl, shared with mla.decode_absorbed) over each query's top-k list. Plans the
// split of the list, injects it as constants and records two dispatches (split_main, merge_main). Also the
// attention stage of sparse.dsa in MLA mode.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/sparse/dsa-mla.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { createKernel, grid, type StorageDType } from '../../gpu/shader.ts';
import type { ValidationIssue } from '../contract.ts';
import { planned, plannedUniform } from '../common/buffer-plan.ts';
import { BYTES_PER } from '../tensor.ts';
import { usesSubgroups } from '../attention/flash-lanes.ts';
import { checkLatentSplit, latentConstants, latentLanes, latentMergeWorkgroups, latentPartialBytes, planLatentSplit, type LatentSplitPlan } from '../mla/latent-split.ts';
import type { SplitOptions } from './flash-split.ts';

/** merge_main's invocations per workgroup (one latent column quad each: 16 x splits x 16 B of partials). */
const MERGE_WG = 16;

const DsaMlaParams = d
  .struct({
    T: d.u32,
    S: d.u32,
    H: d.u32,
    /** Value (c_KV) columns and RoPE columns of a latent row (dc + dr = D). */
    dc: d.u32,
    dr: d.u32,
    /** Entries per query's list, causal flag, softmax scale. */
    top: d.u32,
    causal: d.u32,
    scale: d.f32,
    /** Ranges of a list, positions per range (the last may be shorter), head blocks. */
    splits: d.u32,
    keys_per_split: d.u32,
    blocks: d.u32,
  })
  .$name('DsaMlaParams');

/** The shape fields the MLA path reads (a DsaAttentionShape in MLA mode). */
export interface DsaMlaShape {
  T: number;
  S: number;
  Hq: number;
  D: number;
  Dr: number;
  topk: number;
  causal: boolean;
}

/** The split of each query's list: the core's rule over its topk positions (opts.chunk forces positions per range). */
export function planDsaMla(c: DsaMlaShape, el: number, opts: SplitOptions = {}): LatentSplitPlan {
  return planLatentSplit({ T: c.T, H: c.Hq, keys: c.topk, dc: c.D - c.Dr, dr: c.Dr, el, keysPerSplit: opts.chunk });
}

/** Workgroups of each dispatch, and bytes of latent rows one split_main workgroup gathers at most. */
export function dsaMlaGeometry(c: DsaMlaShape, el: number, opts: SplitOptions = {}) {
  const p = planDsaMla(c, el, opts);
  return {
    plan: p,
    split: c.T * p.blocks * p.splits,
    merge: latentMergeWorkgroups(p, c.T, c.Hq, MERGE_WG),
    bytesPerWorkgroup: Math.min(p.keysPerSplit, c.topk) * c.D * el,
  };
}

export function checkDsaMla(c: DsaMlaShape, _caps: DeviceCaps, dtype: StorageDType): ValidationIssue[] {
  return checkLatentSplit(planDsaMla(c, BYTES_PER[dtype]), { dc: 'D', dr: 'Dr' });
}

/** The stage's own buffers: its parameters and the ranges' partials (names shared with the GQA stage). */
export function dsaMlaStageBuffers(c: DsaMlaShape, scale: number, dtype: StorageDType, opts: SplitOptions = {}) {
  const p = planDsaMla(c, BYTES_PER[dtype], opts);
  return {
    attention_params: plannedUniform(DsaMlaParams, {
      T: c.T,
      S: c.S,
      H: c.Hq,
      dc: c.D - c.Dr,
      dr: c.Dr,
      top: c.topk,
      causal: c.causal ? 1 : 0,
      scale,
      splits: p.splits,
      keys_per_split: p.keysPerSplit,
      blocks: p.blocks,
    }),
    attention_part: planned('scratch', latentPartialBytes(c.T * c.Hq, p.splits, c.D - c.Dr)),
  };
}

const BINDINGS = {
  params: uniform(DsaMlaParams),
  q: storage('elem'),
  kv_latent: storage('elem'),
  k_pe: storage('elem'),
  topk_indices: storage('i32'),
  part: storage('f32', 'read_write'),
  out: storage('elem', 'read_write'),
};

export interface DsaMlaIo {
  q: GPUBuffer;
  /** The latent rows [S, D]. */
  kv: GPUBuffer;
  topk_indices: GPUBuffer;
  out: GPUBuffer;
  attention_params: GPUBuffer;
  attention_part: GPUBuffer;
}

export async function createDsaMlaStage(ctx: GpuContext, c: DsaMlaShape, dtype: StorageDType, io: DsaMlaIo, label: string, opts: SplitOptions = {}) {
  const p = planDsaMla(c, BYTES_PER[dtype], opts);
  const lanes = latentLanes(usesSubgroups(ctx, opts));
  const kernel = await createKernel(
    ctx,
    {
      label,
      wgsl: [wgsl, lanes.wgsl].join('\n'),
      elem: dtype,
      enable: lanes.enable,
      bindings: BINDINGS,
      constants: { ...latentConstants(p), WG: MERGE_WG },
      workgroup: lanes.workgroup,
    },
    ['split_main', 'merge_main'] as const,
  );
  const group = kernel.bind(
    { params: io.attention_params, q: io.q, kv_latent: io.kv, k_pe: io.kv, topk_indices: io.topk_indices, part: io.attention_part, out: io.out },
    label,
  );
  const g = dsaMlaGeometry(c, BYTES_PER[dtype], opts);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const splitGrid = grid(g.split, maxDim);
  const mergeGrid = grid(g.merge, maxDim);
  return {
    /** Whether lane_sum is the subgroup butterfly (else workgroup memory; tests). */
    subgroupLanes: lanes.subgroups,
    encode(pass: GPUComputePassEncoder) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.split_main);
      pass.dispatchWorkgroups(...splitGrid);
      pass.setPipeline(kernel.pipelines.merge_main);
      pass.dispatchWorkgroups(...mergeGrid);
    },
  };
}
