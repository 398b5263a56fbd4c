// mla.decode_absorbed: host side of shaders/mla/decode-absorbed.wgsl. Plans the split-K decomposition
// (heads per workgroup, threads per head, tile height, key ranges) and records three dispatches.
import wgsl from '../../../shaders/mla/decode-absorbed.wgsl?raw';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { ConfigSchema, KernelDefinition, ValidationIssue } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import {
  MLA_ABSORBED_BENCHMARKS,
  MLA_DECODE_TEST_CASES,
  MlaParams,
  absorbedFlops,
  checkMlaDecode,
  costOf,
  latentCacheBytes,
  mlaDecodeFromGolden,
  mlaDecodeGoldenMeta,
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
const MAX_COLUMNS_PER_THREAD = 32;
const TILE_FLOATS = 2048;
const RED_FLOATS = 1024;
const SCORE_FLOATS = 256;
const MAX_SPLITS = 256;
/** Enough workgroups to fill a large GPU (~130 SMs x 4), without ranges so short that partials dominate. */
const TARGET_WORKGROUPS = 512;
const MIN_KEYS_PER_SPLIT = 64;
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
  const wanted = c.splits > 0 ? c.splits : Math.ceil(TARGET_WORKGROUPS / (c.T * blocks));
  const byKeys = c.splits > 0 ? MAX_SPLITS : Math.max(1, Math.floor(c.S / MIN_KEYS_PER_SPLIT));
  const splits0 = Math.max(1, Math.min(wanted, byKeys, MAX_SPLITS));
  const keysPerSplit = Math.ceil(Math.ceil(c.S / splits0) / BS) * BS;
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

export const mlaDecodeAbsorbed: KernelDefinition<MlaAbsorbedConfig> = {
  id: 'mla.decode_absorbed',
  family: 'mla',
  title: 'MLA decode, absorbed (split-K over the latent cache)',
  explain:
    'W_UK is folded into the query (q_lat = q_nope W_UK, one [d_c] vector per head) and W_UV is applied after the weighted sum, so attention runs directly on the cached ' +
    'latent rows [c_KV, k_pe] (d_c + d_rope = 576 values per token in DeepSeek-V3) instead of per-head keys and values. All heads score against the same rows: ' +
    'each workgroup loads a tile of rows into workgroup memory once for a block of heads, and the cache is split into key ranges (flash decoding) merged by a final pass, ' +
    'so a decode step streams the small latent cache roughly once and is bound by memory bandwidth, not by one long sequential loop per head.',
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
  async create(ctx, c) {
    const p = planAbsorbed(c);
    const dk = c.dc + c.dr;
    const { layout, pipelines } = await kernelPipelines(
      ctx,
      { label: 'mla.decode_absorbed', wgsl, structs: { MlaParams }, elem: c.dtype as 'f32' | 'f16' },
      ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
      ['absorb_main', 'split_main', 'merge_main'] as const,
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
    const absorbGrid = grid(Math.ceil((c.T * c.H * dk) / THREADS), maxDim);
    const splitGrid = grid(c.T * p.blocks * p.splits, maxDim);
    const mergeGrid = grid(c.T * c.H, maxDim);
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
      },
      destroy() {
        for (const buf of [...Object.values(tensors), qAbs, partials, params]) b.destroy(buf);
      },
    };
  },
  benchmarks: MLA_ABSORBED_BENCHMARKS,
  testCases: [
    ...MLA_DECODE_TEST_CASES,
    { name: 'forced 5 splits, T=4 causal (some ranges empty)', config: { T: 4, S: 90, H: 9, dn: 7, dr: 8, dc: 24, dv: 5, splits: 5 } },
    { name: 'more heads than one block (H=40)', config: { T: 1, S: 50, H: 40, dn: 4, dr: 4, dc: 200, dv: 6 } },
  ],
};
