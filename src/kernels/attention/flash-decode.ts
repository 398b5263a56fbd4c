// attention.flash_decode: host side of shaders/attention/flash-decode.wgsl. Two dispatches in one pass:
// split_main writes one partial (max, sum, accumulator) per (split, row), merge_main combines them.
// The split count depends on the config only (so scratch() and cost() can size the partials before a device
// exists); the device decides the workgroup size, lanes and how many keys one workgroup holds at a time.
import wgsl from '../../../shaders/attention/flash-decode.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray, workgroupBytes, type WorkgroupRecord } from '../../gpu/wgsl-declarations.ts';
import type { KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { BYTES_PER } from '../tensor.ts';
import {
  AttentionParams,
  DENSE_ATTENTION,
  DENSE_BENCHMARKS,
  DENSE_TEST_CASES,
  attentionCost,
  attentionInputs,
  attentionOutputs,
  attentionParams,
  checkAttention,
  type AttentionConfig,
} from './attention-config.ts';
import { flashWorkgroupSize } from './flash-lanes.ts';

/** Longest query block: T * G rows of one KV head are served 4 at a time, so this only bounds the blocks. */
export const FLASH_DECODE_MAX_T = 16;
/** Rows per workgroup: the 4 scores of a key travel as one vec4 (a quad of lib/flash-quad.wgsl). */
const ROWS = 4;
/** Invocations per workgroup; each scores 4 keys of a tile, so a tile is 4 * 64 keys. */
const WORKGROUP = 64;
const KEYS_PER_INVOCATION = 4;
/**
 * Split targets. From LONG_CONTEXT keys on: at least 512 workgroups, or pieces of at most 64 KiB of K/V per
 * workgroup, whichever needs fewer workgroups (enough to fill the largest GPUs several times over), with
 * splits down to 64 keys. Shorter contexts hold little K/V per step, and there a workgroup's fixed cost (q
 * staging, the key-lane sums, its partial) dominates: splits are at least one full tile (4 * WG keys).
 */
const TARGET_WORKGROUPS = 512;
const TARGET_BYTES = 64 * 1024;
const LONG_CONTEXT = 8192;
const MIN_CHUNK_LONG = 64;
const MIN_CHUNK_SHORT = KEYS_PER_INVOCATION * WORKGROUP;

/**
 * How the rows of a step are cut into quads. With at least 4 rows per KV head (T * G >= 4) a quad holds 4
 * rows of one KV head, which share one read of its keys and values. With fewer (MHA decode, G = 2 or 3 at
 * T = 1) a quad packs the rows of consecutive KV heads, each row reading its own head: no lane is a dead row.
 */
export function flashDecodeQuads(c: AttentionConfig): { packed: boolean; quads: number; headsPerQuad: number } {
  const rows = c.T * (c.Hq / c.Hkv);
  if (rows >= ROWS) return { packed: false, quads: c.Hkv * Math.ceil(rows / ROWS), headsPerQuad: 1 };
  return { packed: true, quads: Math.ceil((c.Hkv * rows) / ROWS), headsPerQuad: Math.ceil(ROWS / rows) };
}

/** How the key range is split: config only, so partial buffers are known before a device is. */
export function flashDecodeSplits(c: AttentionConfig): { splits: number; chunk: number } {
  const { quads: items, headsPerQuad } = flashDecodeQuads(c);
  // Every quad streams the K and V of its split for each KV head it holds.
  const headBytes = 2 * c.S * c.D * BYTES_PER[c.dtype] * headsPerQuad;
  const wanted = Math.min(Math.ceil(TARGET_WORKGROUPS / items), Math.ceil(headBytes / TARGET_BYTES));
  const minChunk = c.S >= LONG_CONTEXT ? MIN_CHUNK_LONG : MIN_CHUNK_SHORT;
  const splits0 = Math.max(1, Math.min(wanted, Math.ceil(c.S / minChunk)));
  const chunk = Math.ceil(c.S / splits0);
  return { splits: Math.ceil(c.S / chunk), chunk };
}

/** Partial buffers: f32 accumulators [splits, T*Hq, D] and (max, sum) pairs [splits, T*Hq]. Unused with one split. */
function partialBytes(c: AttentionConfig, splits: number): { acc: number; ml: number } {
  if (splits === 1) return { acc: 0, ml: 0 };
  return { acc: splits * c.T * c.Hq * c.D * 4, ml: splits * c.T * c.Hq * 8 };
}

const BINDINGS = {
  params: uniform(AttentionParams),
  q: storage('vec4<elem>'),
  k: storage('vec4<elem>'),
  v: storage('vec4<elem>'),
  part_acc: storage('vec4<f32>', 'read_write'),
  part_ml: storage('vec2<f32>', 'read_write'),
  out: storage('vec4<elem>', 'read_write'),
};

/** Every buffer an instance owns. With one split pass 1 writes `out` itself; the partials stay one element each for the bindings. */
function buffers(c: AttentionConfig, opts: FlashDecodeOptions = {}) {
  const splits = opts.chunk === undefined ? flashDecodeSplits(c).splits : Math.ceil(c.S / opts.chunk);
  const partials = partialBytes(c, splits);
  return {
    ...plannedTensors(attentionInputs(c), attentionOutputs(c), ['q', 'k', 'v', 'out']),
    part_acc: planned('scratch', Math.max(16, partials.acc)),
    part_ml: planned('scratch', Math.max(8, partials.ml)),
    params: plannedUniform(AttentionParams, attentionParams(c, { splits })),
  };
}

/** split_main's workgroup arrays: the block's q rows (at the end, the key-lane sums), a tile's probabilities, the row statistics, the key lanes' row sums. */
function decodeWorkgroup(d4: number, wg: number): WorkgroupRecord {
  return {
    q_tile: workgroupArray('vec4<f32>', ROWS * d4),
    probs: workgroupArray('vec4<f32>', KEYS_PER_INVOCATION * wg),
    row_m: workgroupArray('f32', ROWS),
    row_alpha: workgroupArray('f32', ROWS),
    lane_l: workgroupArray('vec4<f32>', Math.max(1, Math.floor(wg / d4))),
  };
}

export interface FlashDecodePlan {
  splits: number;
  /** Keys per split, and keys per tile (scored, softmaxed and multiplied by V between barriers). */
  chunk: number;
  tileKeys: number;
  wg: number;
  /** Key lanes of the P.V phase (each D / 4 invocations wide). */
  keyLanes: number;
  /** Rows per workgroup (4), whether they pack several KV heads, and the quads in all. */
  rowsPerBlock: number;
  packed: boolean;
  quads: number;
  /** Pass-1 workgroups: quads * splits. */
  workgroups: number;
  workgroupBytes: number;
}

/** Internal knob: tests force small chunks (many splits). */
export interface FlashDecodeOptions {
  chunk?: number;
}

export function flashDecodePlan(c: AttentionConfig, caps: DeviceCaps, opts: FlashDecodeOptions = {}): FlashDecodePlan | ValidationIssue {
  const wg = Math.min(WORKGROUP, flashWorkgroupSize(caps.limits));
  const d4 = c.D / 4;
  const chunk = opts.chunk ?? flashDecodeSplits(c).chunk;
  const splits = Math.ceil(c.S / chunk);
  const limit = caps.limits.maxComputeWorkgroupStorageSize;
  const bytes = workgroupBytes(decodeWorkgroup(d4, wg));
  if (bytes > limit || wg < d4) {
    return {
      field: 'D',
      message: `${c.D} needs ${bytes} B of workgroup memory and ${d4} invocations per workgroup, over this device's maxComputeWorkgroupStorageSize of ${limit} B or its ${wg}-invocation workgroups`,
    };
  }
  const { packed, quads } = flashDecodeQuads(c);
  return {
    splits,
    chunk,
    tileKeys: KEYS_PER_INVOCATION * wg,
    wg,
    keyLanes: Math.floor(wg / d4),
    rowsPerBlock: ROWS,
    packed,
    quads,
    workgroups: quads * splits,
    workgroupBytes: bytes,
  };
}

function isPlan(p: FlashDecodePlan | ValidationIssue): p is FlashDecodePlan {
  return 'wg' in p;
}

export interface FlashDecodeInstance extends KernelInstance {
  plan: FlashDecodePlan;
  /** Pass 1's partials, read back by the step-through: acc f32 [splits, T*Hq, D] (unnormalised), ml (max in log2 units, sum) [splits, T*Hq]. */
  partials: { acc: GPUBuffer; ml: GPUBuffer };
}

/** create() with internal options (tests force small chunks). */
export async function createFlashDecode(ctx: GpuContext, c: AttentionConfig, opts: FlashDecodeOptions = {}): Promise<FlashDecodeInstance> {
  const plan = flashDecodePlan(c, ctx, opts);
  if (!isPlan(plan)) throw new ConfigError([plan]);
  const kernel = await createKernel(
    ctx,
    {
      label: 'attention.flash_decode',
      wgsl,
      elem: c.dtype,
      bindings: BINDINGS,
      constants: { WG: plan.wg, CHUNK: plan.chunk, PACKED: plan.packed ? 1 : 0 },
      workgroup: decodeWorkgroup(c.D / 4, plan.wg),
    },
    ['split_main', 'merge_main'] as const,
  );
  const { pipelines } = kernel;
  const made = allocate(ctx, 'attention.flash_decode', buffers(c, opts));
  const group = kernel.bind(made.buffers);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const splitGrid = grid(plan.workgroups, maxDim);
  const mergeGrid = grid(Math.ceil((c.T * c.Hq * (c.D / 4)) / plan.wg), maxDim);
  return {
    tensors: made.tensors,
    plan,
    partials: { acc: made.buffers.part_acc, ml: made.buffers.part_ml },
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipelines.split_main);
      pass.dispatchWorkgroups(...splitGrid);
      if (plan.splits > 1) {
        pass.setPipeline(pipelines.merge_main);
        pass.dispatchWorkgroups(...mergeGrid);
      }
    },
    destroy: made.destroy,
  };
}

