// mla.compress: host side of shaders/mla/compress.wgsl. Writes T new tokens into the latent cache the
// decode kernels read: kv_latent [S, d_c] = RMSNorm(x W_DKV) and k_pe [S, d_rope] = RoPE(x W_KR), at rows
// start..start+T-1. No golden op (the golden files start from the cache), so `implements` is left out.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/mla/compress.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { ConfigOf, ConfigSchema, KernelDefinition, OutputSpec, TensorSpec } from '../contract.ts';
import { DEFAULT_TOLERANCE, relL2, type CompareResult } from '../compare.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { needF16 } from '../common/rules.ts';
import { randomNormal } from '../random.ts';
import { BYTES_PER, roundTo, type HostTensor } from '../tensor.ts';
import { mlaCompressReference, ropeTable } from '../../reference/mla.ts';
import { createMatmulStage, type MatmulStage } from '../linear/matmul.ts';
import { DSV3_HEAD, checkRopeWidth } from './mla-config.ts';

export const mlaCompressSchema = {
  T: { type: 'int', label: 'new tokens T', default: 1, min: 1, max: 1 << 16 },
  S: { type: 'int', label: 'cache rows S', default: 1024, min: 1, max: 1 << 22, unit: 'tokens' },
  start: { type: 'int', label: 'first position', doc: 'cache row and RoPE position of the first new token', default: 1023, min: 0, max: (1 << 22) - 1 },
  dim: { type: 'int', label: 'hidden size', doc: 'model width of x (DeepSeek-V3: 7168)', default: 7168, min: 1, max: 1 << 16 },
  dc: { type: 'int', label: 'kv_lora_rank d_c', default: 512, min: 1, max: 8192 },
  dr: { type: 'int', label: 'qk_rope_head_dim', default: 64, min: 2, max: 1024 },
  eps: { type: 'number', label: 'RMSNorm eps', doc: 'rms_norm_eps (DeepSeek-V3: 1e-6)', default: 1e-6, min: 0, max: 1 },
  rope_theta: { type: 'number', label: 'rope_theta', doc: 'RoPE base (DeepSeek-V3: 10000)', default: 10000, min: 1, max: 1e9 },
  dtype: { type: 'enum', label: 'storage', doc: 'f16 stores x, weights and caches in half precision (needs shader-f16); math is f32', default: 'f32', values: ['f32', 'f16'] },
} as const satisfies ConfigSchema;

/** T new tokens at positions (and cache rows) start .. start+T-1 of an S-row cache; dim is the model's hidden size. */
export type MlaCompressConfig = ConfigOf<typeof mlaCompressSchema>;

export const MlaCompressParams = d
  .struct({
    T: d.u32,
    S: d.u32,
    start: d.u32,
    dim: d.u32,
    dc: d.u32,
    dr: d.u32,
    eps: d.f32,
  })
  .$name('MlaCompressParams');

/** Threads per workgroup (a power of two: workgroup_sum's tree), injected into compress.wgsl. */
const CONSTANTS = { WG: 256 } as const;

const BINDINGS = {
  params: uniform(MlaCompressParams),
  x: storage('elem'),
  wkv_a: storage('elem'),
  kv_norm: storage('elem'),
  rope: storage('vec2<f32>'),
  kv: storage('elem', 'read_write'),
  kv_latent: storage('elem', 'read_write'),
  k_pe: storage('elem', 'read_write'),
};

const WORKGROUP = { reduce_scratch: workgroupArray('f32', CONSTANTS.WG) };

/**
 * From this many new tokens the projection runs as a GEMM over them (a 64-row block of the shared GEMM core at
 * least a quarter full) instead of one GEMV pass over wkv_a per token.
 */
export const GEMM_MIN_TOKENS = 16;

/**
 * Rows start..start+T-1 against the reference by relative L2; every other row must still hold what the
 * buffer held before (the harness poisons outputs with NaN bytes, so untouched rows come back NaN).
 */
function cacheRows(name: string, tolerance: number): OutputSpec['compare'] {
  return {
    kind: 'custom',
    describe: 'written rows by relative L2; rows outside the new positions must be left untouched',
    fn(got: Record<string, HostTensor>, want: Record<string, HostTensor>): CompareResult {
      const g = got[name]!.data;
      const w = want[name]!.data;
      const gw: number[] = [];
      const ww: number[] = [];
      let touched = 0;
      for (let i = 0; i < w.length; i++) {
        if (Number.isNaN(w[i]!)) {
          if (!Number.isNaN(g[i]!)) touched++;
        } else {
          gw.push(g[i]!);
          ww.push(w[i]!);
        }
      }
      const r = relL2(name, gw, ww, tolerance);
      if (!touched) return r;
      return { ...r, ok: false, detail: `${touched} value(s) written outside rows start..start+T-1` };
    },
  };
}

