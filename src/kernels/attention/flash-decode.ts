// attention.flash_decode: host side of shaders/attention/flash-decode.wgsl. Two dispatches in one pass:
// split_main writes one partial (max, sum, accumulator) per (split, row), merge_main combines them.
// The split count depends on the config only (so scratch() and cost() can size the partials before a device
// exists); the device decides the workgroup size, lanes and how many keys one workgroup holds at a time.
import wgsl from '../../../shaders/attention/flash-decode.wgsl?raw';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { ConfigError } from '../../gpu/errors.ts';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import {
  AttentionParams,
  DENSE_ATTENTION,
  DENSE_BENCHMARKS,
  DENSE_TEST_CASES,
  attentionCost,
  attentionParams,
  attentionTensors,
  checkAttention,
  type AttentionConfig,
} from './attention-config.ts';
import { flashWorkgroupSize, laneSumBytes, laneSumSource, lanesFor, usesSubgroups, type FlashOptions } from './flash-lanes.ts';

/** Longest query block: the shader keeps up to MAX_ROWS rows of one KV head per workgroup in registers. */
export const FLASH_DECODE_MAX_T = 16;
const MAX_ROWS = 16;
/**
 * Workgroups pass 1 aims for. WebGPU exposes no core count, so this is sized for the largest current GPUs:
 * about 2 resident 256-invocation workgroups per SM on a 132-SM H100, so one streams while the other reduces.
 * More splits mean more partials to write and merge (and, on SwiftShader, measurably slower runs: 512
 * workgroups took 1.7x the CPU time of 256 at S=4096, Hq=32, Hkv=8, D=128).
 */
const TARGET_WORKGROUPS = 256;
/** Workgroup memory pass 1 aims to use: a small footprint keeps several workgroups resident per SM. */
const WORKGROUP_BUDGET = 16 * 1024;
/** Fewest keys per split: below this the fixed cost of a split (q staging, reductions, partial) dominates. */
const MIN_CHUNK = 64;

/** Rows (query x head of one GQA group) per workgroup before device limits are considered. */
function nominalRows(c: AttentionConfig): number {
  return Math.min(MAX_ROWS, Math.ceil((c.T * (c.Hq / c.Hkv)) / 4) * 4);
}

/** How the key range is split: config only, so partial buffers are known before a device is. */
export function flashDecodeSplits(c: AttentionConfig): { splits: number; chunk: number } {
  const items = c.Hkv * Math.ceil((c.T * (c.Hq / c.Hkv)) / nominalRows(c));
  const wanted = Math.ceil(TARGET_WORKGROUPS / items);
  const splits0 = Math.max(1, Math.min(wanted, Math.ceil(c.S / MIN_CHUNK)));
  const chunk = Math.ceil(c.S / splits0);
  return { splits: Math.ceil(c.S / chunk), chunk };
}

/** Partial buffers: f32 accumulators [splits, T*Hq, D] and (max, sum) pairs [splits, T*Hq]. Absent with one split. */
function partialBytes(c: AttentionConfig, splits: number): { acc: number; ml: number } {
  if (splits === 1) return { acc: 0, ml: 0 };
  return { acc: splits * c.T * c.Hq * c.D * 4, ml: splits * c.T * c.Hq * 8 };
}

export interface FlashDecodePlan {
  splits: number;
  /** Keys per split, and keys per sub-chunk a workgroup holds in workgroup memory at a time. */
  chunk: number;
  subChunk: number;
  wg: number;
  lanes: number;
  chunksPerLane: number;
  /** Rows per workgroup (a multiple of 4) and the resulting row blocks per KV head. */
  rowsPerBlock: number;
  blocks: number;
  /** Row groups of the P.V phase (each L key lanes x D/4 columns wide). */
  rowGroups: number;
  /** Pass-1 workgroups: Hkv * blocks * splits. */
  workgroups: number;
  workgroupBytes: number;
  subgroups: boolean;
}

/** Internal knobs beyond FlashOptions: tests force small chunks to exercise many splits and sub-chunks. */
export interface FlashDecodeOptions extends FlashOptions {
  chunk?: number;
  subChunk?: number;
}

export function flashDecodePlan(c: AttentionConfig, caps: DeviceCaps, opts: FlashDecodeOptions = {}): FlashDecodePlan | ValidationIssue {
  const subgroups = usesSubgroups(caps, opts);
  const wg = flashWorkgroupSize(caps.limits);
  const d4 = c.D / 4;
  const lanes = lanesFor(d4);
  const chunksPerLane = Math.ceil(d4 / lanes);
  const chunk = opts.chunk ?? flashDecodeSplits(c).chunk;
  const splits = Math.ceil(c.S / chunk);
  const limit = caps.limits.maxComputeWorkgroupStorageSize;
  const keysPerPass = wg / lanes; // keys one sweep of the score phase covers
  const rowsNeeded = nominalRows(c);
  let need = 0;
  for (let rows = rowsNeeded; rows >= 4; rows -= 4) {
    // q rows + reduction slots + three per-row statistics + the lane sum's own slots
    const fixed = rows * chunksPerLane * lanes * 16 + wg * 4 + 3 * rows * 4 + laneSumBytes(subgroups, wg);
    const minSub = Math.min(chunk, keysPerPass);
    need = need || fixed + rows * 4 * minSub;
    // Prefer staying within WORKGROUP_BUDGET (occupancy), but take up to the limit rather than fail.
    const fitLimit = Math.floor((limit - fixed) / (rows * 4));
    if (fitLimit < minSub || wg < lanes * d4) continue;
    const fit = Math.max(minSub, Math.floor((Math.min(limit, WORKGROUP_BUDGET) - fixed) / (rows * 4)));
    // Whole score sweeps where the split is longer than what fits.
    let subChunk = Math.min(chunk, opts.subChunk ?? fit);
    if (subChunk < chunk && subChunk > keysPerPass) subChunk -= subChunk % keysPerPass;
    const blocks = Math.ceil((c.T * (c.Hq / c.Hkv)) / rows);
    return {
      splits,
      chunk,
      subChunk,
      wg,
      lanes,
      chunksPerLane,
      rowsPerBlock: rows,
      blocks,
      rowGroups: Math.min(rows, Math.floor(wg / (lanes * d4))),
      workgroups: c.Hkv * blocks * splits,
      workgroupBytes: fixed + rows * 4 * subChunk,
      subgroups,
    };
  }
  return {
    field: 'D',
    message: `${c.D} needs ${need} B of workgroup memory for a block of ${rowsNeeded} query rows, over this device's maxComputeWorkgroupStorageSize of ${limit} B`,
  };
}

