// What the MLA decode kernels share: the config schema, tensor specs (the golden `mla.decode` names),
// validation, cost model, the GPU parameter struct and the bench/test shapes (the golden mapping is mla-golden.ts).
// naive and absorbed differ only in how they compute (see decode-naive.ts / decode-absorbed.ts).
import * as d from 'typegpu/data';
import type { DeviceCaps } from '../../gpu/context.ts';
import type { BenchShape, ConfigOf, ConfigSchema, Cost, OutputSpec, TensorSpec, ValidationIssue } from '../contract.ts';
import { needF16 } from '../common/rules.ts';
import { randomNormal, type Rng } from '../random.ts';
import { BYTES_PER, roundTo, type HostTensor } from '../tensor.ts';
import { mlaDecodeReference } from '../../reference/mla.ts';

export const mlaDecodeSchema = {
  T: { type: 'int', label: 'queries T', doc: 'query tokens at positions S-T .. S-1 (decode: T = 1)', default: 1, min: 1, max: 1 << 16 },
  S: { type: 'int', label: 'cached tokens S', doc: 'context length held in the latent cache', default: 1024, min: 1, max: 1 << 22, unit: 'tokens' },
  H: { type: 'int', label: 'heads H', doc: 'attention heads (DeepSeek-V3: 128)', default: 16, min: 1, max: 1024 },
  dn: { type: 'int', label: 'qk_nope_head_dim', doc: 'per-head query/key width without RoPE (DeepSeek-V3: 128)', default: 128, min: 1, max: 1024 },
  dr: { type: 'int', label: 'qk_rope_head_dim', doc: 'decoupled RoPE width, one key shared by all heads (DeepSeek-V3: 64)', default: 64, min: 2, max: 1024 },
  dc: { type: 'int', label: 'kv_lora_rank d_c', doc: 'latent width of the cache (DeepSeek-V3: 512)', default: 512, min: 1, max: 8192 },
  dv: { type: 'int', label: 'v_head_dim', doc: 'per-head value width (DeepSeek-V3: 128)', default: 128, min: 1, max: 1024 },
  causal: { type: 'bool', label: 'causal', default: true },
  softmax_scale: { type: 'number', label: 'softmax scale', doc: '0 means (dn+dr)^-0.5; a model with YaRN multiplies it by mscale^2', default: 0, min: 0, max: 1e6 },
  dtype: { type: 'enum', label: 'storage', doc: 'f16 stores inputs and output in half precision (needs shader-f16); math is f32', default: 'f32', values: ['f32', 'f16'] },
} as const satisfies ConfigSchema;

/**
 * T queries at positions S-T .. S-1 over S cached latent rows; per head dn + dr query/key widths, dc the latent
 * width (kv_lora_rank), dv the value width; softmax_scale 0 means (dn + dr)^-0.5.
 */
export type MlaDecodeConfig = ConfigOf<typeof mlaDecodeSchema>;

export function effectiveScale(c: MlaDecodeConfig): number {
  return c.softmax_scale > 0 ? c.softmax_scale : 1 / Math.sqrt(c.dn + c.dr);
}

/** RoPE turns pairs of dimensions, so the rope width must be even (shared by compress and decode). */
export function checkRopeWidth(field: string, dr: number): ValidationIssue[] {
  return dr % 2 === 0 ? [] : [{ field, message: `${dr} is odd; RoPE rotates pairs of dimensions, so qk_rope_head_dim must be even` }];
}

/** Rules both decode kernels share; each adds its own (vec4 widths, workgroup memory). */
export function checkMlaDecode(c: MlaDecodeConfig, caps: DeviceCaps, storageBuffers: number): ValidationIssue[] {
  const issues: ValidationIssue[] = [...checkRopeWidth('dr', c.dr), ...needF16('dtype', c.dtype, caps)];
  if (c.T > c.S) issues.push({ field: 'T', message: `${c.T} queries exceed S = ${c.S} cached tokens (queries sit at positions S-T .. S-1)` });
  if (caps.limits.maxStorageBuffersPerShaderStage < storageBuffers) {
    issues.push({
      field: 'device',
      message: `this kernel binds ${storageBuffers} storage buffers, over this device's maxStorageBuffersPerShaderStage of ${caps.limits.maxStorageBuffersPerShaderStage}`,
    });
  }
  return issues;
}