export const flashDecode: KernelDefinition<AttentionConfig> = {
  ...DENSE_ATTENTION,
  id: 'attention.flash_decode',
  title: 'Flash-Decoding (split-K, T <= 16)',
  explain:
    'With one query token per sequence there is no query parallelism to fill the GPU, so the KV range is split across workgroups: each computes ' +
    'a partial softmax (running max, sum and weighted sum of values) over its chunk, and a second pass merges the partials with log-sum-exp rescaling. ' +
    'All query heads of a GQA group are handled by the same workgroup, so each KV head is read from memory once per step (with fewer than 4 query rows ' +
    'per KV head, as in MHA decode, a workgroup packs the rows of several KV heads instead of idling lanes); the kernel is bound by ' +
    'the bandwidth of reading the KV cache.',
  sources: [
    'Dao, Haziza, Massa, Sizov 2023, "Flash-Decoding for long-context inference" (PyTorch blog / xFormers)',
    'Milakov & Gimelshein 2018, "Online normalizer calculation for softmax"',
  ],
  check(c, caps) {
    const issues = checkAttention(c, caps, { vec4: true });
    if (c.T > FLASH_DECODE_MAX_T) {
      issues.push({ field: 'T', message: `${c.T} queries exceed flash_decode's maximum of ${FLASH_DECODE_MAX_T} (use attention.flash_prefill for longer query blocks)` });
    }
    if (issues.length) return issues;
    const plan = flashDecodePlan(c, caps);
    return isPlan(plan) ? [] : [plan];
  },
  plan: (c) => buffers(c),
  scratch: (c) => planScratch(buffers(c)),
  cost(c) {
    const base = attentionCost(c);
    // The partials are written once by pass 1 and read once by pass 2.
    const { acc, ml } = partialBytes(c, flashDecodeSplits(c).splits);
    return { ...base, bytes: base.bytes + 2 * (acc + ml), intermediateBytes: 2 * (acc + ml) };
  },
  create: (ctx, c) => createFlashDecode(ctx, c),
  benchmarks: [
    DENSE_BENCHMARKS[0]!,
    { name: 'decode T=4 S=2048 Hq=32 Hkv=8 D=128 (speculative)', config: { T: 4, S: 2048, Hq: 32, Hkv: 8, D: 128, causal: true } },
  ],
  testCases: DENSE_TEST_CASES.filter((tc) => (tc.config.T ?? 1) <= FLASH_DECODE_MAX_T),
};
