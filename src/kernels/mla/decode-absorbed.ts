// mla.decode_absorbed: host side of shaders/mla/decode-absorbed.wgsl. Plans the split-K decomposition
// (heads per workgroup, threads per head, tile height, key ranges) and records three dispatches.
import wgsl from '../../../shaders/mla/decode-absorbed.wgsl?raw';
import rowSumWgsl from '../../../shaders/lib/row-sum.wgsl?raw';
import rowLanesSubgroup from '../../../shaders/lib/row-lanes-subgroup.wgsl?raw';
import rowLanesWorkgroup from '../../../shaders/lib/row-lanes-workgroup.wgsl?raw';
import type { GpuContext } from '../../gpu/context.ts';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { ConfigSchema, KernelDefinition, KernelInstance, ValidationIssue } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import { mlaDecodeFromGolden, mlaDecodeGoldenMeta } from './mla-golden.ts';
import {
  MLA_ABSORBED_BENCHMARKS,
  MLA_DECODE_TEST_CASES,
  MlaParams,
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
  type MlaDecodeConfig,
  type MlaLayout,
} from './mla-config.ts';

export type MlaAbsorbedConfig = MlaDecodeConfig & {
  /** Key ranges the cache is split into; 0 picks enough to fill the GPU. */
  splits: number;
};

export const mlaAbsorbedSchema: ConfigSchema<MlaAbsorbedConfig> = {
  ...mlaDecodeSchema,
  splits: { type: 'int', label: 'KV splits', doc: 'split-K ranges of the cache (flash decoding); 0 = automatic', default: 0, min: 0, max: 256 },
};

/** Mirrors the WGSL constants: threads, register columns per thread, tile / reduction / score array sizes. */
const THREADS = 256;
const ABSORB_THREADS = 64;
const MAX_COLUMNS_PER_THREAD = 48;
const TILE_FLOATS = 2048;
const RED_FLOATS = 1024;
const SCORE_FLOATS = 256;
const MAX_SPLITS = 1024;
/** merge_main's latent columns per workgroup (MC); uv_main's W_UV rows per workgroup (RPW) and queries per tile (MT). */
const MERGE_COLUMNS = 32;
const UV_ROWS_PER_WG = 16;
const UV_QUERIES = 4;
/**
 * A cache-streaming dispatch fills a large GPU with >= 512 workgroups (~130 SMs x 4), or keeps each
 * workgroup's share of the cache <= 64 KiB: the splits are whichever of the two needs fewer.
 */
const TARGET_WORKGROUPS = 512;
const MAX_BYTES_PER_WORKGROUP = 64 * 1024;
const STORAGE_BUFFERS = 8;

/**
 * The split-K layout, decided here and passed in the uniform, so one compiled pipeline serves every shape
 * (WebGPU guarantees 256 invocations and 16 KiB of workgroup memory, all this kernel uses).
 */
export function planAbsorbed(c: MlaAbsorbedConfig): MlaLayout & { blocks: number } {
  const dk = c.dc + c.dr;
  const tphMin = Math.ceil(dk / MAX_COLUMNS_PER_THREAD);
  const hbMax = Math.max(1, Math.min(c.H, Math.floor(THREADS / tphMin)));
  const blocks = Math.ceil(c.H / hbMax);
  const HB = Math.ceil(c.H / blocks); // balanced blocks: 16 heads at most 14 per block -> 2 x 8, not 14 + 2
  const TPH = Math.floor(THREADS / HB);
  const BS = Math.max(1, Math.min(16, Math.floor(TILE_FLOATS / dk), Math.floor(RED_FLOATS / (HB * (TPH + 1))), Math.floor(SCORE_FLOATS / HB)));
  const rowBytes = dk * (c.dtype === 'f16' ? 2 : 4);
  const keysInBudget = Math.max(BS, Math.floor(Math.floor(MAX_BYTES_PER_WORKGROUP / rowBytes) / BS) * BS);
  const byWorkgroups = Math.ceil(TARGET_WORKGROUPS / (c.T * blocks));
  const byBytes = Math.ceil(c.S / keysInBudget);
  const wanted = c.splits > 0 ? c.splits : Math.min(byWorkgroups, byBytes);
  const splits0 = Math.max(1, Math.min(wanted, Math.ceil(c.S / BS), MAX_SPLITS));
  // Whole tiles per split: rounded down (at least splits0 ranges, so a target met stays met) unless that
  // passes MAX_SPLITS.
  const down = Math.max(BS, Math.floor(Math.ceil(c.S / splits0) / BS) * BS);
  const keysPerSplit = Math.ceil(c.S / down) <= MAX_SPLITS ? down : Math.ceil(Math.ceil(c.S / splits0) / BS) * BS;
  return { HB, TPH, BS, blocks, splits: Math.ceil(c.S / keysPerSplit), keysPerSplit };
}

function checkAbsorbed(c: MlaAbsorbedConfig): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const dk = c.dc + c.dr;
  if (c.dc % 4 !== 0) issues.push({ field: 'dc', message: `${c.dc} must be a multiple of 4: the latent cache is read as vec4 (mla.decode_naive takes any width)` });
  if (c.dr % 2 === 0 && c.dr % 4 !== 0) issues.push({ field: 'dr', message: `${c.dr} must be a multiple of 4: k_pe is read as vec4 (mla.decode_naive takes any even width)` });
  if (dk > TILE_FLOATS) {
    issues.push({ field: 'dc', message: `dc + dr = ${dk} floats per cache row exceed this kernel's ${TILE_FLOATS}-float tile (mla.decode_naive takes wider latents)` });
  }
  return issues;
}