export function mlaDecodeInputs(c: MlaDecodeConfig): TensorSpec[] {
  const dtype = c.dtype;
  return [
    { name: 'q_nope', shape: [c.T, c.H, c.dn], dtype },
    { name: 'q_pe', shape: [c.T, c.H, c.dr], dtype },
    { name: 'kv_latent', shape: [c.S, c.dc], dtype },
    { name: 'k_pe', shape: [c.S, c.dr], dtype },
    { name: 'wkv_b', shape: [c.H * (c.dn + c.dv), c.dc], dtype },
  ];
}

export function mlaDecodeOutputs(c: MlaDecodeConfig): OutputSpec[] {
  return [{ name: 'out', shape: [c.T, c.H, c.dv], dtype: c.dtype }];
}

/** Keys visible to query t: causal queries at p = S-T+t see p+1 keys. */
export function keysVisible(c: Pick<MlaDecodeConfig, 'T' | 'S' | 'causal'>, t: number): number {
  return c.causal ? Math.min(c.S, c.S - c.T + t + 1) : c.S;
}

export function visiblePairs(c: Pick<MlaDecodeConfig, 'T' | 'S' | 'causal'>): number {
  if (!c.causal) return c.T * c.S;
  return c.T * (c.S - c.T) + (c.T * (c.T + 1)) / 2;
}

/** Bytes of the latent cache (c_KV and k_pe) for S tokens: what one decode step must stream at least once. */
export function latentCacheBytes(c: MlaDecodeConfig): number {
  return c.S * (c.dc + c.dr) * BYTES_PER[c.dtype];
}

/** Every input read once and the output written once: the bandwidth floor both decode paths share. */
export function mlaDecodeMinBytes(c: MlaDecodeConfig): number {
  const el = BYTES_PER[c.dtype];
  const q = c.T * c.H * (c.dn + c.dr);
  const w = c.H * (c.dn + c.dv) * c.dc;
  return (q + w + c.T * c.H * c.dv) * el + latentCacheBytes(c);
}

/** FLOPs of the absorbed order: W_UK into q, scores over d_c + d_rope, P·c_KV over d_c, W_UV out. */
export function absorbedFlops(c: MlaDecodeConfig): number {
  const pairs = visiblePairs(c) * c.H;
  return 2 * c.T * c.H * c.dn * c.dc + 2 * pairs * (c.dc + c.dr) + 2 * pairs * c.dc + 2 * c.T * c.H * c.dc * c.dv;
}

/** FLOPs of the naive order: expand all S latents to K/V for every head, then attend per head. */
export function naiveFlops(c: MlaDecodeConfig): number {
  const pairs = visiblePairs(c) * c.H;
  return 2 * c.S * c.dc * c.H * (c.dn + c.dv) + 2 * pairs * (c.dn + c.dr) + 2 * pairs * c.dv;
}

export function mlaDecodeRandomInputs(c: MlaDecodeConfig, rng: Rng): Record<string, HostTensor> {
  return {
    q_nope: randomNormal(rng, [c.T, c.H, c.dn]),
    q_pe: randomNormal(rng, [c.T, c.H, c.dr]),
    kv_latent: randomNormal(rng, [c.S, c.dc]),
    k_pe: randomNormal(rng, [c.S, c.dr]),
    // Unit-variance K/V rows, as a trained wkv_b gives them: scores stay O(1) whatever d_c is.
    wkv_b: randomNormal(rng, [c.H * (c.dn + c.dv), c.dc], 1 / Math.sqrt(c.dc)),
  };
}

export function mlaDecodeReferenceFor(inputs: Record<string, HostTensor>, c: MlaDecodeConfig): Record<string, HostTensor> {
  const dt = c.dtype;
  const r = (n: string) => roundTo(inputs[n]!, dt);
  const out = mlaDecodeReference(
    { q_nope: r('q_nope'), q_pe: r('q_pe'), kv_latent: r('kv_latent'), k_pe: r('k_pe'), wkv_b: r('wkv_b') },
    { T: c.T, S: c.S, H: c.H, dn: c.dn, dr: c.dr, dc: c.dc, dv: c.dv, causal: c.causal, scale: effectiveScale(c) },
  );
  return { out };
}

