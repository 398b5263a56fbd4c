// attention.flash_prefill: host side of shaders/attention/flash-prefill.wgsl. The tile plan (row quads per
// workgroup, keys per K/V tile) is derived from D and the device's workgroup limits, and
// check() refuses a config whose smallest tile would not fit.
import wgsl from '../../../shaders/attention/flash-prefill.wgsl?raw';
import quadWgsl from '../../../shaders/attention/flash-quad.wgsl?raw';
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
import { flashWorkgroupSize } from './flash-lanes.ts';

/** Invocations per workgroup: one per (row quad, vec4 column) in the P.V phase, at most. */
const WORKGROUP = 128;
/** Row quads per workgroup at most (64 rows) and keys per K/V tile at most. */
const MAX_QUADS = 16;
const MAX_BK = 64;

export interface FlashPrefillPlan {
  /** Invocations per workgroup. */
  wg: number;
  /** Query rows (query x head of the GQA group) per workgroup, in quads. */
  rowsPerBlock: number;
  /** Keys per K/V tile staged in workgroup memory. */
  tileKeys: number;
  /** Key lanes of the P.V phase (each rows / 4 x D / 4 invocations wide). */
  keyLanes: number;
  workgroups: number;
  workgroupBytes: number;
}

/** Workgroup bytes for `quads` row quads and `bk` keys per tile (the WGSL's arrays, in its order). */
function tileBytes(quads: number, bk: number, d4: number, el: number, wg: number): number {
  return 4 * quads * d4 * 16 + bk * (d4 + 1) * 4 * el + bk * d4 * 4 * el + quads * bk * 16 + 2 * 4 * quads * 4 + Math.floor(wg / d4) * 16;
}

/** Tiles for this config on this device, or the validation message saying why none fits. */
export function flashPrefillPlan(c: AttentionConfig, caps: DeviceCaps): FlashPrefillPlan | ValidationIssue {
  const wg = Math.min(WORKGROUP, flashWorkgroupSize(caps.limits));
  const d4 = c.D / 4;
  const el = BYTES_PER[c.dtype];
  const limit = caps.limits.maxComputeWorkgroupStorageSize;
  const rows = c.T * (c.Hq / c.Hkv);
  let quads = Math.max(1, Math.min(MAX_QUADS, Math.floor(wg / d4), Math.ceil(rows / 4)));
  // Fewer rows per block until the smallest (4-key) tile fits.
  while (quads > 1 && tileBytes(quads, 4, d4, el, wg) > limit) quads--;
  if (wg < d4 || tileBytes(quads, 4, d4, el, wg) > limit) {
    return {
      field: 'D',
      message: `${c.D} needs ${tileBytes(1, 4, d4, el, wg)} B of workgroup memory for the smallest (4-key) K/V tile, over this device's maxComputeWorkgroupStorageSize of ${limit} B`,
    };
  }
  let tileKeys = 4;
  while (tileKeys + 4 <= Math.min(MAX_BK, Math.ceil(c.S / 4) * 4) && tileBytes(quads, tileKeys + 4, d4, el, wg) <= limit) tileKeys += 4;
  const blocks = Math.ceil(rows / (4 * quads));
  return {
    wg,
    rowsPerBlock: 4 * quads,
    tileKeys,
    keyLanes: Math.floor(wg / (quads * d4)),
    workgroups: c.Hkv * blocks,
    workgroupBytes: tileBytes(quads, tileKeys, d4, el, wg),
  };
}

function isPlan(p: FlashPrefillPlan | ValidationIssue): p is FlashPrefillPlan {
  return 'wg' in p;
}

export interface FlashPrefillInstance extends KernelInstance {
  plan: FlashPrefillPlan;
}

export async function createFlashPrefill(ctx: GpuContext, c: AttentionConfig): Promise<FlashPrefillInstance> {
  const plan = flashPrefillPlan(c, ctx);
  if (!isPlan(plan)) throw new ConfigError([plan]);
  const { layout, pipelines } = await kernelPipelines(
    ctx,
    { label: 'attention.flash_prefill', wgsl: `${wgsl}\n${quadWgsl}`, structs: { AttentionParams }, elem: c.dtype },
    ['uniform', 'read', 'read', 'read', 'rw'],
    ['main'] as const,
    { WG: plan.wg, RQ: plan.rowsPerBlock / 4, BK: plan.tileKeys, D4MAX: c.D / 4 },
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
