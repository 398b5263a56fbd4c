// mla.decode_absorbed: host side of shaders/mla/decode-absorbed.wgsl. Plans the split-K decomposition (heads
// per workgroup, column groups, key tile, key ranges), injects it as constants, and records four dispatches.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/mla/decode-absorbed.wgsl?raw';
import { storage, storageBindingCount, uniform } from '../../gpu/bindings.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import type { ConfigOf, ConfigSchema, KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { BYTES_PER } from '../tensor.ts';
import { mlaDecodeFromGolden, mlaDecodeGoldenMeta } from './mla-golden.ts';
import { MAX_BYTES_PER_WORKGROUP, checkLatentSplit, latentConstants, latentLanes, latentMergeWorkgroups, latentPartialBytes, planLatentSplit, type LatentSplitPlan } from './latent-split.ts';
import {
  MLA_ABSORBED_BENCHMARKS,
  MLA_DECODE_TEST_CASES,
  MLA_PARAM_FIELDS,
  absorbedFlops,
  checkMlaDecode,
  costOf,
  latentCacheBytes,
  mlaDecodeInputs,
  mlaDecodeOutputs,
  mlaDecodeRandomInputs,
  mlaDecodeReferenceFor,
  mlaDecodeSchema,
  mlaParams,
} from './mla-config.ts';

export const mlaAbsorbedSchema = {
  ...mlaDecodeSchema,
  splits: { type: 'int', label: 'KV splits', doc: 'split-K ranges of the cache (flash decoding); 0 = automatic', default: 0, min: 0, max: 256 },
} as const satisfies ConfigSchema;

/** The decode config plus `splits`: key ranges the cache is cut into, 0 for the planner's choice. */
export type MlaAbsorbedConfig = ConfigOf<typeof mlaAbsorbedSchema>;

const MlaAbsorbedParams = d
  .struct({
    ...MLA_PARAM_FIELDS,
    /** Key ranges, keys per range (the last may be shorter), head blocks of split_main. */
    splits: d.u32,
    keys_per_split: d.u32,
    blocks: d.u32,
  })
  .$name('MlaAbsorbedParams');

/**
 * Below LONG_CONTEXT keys the rule of lib/latent-split's planner is relaxed: a shorter cache holds little per
 * step, and there a range's fixed cost (its 8 * HO heads x d_c partial written and merged again, about as many
 * bytes as 28 f32 latent rows) would dominate, so a range is at least 4 full key tiles.
 */
const LONG_CONTEXT = 8192;
const MIN_KEYS_SHORT = 4 * 32;
/**
 * The fixed part of the layout: absorb_main's invocations per workgroup (4 columns each: 128 x 4 B x dn = 64 KiB
 * of W_UK at dn = 128) and merge_main's (WG).
 */
const FIXED = { ABSORB_WG: 32, WG: 64 } as const;

/** uv_main's W_UV rows per walker: a multiple of 4 with <= 64 KiB of them (32 at d_c = 512, f32), at most the head's dv. */
export function uvRows(c: MlaAbsorbedConfig): number {
  const fit = Math.max(1, Math.floor(MAX_BYTES_PER_WORKGROUP / (4 * c.dc * BYTES_PER[c.dtype])));
  return 4 * Math.min(fit, Math.ceil(c.dv / 4));
}

export type AbsorbedPlan = LatentSplitPlan;

/** The split-K layout for a config (lib/latent-split's planner over the cache's S positions). */
export function planAbsorbed(c: MlaAbsorbedConfig): AbsorbedPlan {
  return planLatentSplit({
    T: c.T,
    H: c.H,
    keys: c.S,
    dc: c.dc,
    dr: c.dr,
    el: BYTES_PER[c.dtype],
    splits: c.splits,
    minKeys: c.S >= LONG_CONTEXT ? 1 : MIN_KEYS_SHORT,
  });
}

const BINDINGS = {
  params: uniform(MlaAbsorbedParams),
  q_nope: storage('elem'),
  q_pe: storage('elem'),
  kv_latent: storage('elem'),
  k_pe: storage('elem'),
  wkv_b: storage('elem'),
  q_abs: storage('f32', 'read_write'),
  part: storage('f32', 'read_write'),
  out: storage('elem', 'read_write'),
};

function checkAbsorbed(c: MlaAbsorbedConfig): ValidationIssue[] {
  return checkLatentSplit(planAbsorbed(c), { dc: 'dc', dr: 'dr' }, '; mla.decode_naive takes wider latents');
}

/** The inputs and output; q_abs [T*H, dc+dr] (then the merged latent o); the splits' partials o, then (m, l); params. */
function absorbedPlan(c: MlaAbsorbedConfig) {
  const p = planAbsorbed(c);
  const rows = c.T * c.H;
  return {
    ...plannedTensors(mlaDecodeInputs(c), mlaDecodeOutputs(c), ['q_nope', 'q_pe', 'kv_latent', 'k_pe', 'wkv_b', 'out']),
    q_abs: planned('scratch', rows * (c.dc + c.dr) * 4),
    part: planned('scratch', latentPartialBytes(rows, p.splits, c.dc)),
    params: plannedUniform(MlaAbsorbedParams, { ...mlaParams(c), splits: p.splits, keys_per_split: p.keysPerSplit, blocks: p.blocks }),
  };
}

/** Internal knob (tests): false forces the workgroup-memory lane_sum even where the device has subgroups. */
export interface AbsorbedKnobs {
  subgroups?: boolean;
}