function isPlan(p: FlashDecodePlan | ValidationIssue): p is FlashDecodePlan {
  return 'wg' in p;
}

export interface FlashDecodeInstance extends KernelInstance {
  plan: FlashDecodePlan;
}

/** create() with internal options (tests force the workgroup-memory lane sum and small chunks). */
export async function createFlashDecode(ctx: GpuContext, c: AttentionConfig, opts: FlashDecodeOptions = {}): Promise<FlashDecodeInstance> {
  const plan = flashDecodePlan(c, ctx, opts);
  if (!isPlan(plan)) throw new ConfigError([plan]);
  const lanesum = laneSumSource(plan.subgroups);
  const { layout, pipelines } = await kernelPipelines(
    ctx,
    { label: 'attention.flash_decode', wgsl: `${wgsl}\n${lanesum.wgsl}`, structs: { AttentionParams }, elem: c.dtype as 'f32' | 'f16', enable: lanesum.enable },
    ['uniform', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
    ['split_main', 'merge_main'] as const,
    {
      WG: plan.wg,
      L: plan.lanes,
      CPT: plan.chunksPerLane,
      RB: plan.rowsPerBlock,
      CHUNK: plan.chunk,
      SUB: plan.subChunk,
      RG: plan.rowGroups,
    },
  );
  const b = ctx.buffers;
  const tensors = attentionTensors(ctx, c);
  // With one split pass 1 writes `out` itself; the bindings still need buffers of at least one element.
  const partials = partialBytes(c, plan.splits);
  const partAcc = b.storage('partial accumulators', Math.max(16, partials.acc));
  const partMl = b.storage('partial max/sum', Math.max(8, partials.ml));
  const params = uniformBuffer(ctx, 'attention.flash_decode params', AttentionParams, attentionParams(c, { splits: plan.splits }));
  const group = bindGroup(ctx, layout, [params, tensors.q, tensors.k, tensors.v, partAcc, partMl, tensors.out]);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const splitGrid = grid(plan.workgroups, maxDim);
  const mergeGrid = grid(Math.ceil((c.T * c.Hq * (c.D / 4)) / plan.wg), maxDim);
  return {
    tensors,
    plan,
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipelines.split_main);
      pass.dispatchWorkgroups(...splitGrid);
      if (plan.splits > 1) {
        pass.setPipeline(pipelines.merge_main);
        pass.dispatchWorkgroups(...mergeGrid);
      }
    },
    destroy() {
      for (const buf of [...Object.values(tensors), partAcc, partMl, params]) b.destroy(buf);
    },
  };
}

export const flashDecode: KernelDefinition<AttentionConfig> = {
  ...DENSE_ATTENTION,
  id: 'attention.flash_decode',
  title: 'Flash-Decoding (split-K, T <= 16)',
  explain:
    'With one query token per sequence there is no query parallelism to fill the GPU, so the KV range is split across workgroups: each computes ' +
    'a partial softmax (running max, sum and weighted sum of values) over its chunk, and a second pass merges the partials with log-sum-exp rescaling. ' +
    'All query heads of a GQA group are handled by the same workgroup, so each KV head is read from memory once per step; the kernel is bound by ' +
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
  scratch(c) {
    const { acc, ml } = partialBytes(c, flashDecodeSplits(c).splits);
    return [
      { name: 'partial accumulators', bytes: acc },
      { name: 'partial max/sum', bytes: ml },
    ];
  },
  cost(c) {
    const base = attentionCost(c);
    // The partials are written once by pass 1 and read once by pass 2.
    const { acc, ml } = partialBytes(c, flashDecodeSplits(c).splits);
    return { ...base, bytes: base.bytes + 2 * (acc + ml) };
  },
  create: (ctx, c) => createFlashDecode(ctx, c),
  benchmarks: [
    DENSE_BENCHMARKS[0]!,
    { name: 'decode T=4 S=2048 Hq=32 Hkv=8 D=128 (speculative)', config: { T: 4, S: 2048, Hq: 32, Hkv: 8, D: 128, causal: true } },
  ],
  testCases: DENSE_TEST_CASES.filter((tc) => (tc.config.T ?? 1) <= FLASH_DECODE_MAX_T),
};