function inputs(c: MlaCompressConfig): TensorSpec[] {
  const dtype = c.dtype;
  return [
    { name: 'x', shape: [c.T, c.dim], dtype },
    { name: 'wkv_a', shape: [c.dc + c.dr, c.dim], dtype },
    { name: 'kv_norm', shape: [c.dc], dtype },
  ];
}

function outputs(c: MlaCompressConfig): OutputSpec[] {
  const dtype = c.dtype;
  const tol = DEFAULT_TOLERANCE[dtype];
  return [
    { name: 'kv_latent', shape: [c.S, c.dc], dtype, compare: cacheRows('kv_latent', tol) },
    { name: 'k_pe', shape: [c.S, c.dr], dtype, compare: cacheRows('k_pe', tol) },
  ];
}

/**
 * x, wkv_a, kv_norm in, the two caches out; the f32 projection kv [T, dc+dr]; the RoPE table rope [T, dr/2]
 * of (cos, sin), computed in float64 on the host (as precompute_freqs_cis does once per model) and stored
 * f32: positions up to millions would lose the angle's precision in an f32 pos * freq on the GPU.
 */
function plan(c: MlaCompressConfig) {
  return {
    ...plannedTensors(inputs(c), outputs(c), ['x', 'wkv_a', 'kv_norm', 'kv_latent', 'k_pe']),
    kv: planned('scratch', c.T * (c.dc + c.dr) * BYTES_PER[c.dtype]),
    rope: planned('scratch', c.T * c.dr * 4),
    params: plannedUniform(MlaCompressParams, { T: c.T, S: c.S, start: c.start, dim: c.dim, dc: c.dc, dr: c.dr, eps: c.eps }),
  };
}

/** DeepSeek-V3's MLA cache write at its real widths (config.json: hidden 7168, kv_lora_rank 512, qk_rope 64). */
const DSV3_COMPRESS = { dim: 7168, dc: DSV3_HEAD.dc, dr: DSV3_HEAD.dr, eps: 1e-6, rope_theta: 10000 };

