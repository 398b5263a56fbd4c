// attention.flash_prefill: host side of shaders/attention/flash-prefill.wgsl. The tile plan (rows per
// workgroup, lanes per row, keys per K/V tile) is derived from D and the device's workgroup limits, and
// check() refuses a config whose smallest tile would not fit.
import wgsl from '../../../shaders/attention/flash-prefill.wgsl?raw';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import { BYTES_PER } from '../tensor.ts';
import {
  AttentionParams,
  DENSE_ATTENTION,
  attentionParams,
  attentionTensors,
  checkAttention,
  type AttentionConfig,
} from './attention-config.ts';
import { flashWorkgroupSize, laneSumBytes, laneSumSource, lanesFor, usesSubgroups, type FlashOptions } from './flash-lanes.ts';

/**
 * Workgroup memory a block aims to use (at most the device limit). The tile is reused by all R rows whatever
 * its length, so longer tiles only save barriers, while a smaller footprint lets more workgroups share an SM
 * (latency hiding: WGSL has no asynchronous copies to double-buffer with).
 */
const TILE_BUDGET = 8 * 1024;
const MAX_BK = 64;
/** Registers per invocation for the prefetched tile (MAX_PF in the WGSL). */
const MAX_PF = 8;

export interface FlashPrefillPlan {
  /** Invocations per workgroup. */
  wg: number;
  /** Lanes per row and vec4 chunks of D each lane owns. */
  lanes: number;
  chunksPerLane: number;
  /** Query rows (query x head of the GQA group) per workgroup. */
  rowsPerBlock: number;
  /** Keys per K/V tile staged in workgroup memory, keys per online-softmax step. */
  tileKeys: number;
  stepKeys: number;
  /** vec4s of the next tile each invocation holds in registers while the current one is used. */
  prefetch: number;
  workgroups: number;
  workgroupBytes: number;
  subgroups: boolean;
}

/** Tiles for this config on this device, or the validation message saying why none fits. */
export function flashPrefillPlan(c: AttentionConfig, caps: DeviceCaps, opts: FlashOptions = {}): FlashPrefillPlan | ValidationIssue {
  const subgroups = usesSubgroups(caps, opts);
  const wg = flashWorkgroupSize(caps.limits);
  const d4 = c.D / 4;
  const lanes = lanesFor(d4);
  const chunksPerLane = Math.ceil(d4 / lanes);
  const limit = caps.limits.maxComputeWorkgroupStorageSize;
  // K and V tile rows, one slot per lane chunk, in the storage type.
  const perKey = 2 * chunksPerLane * lanes * 4 * BYTES_PER[c.dtype as 'f32' | 'f16'];
  const fixed = laneSumBytes(subgroups, wg);
  const keysIn = (bytes: number) => Math.floor(Math.floor((bytes - fixed) / perKey) / 4) * 4;
  const fit = Math.max(keysIn(Math.min(limit, TILE_BUDGET)), keysIn(limit) >= 4 ? 4 : 0);
  if (fit < 4 || wg < lanes) {
    return {
      field: 'D',
      message: `${c.D} needs ${fixed + 4 * perKey} B of workgroup memory for the smallest (4-key) K/V tile, over this device's maxComputeWorkgroupStorageSize of ${limit} B`,
    };
  }
  // No point staging more keys than exist; each invocation carries at most MAX_PF vec4s of the next tile.
  let tileKeys = Math.min(fit, MAX_BK, Math.ceil(c.S / 4) * 4, Math.floor((MAX_PF * wg) / (chunksPerLane * lanes)));
  // Keys per softmax step: the step's KS / 4 lane sums and exponentials are independent (latency overlaps).
  const stepKeys = tileKeys >= 16 ? 16 : tileKeys >= 8 ? 8 : 4;
  tileKeys -= tileKeys % stepKeys;
  const rowsPerBlock = wg / lanes;
  const blocks = Math.ceil((c.T * (c.Hq / c.Hkv)) / rowsPerBlock);
  return {
    wg,
    lanes,
    chunksPerLane,
    rowsPerBlock,
    tileKeys,
    stepKeys,
    prefetch: Math.ceil((tileKeys * chunksPerLane * lanes) / wg),
    workgroups: c.Hkv * blocks,
    workgroupBytes: fixed + tileKeys * perKey,
    subgroups,
  };
}

function isPlan(p: FlashPrefillPlan | ValidationIssue): p is FlashPrefillPlan {
  return 'wg' in p;
}

export interface FlashPrefillInstance extends KernelInstance {
  plan: FlashPrefillPlan;
}

/** create() with internal options (tests force the workgroup-memory lane sum through `opts`). */
export async function createFlashPrefill(ctx: GpuContext, c: AttentionConfig, opts: FlashOptions = {}): Promise<FlashPrefillInstance> {
  const plan = flashPrefillPlan(c, ctx, opts);
  if (!isPlan(plan)) throw new ConfigError([plan]);
  const lanesum = laneSumSource(plan.subgroups);
  const { layout, pipelines } = await kernelPipelines(
    ctx,
    { label: 'attention.flash_prefill', wgsl: `${wgsl}\n${lanesum.wgsl}`, structs: { AttentionParams }, elem: c.dtype as 'f32' | 'f16', enable: lanesum.enable },
    ['uniform', 'read', 'read', 'read', 'rw'],
    ['main'] as const,
    { WG: plan.wg, L: plan.lanes, CPT: plan.chunksPerLane, BK: plan.tileKeys, KS: plan.stepKeys, PF: plan.prefetch },
  );
  const b = ctx.buffers;
  const tensors = attentionTensors(ctx, c);
  const params = uniformBuffer(ctx, 'attention.flash_prefill params', AttentionParams, attentionParams(c));
  const group = bindGroup(ctx, layout, [params, tensors.q, tensors.k, tensors.v, tensors.out]);
  const dispatch = grid(plan.workgroups, ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    tensors,
    plan,
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipelines.main);
      pass.dispatchWorkgroups(...dispatch);
    },
    destroy() {
      for (const buf of [...Object.values(tensors), params]) b.destroy(buf);
    },
  };
}

export const flashPrefill: KernelDefinition<AttentionConfig> = {
  ...DENSE_ATTENTION,
  id: 'attention.flash_prefill',
  title: 'FlashAttention prefill (tiled, online softmax)',
  explain:
    'Each workgroup owns a block of query rows (all query heads of one GQA group, so K/V are staged once for the whole group) and streams K/V tiles ' +
    'through workgroup memory. Scores stay in registers: an online softmax keeps a running max and sum per row and rescales the output accumulator ' +
    'when the max grows, so the T x S score matrix never touches device memory and traffic is O(T*D + S*D) per head instead of O(T*S). ' +
    'Under the causal mask, tiles above the diagonal are skipped entirely.',
  sources: [
    'Dao et al. 2022, "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", Algorithm 1',
    'Dao 2023, "FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning", section 3',
  ],
  check(c, caps) {
    const issues = checkAttention(c, caps, { vec4: true });
    if (issues.length) return issues;
    const plan = flashPrefillPlan(c, caps);
    return isPlan(plan) ? [] : [plan];
  },
  create: (ctx, c) => createFlashPrefill(ctx, c),
};