function scratchOf(c: MlaAbsorbedConfig) {
  const p = planAbsorbed(c);
  return [
    { name: 'q_abs', bytes: c.T * c.H * (c.dc + c.dr) * 4 },
    { name: 'partials', bytes: c.T * c.H * p.splits * (c.dc + 2) * 4 },
  ];
}

/** Internal knob (tests): false forces uv_main's workgroup-memory row_sum even where the device has subgroups. */
export interface AbsorbedKnobs {
  subgroups?: boolean;
}

export async function createAbsorbed(ctx: GpuContext, c: MlaAbsorbedConfig, knobs: AbsorbedKnobs = {}): Promise<KernelInstance> {
  const p = planAbsorbed(c);
  const dk = c.dc + c.dr;
  const subgroups = ctx.features.subgroups && knobs.subgroups !== false;
  const { layout, pipelines } = await kernelPipelines(
    ctx,
    {
      label: 'mla.decode_absorbed',
      wgsl: [wgsl, rowSumWgsl, subgroups ? rowLanesSubgroup : rowLanesWorkgroup].join('\n'),
      structs: { MlaParams },
      elem: c.dtype as 'f32' | 'f16',
      enable: subgroups ? ['subgroups'] : [],
    },
    ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
    ['absorb_main', 'split_main', 'merge_main', 'uv_main'] as const,
  );
  const b = ctx.buffers;
  const tensors: Record<string, GPUBuffer> = {};
  for (const spec of [...mlaDecodeInputs(c), ...mlaDecodeOutputs(c)]) tensors[spec.name] = b.storage(spec.name, tensorBytes(spec.shape, spec.dtype));
  const [qAbsBytes, partialBytes] = scratchOf(c).map((s) => s.bytes) as [number, number];
  const qAbs = b.storage('q_abs', qAbsBytes);
  const partials = b.storage('partials', partialBytes);
  const params = uniformBuffer(ctx, 'mla.decode_absorbed params', MlaParams, mlaParams(c, p));
  const group = bindGroup(ctx, layout, [params, tensors.q_nope!, tensors.q_pe!, tensors.kv_latent!, tensors.k_pe!, tensors.wkv_b!, qAbs, partials, tensors.out!]);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const absorbGrid = grid(Math.ceil((c.T * c.H * dk) / ABSORB_THREADS), maxDim);
  const splitGrid = grid(c.T * p.blocks * p.splits, maxDim);
  const mergeGrid = grid(c.T * c.H * Math.ceil(c.dc / MERGE_COLUMNS), maxDim);
  const uvGrid: [number, number] = [Math.ceil(c.T / UV_QUERIES), Math.ceil((c.H * c.dv) / UV_ROWS_PER_WG)];
  return {
    tensors,
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipelines.absorb_main);
      pass.dispatchWorkgroups(...absorbGrid);
      pass.setPipeline(pipelines.split_main);
      pass.dispatchWorkgroups(...splitGrid);
      pass.setPipeline(pipelines.merge_main);
      pass.dispatchWorkgroups(...mergeGrid);
      pass.setPipeline(pipelines.uv_main);
      pass.dispatchWorkgroups(...uvGrid);
    },
    destroy() {
      for (const buf of [...Object.values(tensors), qAbs, partials, params]) b.destroy(buf);
    },
  };
}

export const mlaDecodeAbsorbed: KernelDefinition<MlaAbsorbedConfig> = {
  id: 'mla.decode_absorbed',
  family: 'mla',
  title: 'MLA decode, absorbed (split-K over the latent cache)',
  explain:
    'W_UK is folded into the query (q_lat = q_nope W_UK, one [d_c] vector per head) and W_UV is applied after the weighted sum, so attention runs directly on the cached ' +
    'latent rows [c_KV, k_pe] (d_c + d_rope = 576 values per token in DeepSeek-V3) instead of per-head keys and values. All heads score against the same rows: ' +
    'each workgroup loads a tile of rows into workgroup memory once for a block of heads, and the cache is split into key ranges (flash decoding) merged by a final pass, ' +
    'so a decode step streams the small latent cache roughly once and is bound by memory bandwidth, not by one long sequential loop per head. ' +
    'The ranges are merged per (head, 32 latent columns) and W_UV is applied last as a coalesced GEMV, so no pass runs on a handful of workgroups.',
  sources: [
    'DeepSeek-AI 2024, "DeepSeek-V2", section 2.1 (MLA, weight absorption)',
    'deepseek-ai/DeepSeek-V3 inference/model.py, class MLA, attn_impl = "absorb"',
    'Dao et al. 2023, "Flash-Decoding for long-context inference" (split-K)',
  ],
  implements: 'mla.decode',
  schema: mlaAbsorbedSchema,
  check: (c, caps) => [...checkMlaDecode(c, caps, STORAGE_BUFFERS), ...checkAbsorbed(c)],
  inputs: mlaDecodeInputs,
  outputs: mlaDecodeOutputs,
  scratch: scratchOf,
  cost(c) {
    // q_abs written and read, partials written and read once each: small next to the cache for S >> H * splits.
    const extra = 2 * scratchOf(c).reduce((a, s) => a + s.bytes, 0);
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
