// attention.flash_prefill: host side of shaders/attention/flash-prefill.wgsl. The tile plan (row quads per
// workgroup, keys per K/V tile) is derived from D and the device's workgroup limits, and
// check() refuses a config whose smallest tile would not fit.
import wgsl from '../../../shaders/attention/flash-prefill.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import { createKernel, grid, type StorageDType } from '../../gpu/shader.ts';
import { workgroupArray, workgroupBytes, type WorkgroupRecord } from '../../gpu/wgsl-declarations.ts';
import type { KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import { allocate, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import {
  AttentionParams,
  DENSE_ATTENTION,
  DENSE_BENCHMARKS,
  attentionInputs,
  attentionOutputs,
  attentionParams,
  checkAttention,
  type AttentionConfig,
} from './attention-config.ts';
import { flashWorkgroupSize } from './flash-lanes.ts';

/**
 * Row quads per workgroup at most (32 rows) and keys per K/V tile at most (a multiple of 4: the score
 * micro-tile is 4 keys wide). The workgroup is one invocation per 8 x 8 micro-tile of O (quad pair x
 * column pair): on SwiftShader every invocation is a SIMD lane and a shared read a per-lane gather, so
 * fewer, fuller invocations win (32 of them ran 1.8x the same micro-tiles spread over 128 invocations as
 * key lanes whose partial sums then needed a reduction).
 */
const MAX_QUADS = 8;
const MAX_BK = 64;
const KEY_STEP = 4;

export interface FlashPrefillPlan {
  /** Invocations per workgroup: one per 8 x 8 micro-tile of O (rows / 8 x ceil(D / 8)). */
  wg: number;
  /** Query rows (query x head of the GQA group) per workgroup, in quads. */
  rowsPerBlock: number;
  /** Keys per K/V tile staged in workgroup memory (a multiple of 4). */
  tileKeys: number;
  workgroups: number;
  workgroupBytes: number;
}

/** Vec4 column pairs of the P.V micro-tile (the last one half spare when D / 4 is odd). */
const columnPairs = (d4: number) => Math.ceil(d4 / 2);

/** The workgroup arrays for `quads` row quads and `bk` keys per tile (K/V tiles in the storage type; K rows padded by one vec4 against bank conflicts, V by one spare vec4 at the end). */
function prefillWorkgroup(quads: number, bk: number, d4: number, dtype: StorageDType): WorkgroupRecord {
  const tile = dtype === 'f16' ? 'vec4<f16>' : 'vec4<f32>';
  return {
    q_tile: workgroupArray('vec4<f32>', 4 * quads * d4),
    k_tile: workgroupArray(tile, bk * (d4 + 1)),
    v_tile: workgroupArray(tile, bk * d4 + 1),
    probs: workgroupArray('vec4<f32>', quads * bk),
    row_m: workgroupArray('f32', 4 * quads),
    row_alpha: workgroupArray('f32', 4 * quads),
  };
}

function tileBytes(quads: number, bk: number, d4: number, dtype: StorageDType): number {
  return workgroupBytes(prefillWorkgroup(quads, bk, d4, dtype));
}

const BINDINGS = {
  params: uniform(AttentionParams),
  q: storage('vec4<elem>'),
  k: storage('vec4<elem>'),
  v: storage('vec4<elem>'),
  out: storage('vec4<elem>', 'read_write'),
};

/** Every buffer an instance owns: the four tensors and the parameters. */
function buffers(c: AttentionConfig) {
  return {
    ...plannedTensors(attentionInputs(c), attentionOutputs(c), ['q', 'k', 'v', 'out']),
    params: plannedUniform(AttentionParams, attentionParams(c)),
  };
}

/** Tiles for this config on this device, or the validation message saying why none fits. */
export function flashPrefillPlan(c: AttentionConfig, caps: DeviceCaps): FlashPrefillPlan | ValidationIssue {
  const maxWg = flashWorkgroupSize(caps.limits);
  const d4 = c.D / 4;
  const limit = caps.limits.maxComputeWorkgroupStorageSize;
  const rows = c.T * (c.Hq / c.Hkv);
  let quads = Math.max(1, Math.min(MAX_QUADS, 2 * Math.floor(maxWg / columnPairs(d4)), Math.ceil(rows / 4)));
  // Fewer rows per block until the smallest (4-key) tile fits.
  while (quads > 1 && tileBytes(quads, KEY_STEP, d4, c.dtype) > limit) quads--;
  const wg = Math.ceil(quads / 2) * columnPairs(d4);
  if (maxWg < columnPairs(d4) || tileBytes(quads, KEY_STEP, d4, c.dtype) > limit) {
    return {
      field: 'D',
      message: `${c.D} needs ${tileBytes(1, KEY_STEP, d4, c.dtype)} B of workgroup memory for the smallest (${KEY_STEP}-key) K/V tile, over this device's maxComputeWorkgroupStorageSize of ${limit} B`,
    };
  }
  let tileKeys = KEY_STEP;
  const most = Math.min(MAX_BK, Math.ceil(c.S / KEY_STEP) * KEY_STEP);
  while (tileKeys + KEY_STEP <= most && tileBytes(quads, tileKeys + KEY_STEP, d4, c.dtype) <= limit) tileKeys += KEY_STEP;
  const blocks = Math.ceil(rows / (4 * quads));
  return {
    wg,
    rowsPerBlock: 4 * quads,
    tileKeys,
    workgroups: c.Hkv * blocks,
    workgroupBytes: tileBytes(quads, tileKeys, d4, c.dtype),
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
  const kernel = await createKernel(
    ctx,
    {
      label: 'attention.flash_prefill',
      wgsl,
      elem: c.dtype,
      bindings: BINDINGS,
      constants: { WG: plan.wg, RQ: plan.rowsPerBlock / 4, CP: columnPairs(c.D / 4), BK: plan.tileKeys },
      workgroup: prefillWorkgroup(plan.rowsPerBlock / 4, plan.tileKeys, c.D / 4, c.dtype),
    },
    ['main'] as const,
  );
  const { pipelines } = kernel;
  const made = allocate(ctx, 'attention.flash_prefill', buffers(c));
  const group = kernel.bind(made.buffers);
  const dispatch = grid(plan.workgroups, ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    tensors: made.tensors,
    plan,
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipelines.main);
      pass.dispatchWorkgroups(...dispatch);
    },
    destroy: made.destroy,
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
  plan: buffers,
  create: (ctx, c) => createFlashPrefill(ctx, c),
  // The dense shapes plus the peers study's shorter causal prefill.
  benchmarks: [...DENSE_BENCHMARKS, { name: 'prefill S=512 H=8 D=64', config: { T: 512, S: 512, Hq: 8, Hkv: 8, D: 64, causal: true } }],
};