const ENTRY_POINTS = ['absorb_main', 'split_main', 'merge_main', 'uv_main'] as const;

export async function createAbsorbed(ctx: GpuContext, c: MlaAbsorbedConfig, knobs: AbsorbedKnobs = {}): Promise<KernelInstance> {
  const p = planAbsorbed(c);
  const subgroups = ctx.features.subgroups && knobs.subgroups !== false;
  const lanes = latentLanes(subgroups);
  const kernel = await createKernel(
    ctx,
    {
      label: 'mla.decode_absorbed',
      wgsl: [wgsl, lanes.wgsl].join('\n'),
      elem: c.dtype,
      enable: lanes.enable,
      bindings: BINDINGS,
      constants: { ...FIXED, ...latentConstants(p), UV_ROWS: uvRows(c) },
      workgroup: lanes.workgroup,
    },
    ENTRY_POINTS,
  );
  const made = allocate(ctx, 'mla.decode_absorbed', absorbedPlan(c));
  const group = kernel.bind(made.buffers);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const grids: Record<(typeof ENTRY_POINTS)[number], [number, number]> = {
    absorb_main: grid(c.T * c.H * Math.ceil((c.dc + c.dr) / (4 * FIXED.ABSORB_WG)), maxDim),
    split_main: grid(c.T * p.blocks * p.splits, maxDim),
    merge_main: grid(latentMergeWorkgroups(p, c.T, c.H, FIXED.WG), maxDim),
    uv_main: grid(c.H * Math.ceil(c.dv / uvRows(c)), maxDim),
  };
  // Each pass is also a stage, so the bench reports where a step's time goes.
  const stages = ENTRY_POINTS.map((name) => ({
    name,
    encode(pass: GPUComputePassEncoder) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines[name]);
      pass.dispatchWorkgroups(...grids[name]);
    },
  }));
  return {
    tensors: made.tensors,
    encode(pass) {
      for (const s of stages) s.encode(pass);
    },
    stages,
    destroy: made.destroy,
  };
}

export const mlaDecodeAbsorbed: KernelDefinition<MlaAbsorbedConfig> = {
  id: 'mla.decode_absorbed',
  family: 'mla',
  title: 'MLA decode, absorbed (split-K over the latent cache)',
  explain:
    'W_UK is folded into the query (q_lat = q_nope W_UK, one [d_c] vector per head) and W_UV is applied after the weighted sum, so attention runs directly on the cached ' +
    'latent rows [c_KV, k_pe] (d_c + d_rope = 576 values per token in DeepSeek-V3) instead of per-head keys and values. The heads are the M dimension, as in FlashMLA: ' +
    'a 4-lane walker scores up to 8 heads against each latent row it reads at DeepSeek-V3\'s 576-wide rows, 16 at narrower ones (each lane owns a quarter of the columns, so every loaded value feeds 8 multiply-adds in the score and 8 in P·c_KV) and ' +
    'accumulates P·c_KV for all of them, and the cache is split into key ranges (flash decoding: >= 512 workgroups or <= 64 KiB of cache each) merged by log-sum-exp, so a decode ' +
    'step streams the small latent cache once per 8 heads and is bound by memory bandwidth, not by one long sequential loop per head. W_UV is applied last as a coalesced GEMV, ' +
    'so no pass runs on a handful of workgroups.',
  sources: [
    'DeepSeek-AI 2024, "DeepSeek-V2", section 2.1 (MLA, weight absorption)',
    'deepseek-ai/DeepSeek-V3 inference/model.py, class MLA, attn_impl = "absorb"',
    'Dao et al. 2023, "Flash-Decoding for long-context inference" (split-K)',
  ],
  implements: 'mla.decode',
  schema: mlaAbsorbedSchema,
  check: (c, caps) => [...checkMlaDecode(c, caps, storageBindingCount(BINDINGS)), ...checkAbsorbed(c)],
  inputs: mlaDecodeInputs,
  outputs: mlaDecodeOutputs,
  plan: absorbedPlan,
  scratch: (c) => planScratch(absorbedPlan(c)),
  cost(c) {
    // q_abs written and read, partials written and read once each: small next to the cache for S >> H * splits.
    const extra = 2 * planScratch(absorbedPlan(c)).reduce((a, s) => a + s.bytes, 0);
    return costOf(c, absorbedFlops(c), extra, latentCacheBytes(c));
  },
  randomInputs: mlaDecodeRandomInputs,
  reference: mlaDecodeReferenceFor,
  fromGolden: (meta, shapes) => ({ ...mlaDecodeFromGolden(meta, shapes), splits: 0 }),
  goldenMeta: mlaDecodeGoldenMeta,
  create: (ctx, c) => createAbsorbed(ctx, c),
  benchmarks: MLA_ABSORBED_BENCHMARKS,
  testCases: [
    ...MLA_DECODE_TEST_CASES,
    { name: 'forced 5 splits, T=4 causal (some ranges empty)', config: { T: 4, S: 90, H: 9, dn: 7, dr: 8, dc: 24, dv: 5, splits: 5 } },
    { name: 'more heads than one block (H=60: 2 blocks of 30)', config: { T: 1, S: 50, H: 60, dn: 4, dr: 4, dc: 200, dv: 6 } },
    { name: 'T=6: two query tiles of the W_UV GEMV, dc past one lane sweep', config: { T: 6, S: 70, H: 5, dn: 6, dr: 4, dc: 132, dv: 9 } },
  ],
};
