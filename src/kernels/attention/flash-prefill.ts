// attention.flash_prefill: host side of shaders/attention/flash-prefill.wgsl. The tile plan (rows per
// workgroup quad, vec4 columns per lane, which lane_sum) is derived from D and the device; the schema's
// D <= 256 is what the written-out column slots hold.
import wgsl from '../../../shaders/attention/flash-prefill.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import { isCpuEmulation, type AdapterSummary, type DeviceCaps, type GpuContext } from '../../gpu/context.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupBytes } from '../../gpu/wgsl-declarations.ts';
import type { KernelDefinition, KernelInstance } from '../contract.ts';
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
import { laneSumSource, usesSubgroups, type FlashOptions } from './flash-lanes.ts';

/**
 * The tile plan. A quad (4 invocations, one subgroup) owns 4 * rowQuads rows; its lanes split the head dim,
 * so each lane keeps 4 * rowQuads rows x ceil(D / 16) vec4 columns of q and O in registers. On CPU emulation
 * every K/V scalar a lane reads is a gather that costs about 20 FMAs' time, so the most rows (16) per quad win
 * there (each K/V vec4 a lane reads then feeds 64 FMAs), one quad per workgroup (no keys walked past a quad's
 * diagonal); a GPU's register file holds 4 rows per quad, and 16 quads make a 64-invocation workgroup.
 */
export interface FlashPrefillPlan {
  /** Invocations per workgroup: 4 per quad. */
  wg: number;
  /** Row quads per invocation quad (1..4). */
  rowQuads: number;
  /** Invocation quads per workgroup. */
  quadsPerWorkgroup: number;
  /** Query rows (query x head of the GQA group) per workgroup: 4 * rowQuads * quadsPerWorkgroup. */
  rowsPerBlock: number;
  /** Vec4 columns of a row per lane: ceil(D / 16), at most the 16 slots the WGSL writes out (D <= 256). */
  laneColumns: number;
  /** lane_sum by subgroup butterfly (else workgroup memory, two barriers a call). */
  subgroups: boolean;
  workgroups: number;
  workgroupBytes: number;
}

export interface FlashPrefillOptions extends FlashOptions {
  /** Row quads per invocation quad (1..4); default: 4 on CPU emulation, 1 elsewhere. */
  rowQuads?: number;
  /** Invocation quads per workgroup; default: 1 on CPU emulation, 16 elsewhere (within the device's limits). */
  quadsPerWorkgroup?: number;
}

const LANES = 4;
const MAX_ROW_QUADS = 4;
const GPU_QUADS_PER_WORKGROUP = 16;

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

/** The tile plan for this config on this device (every config the schema allows fits: D <= 256, 4 KiB of workgroup memory at most). */
export function flashPrefillPlan(c: AttentionConfig, caps: DeviceCaps & { adapter?: AdapterSummary }, opts: FlashPrefillOptions = {}): FlashPrefillPlan {
  const subgroups = usesSubgroups(caps, opts);
  const cpu = isCpuEmulation(caps);
  const rows = c.T * (c.Hq / c.Hkv);
  // No more row quads, or invocation quads, than the rows fill.
  const rowQuads = Math.max(1, Math.min(MAX_ROW_QUADS, opts.rowQuads ?? (cpu ? MAX_ROW_QUADS : 1), Math.ceil(rows / 4)));
  const quadRows = 4 * rowQuads;
  const maxQuads = Math.floor(Math.min(caps.limits.maxComputeInvocationsPerWorkgroup, caps.limits.maxComputeWorkgroupSizeX) / LANES);
  const quadsPerWorkgroup = Math.max(1, Math.min(maxQuads, opts.quadsPerWorkgroup ?? (cpu ? 1 : GPU_QUADS_PER_WORKGROUP), Math.ceil(rows / quadRows)));
  const wg = LANES * quadsPerWorkgroup;
  const rowsPerBlock = quadRows * quadsPerWorkgroup;
  return {
    wg,
    rowQuads,
    quadsPerWorkgroup,
    rowsPerBlock,
    laneColumns: Math.ceil(c.D / 4 / LANES),
    subgroups,
    workgroups: c.Hkv * Math.ceil(rows / rowsPerBlock),
    workgroupBytes: workgroupBytes(laneSumSource(subgroups, wg).workgroup),
  };
}

export interface FlashPrefillInstance extends KernelInstance {
  plan: FlashPrefillPlan;
}

export async function createFlashPrefill(ctx: GpuContext, c: AttentionConfig, opts: FlashPrefillOptions = {}): Promise<FlashPrefillInstance> {
  const plan = flashPrefillPlan(c, ctx, opts);
  const lanes = laneSumSource(plan.subgroups, plan.wg);
  const kernel = await createKernel(
    ctx,
    {
      label: 'attention.flash_prefill',
      wgsl: [wgsl, lanes.wgsl].join('\n'),
      elem: c.dtype,
      enable: lanes.enable,
      bindings: BINDINGS,
      constants: { QV: plan.rowQuads, QR: 4 * plan.rowQuads, QPW: plan.quadsPerWorkgroup, WG: plan.wg, D4: c.D / 4, CPL: plan.laneColumns, L: LANES },
      workgroup: lanes.workgroup,
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
    'Each quad of 4 invocations owns a block of query rows (all query heads of one GQA group, so each K/V row is read once for the whole group); ' +
    'its lanes split the head dim, keep their columns of q and of the output accumulator in registers, and sum their parts of each score by a subgroup butterfly. ' +
    'Scores stay in registers: an online softmax (base 2) keeps a running max and sum per row and rescales the accumulator only when the max grows, ' +
    'so the T x S score matrix never touches device memory and traffic is O(T*D + S*D) per head instead of O(T*S). ' +
    'Under the causal mask, keys above a block\'s diagonal are never read, and the longest blocks run first.',
  sources: [
    'Dao et al. 2022, "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", Algorithm 1',
    'Dao 2023, "FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning", section 3',
  ],
  check(c, caps) {
    return checkAttention(c, caps, { vec4: true });
  },
  plan: buffers,
  create: (ctx, c) => createFlashPrefill(ctx, c),
  // The dense shapes plus the peers study's shorter causal prefill.
  benchmarks: [...DENSE_BENCHMARKS, { name: 'prefill S=512 H=8 D=64', config: { T: 512, S: 512, Hq: 8, Hkv: 8, D: 64, causal: true } }],
};
