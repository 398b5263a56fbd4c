// attention.flash_decode: host side of shaders/attention/flash-decode.wgsl. Two dispatches in one pass:
// split_main writes one partial (max, sum, accumulator) per (split, row), merge_main combines them.
// The split count depends on the config only (so scratch() and cost() can size the partials before a device
// exists); the device decides the merge's workgroup size and whether lane_sum uses subgroups.
import wgsl from '../../../shaders/attention/flash-decode.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupBytes } from '../../gpu/wgsl-declarations.ts';
import type { KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { fitWorkgroupMemory } from '../common/rules.ts';
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
import { flashWorkgroupSize, laneSumSource, usesSubgroups, type FlashOptions } from './flash-lanes.ts';

/** Longest query block: T * G rows of one KV head are served 4 at a time, so this only bounds the quads. */
export const FLASH_DECODE_MAX_T = 16;
/** Rows per unit: the 4 scores of a key travel as one vec4, and 4 keys' as a mat4x4. */
const ROWS = 4;
/** Invocations per unit: the smallest subgroup WebGPU allows, so a unit's lane_sum never leaves its subgroup. */
const LANES = 4;
/** Units per split_main workgroup (the row groups of a KV head sit side by side on the same split). */
const UNITS_PER_WORKGROUP = 4;
const MERGE_WORKGROUP = 64;
/**
 * Split targets. From LONG_CONTEXT keys on: at least 512 split_main workgroups, or pieces of at most 64 KiB
 * of K/V per workgroup, whichever needs fewer workgroups (enough to fill the largest GPUs several times
 * over), with splits down to MIN_CHUNK_LONG keys. Shorter contexts hold little K/V per step, and there a
 * unit's fixed cost (q, its partial, the merge) dominates: splits are at least MIN_CHUNK_SHORT keys.
 */
const TARGET_WORKGROUPS = 512;
const TARGET_BYTES = 64 * 1024;
const LONG_CONTEXT = 8192;
const MIN_CHUNK_LONG = 8;
const MIN_CHUNK_SHORT = 256;

/**
 * How the rows of a step are cut into quads. With at least 4 rows per KV head (T * G >= 4) a quad holds 4
 * rows of one KV head, which share one read of its keys and values. With fewer (MHA decode, G = 2 or 3 at
 * T = 1) a quad packs the rows of consecutive KV heads, each row reading its own head: no lane is a dead row.
 */
export function flashDecodeQuads(c: AttentionConfig): { packed: boolean; quads: number; headsPerQuad: number; quadsPerUnit: number; groups: number } {
  const rows = c.T * (c.Hq / c.Hkv);
  if (rows >= ROWS) {
    const blocks = Math.ceil(rows / ROWS);
    // From 8 rows per KV head on a unit serves two quads, so each K/V load feeds 8 rows.
    const quadsPerUnit = blocks >= 2 ? 2 : 1;
    return { packed: false, quads: c.Hkv * blocks, headsPerQuad: 1, quadsPerUnit, groups: c.Hkv * Math.ceil(blocks / quadsPerUnit) };
  }
  const quads = Math.ceil((c.Hkv * rows) / ROWS);
  return { packed: true, quads, headsPerQuad: Math.ceil(ROWS / rows), quadsPerUnit: 1, groups: quads };
}

/** Bytes of K and V one unit streams per key (one head's, or each packed head's). */
function quadKeyBytes(c: AttentionConfig): number {
  return 2 * c.D * BYTES_PER[c.dtype] * flashDecodeQuads(c).headsPerQuad;
}

/** How the key range is split: config only, so partial buffers are known before a device is. */
export function flashDecodeSplits(c: AttentionConfig): { splits: number; chunk: number } {
  const { groups } = flashDecodeQuads(c);
  const long = c.S >= LONG_CONTEXT;
  // A workgroup holds UNITS_PER_WORKGROUP (row group, split) units; the rule counts workgroups and their bytes.
  const byCount = Math.ceil((TARGET_WORKGROUPS * UNITS_PER_WORKGROUP) / groups);
  const byBytes = Math.ceil((c.S * quadKeyBytes(c) * UNITS_PER_WORKGROUP) / TARGET_BYTES);
  const wanted = long ? Math.min(byCount, byBytes) : Math.min(Math.ceil(TARGET_WORKGROUPS / groups), byBytes);
  const minChunk = long ? MIN_CHUNK_LONG : MIN_CHUNK_SHORT;
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

export interface FlashDecodePlan {
  splits: number;
  /** Keys per split (one unit streams one split of one quad). */
  chunk: number;
  /** split_main's invocations per workgroup: UNITS_PER_WORKGROUP units of `lanes` invocations. */
  wg: number;
  mergeWg: number;
  /** Invocations per unit, and the vec4 chunks of D each of them owns (registers: q and acc of 4 rows per chunk). */
  lanes: number;
  chunksPerLane: number;
  /** Rows per quad (4), whether quads pack several KV heads, and the quads in all. */
  rowsPerBlock: number;
  packed: boolean;
  quads: number;
  /** Quads per unit (1, or 2 from 8 rows per KV head on) and the units' row groups in all. */
  quadsPerUnit: number;
  groups: number;
  /** split_main workgroups: ceil(groups * splits / units per workgroup). */
  workgroups: number;
  /** K/V bytes one split_main workgroup streams (at most). */
  bytesPerWorkgroup: number;
  /** lane_sum through subgroup shuffles (else workgroup memory, with barriers). */
  subgroups: boolean;
  workgroupBytes: number;
}

/** Internal knobs: tests force small chunks (many splits) and the workgroup-memory lane sum. */
export interface FlashDecodeOptions extends FlashOptions {
  chunk?: number;
}

export function flashDecodePlan(c: AttentionConfig, caps: DeviceCaps, opts: FlashDecodeOptions = {}): FlashDecodePlan | ValidationIssue {
  const wg = UNITS_PER_WORKGROUP * LANES;
  const subgroups = usesSubgroups(caps, opts);
  const chunk = opts.chunk ?? flashDecodeSplits(c).chunk;
  const splits = Math.ceil(c.S / chunk);
  const bytes = workgroupBytes(laneSumSource(subgroups, wg).workgroup);
  const issue = fitWorkgroupMemory('D', bytes, "flash_decode's lane sums", caps)[0];
  if (issue) return issue;
  const { packed, quads, quadsPerUnit, groups } = flashDecodeQuads(c);
  return {
    splits,
    chunk,
    wg,
    mergeWg: Math.min(MERGE_WORKGROUP, flashWorkgroupSize(caps.limits)),
    lanes: LANES,
    chunksPerLane: Math.ceil(c.D / 4 / LANES),
    rowsPerBlock: ROWS,
    packed,
    quads,
    quadsPerUnit,
    groups,
    workgroups: Math.ceil((groups * splits) / UNITS_PER_WORKGROUP),
    bytesPerWorkgroup: UNITS_PER_WORKGROUP * Math.min(chunk, c.S) * quadKeyBytes(c),
    subgroups,
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

/** The module of a plan: f32 and f16 storage differ only in `elem` (and its enable), never in the WGSL. */
export function flashDecodeShader(c: AttentionConfig, plan: FlashDecodePlan) {
  const lanes = laneSumSource(plan.subgroups, plan.wg);
  return {
    label: 'attention.flash_decode',
    wgsl: [wgsl, lanes.wgsl].join('\n'),
    elem: c.dtype,
    enable: lanes.enable,
    bindings: BINDINGS,
    constants: {
      WG: plan.wg,
      MERGE_WG: plan.mergeWg,
      L: plan.lanes,
      CHUNK: plan.chunk,
      D4: c.D / 4,
      CPL: plan.chunksPerLane,
      PACKED: plan.packed ? 1 : 0,
      RQ: plan.quadsPerUnit,
      GROUPS: plan.groups,
    },
    workgroup: lanes.workgroup,
  };
}

/** create() with internal options (tests force small chunks and the workgroup-memory lane sum). */
export async function createFlashDecode(ctx: GpuContext, c: AttentionConfig, opts: FlashDecodeOptions = {}): Promise<FlashDecodeInstance> {
  const plan = flashDecodePlan(c, ctx, opts);
  if (!isPlan(plan)) throw new ConfigError([plan]);
  const kernel = await createKernel(ctx, flashDecodeShader(c, plan), ['split_main', 'merge_main'] as const);
  const { pipelines } = kernel;
  const made = allocate(ctx, 'attention.flash_decode', buffers(c, opts));
  const group = kernel.bind(made.buffers);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const splitGrid = grid(plan.workgroups, maxDim);
  const mergeGrid = grid(Math.ceil((c.T * c.Hq * (c.D / 4)) / plan.mergeWg), maxDim);
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
    'With one query token per sequence there is no query parallelism to fill the GPU, so the KV range is split into chunks: each is streamed by a ' +
    'unit of 4 invocations that computes a partial softmax (running max, sum and weighted sum of values) over it, and a second pass merges the partials ' +
    'with log-sum-exp rescaling. A unit serves 4 query rows of one KV head (the query heads of a GQA group, and the T queries of speculative decode), ' +
    'so one load of a key serves them all; its lanes split the head dimension, so every K/V byte is loaded by one lane, q and the accumulators stay ' +
    'in registers, and the lanes sum their partial scores with subgroup shuffles: no workgroup memory, no barrier. With fewer than 4 query rows per ' +
    'KV head, as in MHA decode, a unit packs the rows of several KV heads instead of idling lanes. The kernel is bound by the bandwidth of reading the KV cache.',
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