export const mlaCompress: KernelDefinition<MlaCompressConfig> = {
  id: 'mla.compress',
  family: 'mla',
  title: 'MLA cache write: latent c_KV and decoupled RoPE key',
  explain:
    'Per new token, one down-projection of the hidden state gives d_c + d_rope values: the first d_c, RMS-normalised, are the latent c_KV that stands in for every ' +
    "head's key and value; the last d_rope, rotated by RoPE at the token's position, are the one positional key all heads share. These 576 values per token and layer " +
    '(DeepSeek-V3) are the whole KV cache. For a decode step the projection is a bandwidth-bound GEMV: one workgroup per weight row streams it once and reduces in workgroup memory; ' +
    'for a prefill chunk (16 tokens or more) it is a GEMM over the tokens on the shared register-tiled core, so each weight value loaded serves a block of 64 tokens.',
  sources: ['DeepSeek-AI 2024, "DeepSeek-V2", eqs. 9-10 and 14 (c_KV, decoupled RoPE key)', 'deepseek-ai/DeepSeek-V3 inference/model.py, class MLA: wkv_a, kv_norm, apply_rotary_emb'],
  schema: mlaCompressSchema,
  check(c, caps) {
    const issues = [...checkRopeWidth('dr', c.dr), ...needF16('dtype', c.dtype, caps)];
    if (c.start + c.T > c.S) issues.push({ field: 'start', message: `${c.start} + T = ${c.T} runs past the cache's S = ${c.S} rows` });
    return issues;
  },
  inputs,
  outputs,
  plan,
  scratch: (c) => planScratch(plan(c)),
  cost(c) {
    const el = BYTES_PER[c.dtype];
    return {
      flops: 2 * c.T * c.dim * (c.dc + c.dr) + 6 * c.T * (c.dc + c.dr),
      // x and the weights read once, the T new rows written once (the rest of the cache is not touched).
      bytes: (c.T * c.dim + (c.dc + c.dr) * c.dim + c.dc + c.T * (c.dc + c.dr)) * el,
    };
  },
  randomInputs(c, rng) {
    return {
      x: randomNormal(rng, [c.T, c.dim]),
      wkv_a: randomNormal(rng, [c.dc + c.dr, c.dim], 1 / Math.sqrt(c.dim)),
      kv_norm: randomNormal(rng, [c.dc]),
    };
  },
  reference(inputsByName, c) {
    const dt = c.dtype;
    const r = mlaCompressReference(roundTo(inputsByName.x!, dt), roundTo(inputsByName.wkv_a!, dt), roundTo(inputsByName.kv_norm!, dt), {
      T: c.T,
      S: c.S,
      start: c.start,
      dim: c.dim,
      dc: c.dc,
      dr: c.dr,
      eps: c.eps,
      ropeTheta: c.rope_theta,
    });
    return { kv_latent: r.kv_latent, k_pe: r.k_pe };
  },
  async create(ctx, c) {
    const kernel = await createKernel(
      ctx,
      { label: 'mla.compress', wgsl, elem: c.dtype, bindings: BINDINGS, constants: CONSTANTS, workgroup: WORKGROUP },
      ['project_main', 'norm_main'] as const,
    );
    const made = allocate(ctx, 'mla.compress', plan(c));
    const { buffers } = made;
    let gemm: MatmulStage | undefined;
    try {
      ctx.device.queue.writeBuffer(buffers.rope, 0, Float32Array.from(ropeTable(c.start, c.T, c.dr, c.rope_theta)));
      // kv [T, dc+dr] = x [T, dim] . wkv_a^T, wkv_a in nn.Linear's [out, in] layout.
      if (c.T >= GEMM_MIN_TOKENS) {
        gemm = await createMatmulStage(ctx, { M: c.T, N: c.dc + c.dr, K: c.dim, trans_b: true }, { a: buffers.x, b: buffers.wkv_a, c: buffers.kv }, 'mla.compress:project', c.dtype);
      }
    } catch (e) {
      made.destroy();
      throw e;
    }
    const group = kernel.bind(buffers);
    const { pipelines } = kernel;
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const projectGrid = grid(c.dc + c.dr, maxDim);
    const normGrid = grid(c.T, maxDim);
    return {
      tensors: made.tensors,
      encode(pass) {
        if (gemm) {
          gemm.encode(pass);
        } else {
          pass.setBindGroup(0, group);
          pass.setPipeline(pipelines.project_main);
          pass.dispatchWorkgroups(...projectGrid);
        }
        pass.setBindGroup(0, group);
        pass.setPipeline(pipelines.norm_main);
        pass.dispatchWorkgroups(...normGrid);
      },
      destroy() {
        gemm?.destroy();
        made.destroy();
      },
    };
  },
  benchmarks: [
    { name: 'decode write dc=512 dr=64, hidden 2048 (DeepSeek-V3: 7168, ~3.5x the weight bytes)', config: { T: 1, S: 4096, start: 4095, ...DSV3_COMPRESS, dim: 2048 } },
    { name: 'prefill chunk T=128 dc=512 dr=64, hidden 2048 (the GEMM path)', config: { T: 128, S: 4096, start: 3968, ...DSV3_COMPRESS, dim: 2048 } },
  ],
  testCases: [
    { name: 'decode: one token at the last row', config: { T: 1, S: 9, start: 8, dim: 37, dc: 19, dr: 6 } },
    { name: 'prefill chunk in the middle (rows before and after untouched)', config: { T: 5, S: 17, start: 3, dim: 70, dc: 33, dr: 10 } },
    { name: 'first token at position 0 (RoPE identity)', config: { T: 1, S: 4, start: 0, dim: 300, dc: 12, dr: 4 } },
    { name: 'hidden size over one workgroup stride, large position', config: { T: 2, S: 5000, start: 4321, dim: 611, dc: 40, dr: 8, rope_theta: 50000 } },
    { name: 'DeepSeek-V3 cache widths (dc=512, dr=64), hidden 1536', config: { T: 1, S: 3, start: 2, ...DSV3_COMPRESS, dim: 1536 } },
    { name: 'prefill through the GEMM: T=70 (two row blocks), odd hidden size, rows after untouched', config: { T: 70, S: 90, start: 11, dim: 101, dc: 37, dr: 10 } },
    { name: 'GEMM at its threshold T=16, DeepSeek-V3 cache widths', config: { T: 16, S: 16, start: 0, ...DSV3_COMPRESS, dim: 200 } },
  ],
};