/** The fields of the GPU-side parameters both decode kernels read (a kernel's own struct may add to them). */
export const MLA_PARAM_FIELDS = {
  T: d.u32,
  S: d.u32,
  H: d.u32,
  dn: d.u32,
  dr: d.u32,
  dc: d.u32,
  dv: d.u32,
  causal: d.u32,
  scale: d.f32,
};

/** Declared once: WGSL gets the struct from this schema via tgpu.resolve. */
export const MlaParams = d.struct(MLA_PARAM_FIELDS).$name('MlaParams');

export function mlaParams(c: MlaDecodeConfig) {
  return { T: c.T, S: c.S, H: c.H, dn: c.dn, dr: c.dr, dc: c.dc, dv: c.dv, causal: c.causal ? 1 : 0, scale: effectiveScale(c) };
}

export function costOf(c: MlaDecodeConfig, flops: number, extraBytes: number, kvCacheBytes: number): Cost {
  return { flops, bytes: mlaDecodeMinBytes(c) + extraBytes, kvCacheBytes, intermediateBytes: extraBytes };
}

/** DeepSeek-V3's head shapes (config.json: qk_nope 128, qk_rope 64, kv_lora_rank 512, v_head 128). */
export const DSV3_HEAD = { dn: 128, dr: 64, dc: 512, dv: 128 } as const;

/** A decode step (T = 1) over S cached tokens at DeepSeek-V3's per-head shapes with H of its 128 heads. */
export function decodeShape(S: number, H: number): BenchShape<MlaDecodeConfig> {
  const heads = H === 128 ? 'H=128' : `H=${H} (DeepSeek-V3 heads scaled 128->${H})`;
  return { name: `decode S=${S} ${heads} dc=512 dr=64 dn=128 dv=128`, config: { T: 1, S, H, ...DSV3_HEAD, causal: true } };
}

/**
 * Default bench entry both decode kernels run: small (2 heads, S = 128), because the naive kernel's expansion
 * GEMM (2*S*d_c*H*(dn+dv) FLOPs) is slow on SwiftShader on a 2-core machine. The absorbed kernel adds a longer
 * context with 16 heads; the S = 1K..32K sweep is the mla-decode study (src/bench/studies/).
 */
export const MLA_DECODE_BENCHMARKS: BenchShape<MlaDecodeConfig>[] = [decodeShape(128, 2)];
export const MLA_ABSORBED_BENCHMARKS: BenchShape<MlaDecodeConfig>[] = [...MLA_DECODE_BENCHMARKS, decodeShape(2048, 16)];

/**
 * Cases both decode kernels must pass: odd T, S and H, odd dn/dv, odd d_c and a d_rope that is not a multiple
 * of 4, causal edges (T = S, S = 1), non-causal.
 */
export const MLA_DECODE_TEST_CASES: BenchShape<MlaDecodeConfig>[] = [
  { name: 'decode odd sizes', config: { T: 1, S: 37, H: 3, dn: 9, dr: 12, dc: 20, dv: 7 } },
  { name: 'prefill T=S causal', config: { T: 13, S: 13, H: 5, dn: 11, dr: 4, dc: 36, dv: 13 } },
  { name: 'T < S non-causal', config: { T: 3, S: 29, H: 2, dn: 6, dr: 8, dc: 12, dv: 10, causal: false } },
  { name: 'S = 1', config: { T: 1, S: 1, H: 4, dn: 8, dr: 4, dc: 16, dv: 8 } },
  { name: 'long decode, many splits', config: { T: 1, S: 1500, H: 7, dn: 16, dr: 8, dc: 44, dv: 9 } },
  { name: 'DeepSeek-V3 head shapes, 3 heads', config: { T: 2, S: 67, H: 3, ...DSV3_HEAD } },
  { name: 'explicit softmax_scale (YaRN-style)', config: { T: 2, S: 21, H: 2, dn: 5, dr: 4, dc: 8, dv: 3, softmax_scale: 0.61 } },
  { name: 'any widths: odd d_c, d_rope = 6', config: { T: 2, S: 45, H: 3, dn: 5, dr: 6, dc: 19, dv: 11 } },
];
