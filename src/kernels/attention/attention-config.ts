// What every dense-attention kernel shares: the config schema, tensor specs, validation rules, cost model,
// the GPU parameter struct (the golden-file mapping is attention-golden.ts). The kernels differ only in how they compute.
import * as d from 'typegpu/data';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import type { BenchShape, ConfigOf, ConfigSchema, Cost, KernelDefinition, OutputSpec, TensorSpec, ValidationIssue } from '../contract.ts';
import { needF16, needVec4 } from '../common/rules.ts';
import { attentionFromGolden, attentionGoldenMeta } from './attention-golden.ts';
import { BYTES_PER, roundTo, tensorBytes, type HostTensor } from '../tensor.ts';
import { attentionReference, causalMask, fullMask } from '../../reference/attention.ts';

export const attentionSchema = {
  T: { type: 'int', label: 'queries T', doc: 'query tokens; they sit at positions S-T .. S-1 (decode: T = 1)', default: 1, min: 1, max: 1 << 20 },
  S: { type: 'int', label: 'keys S', doc: 'context length (keys and values in the cache)', default: 1024, min: 1, max: 1 << 22, unit: 'tokens' },
  Hq: { type: 'int', label: 'query heads Hq', default: 8, min: 1, max: 1024 },
  Hkv: { type: 'int', label: 'KV heads Hkv', doc: 'Hkv = Hq is MHA, 1 < Hkv < Hq is GQA, Hkv = 1 is MQA', default: 8, min: 1, max: 1024 },
  D: { type: 'int', label: 'head dim D', default: 64, min: 1, max: 256 },
  causal: { type: 'bool', label: 'causal', default: true },
  scale: { type: 'number', label: 'scale', doc: 'softmax scale; 0 means 1/sqrt(D)', default: 0, min: 0, max: 1e6 },
  dtype: { type: 'enum', label: 'storage', doc: 'f16 stores q/k/v/out in half precision (needs shader-f16); math is f32', default: 'f32', values: ['f32', 'f16'] as const },
} satisfies ConfigSchema;

export type AttentionConfig = ConfigOf<typeof attentionSchema>;

export function effectiveScale(c: AttentionConfig): number {
  return c.scale > 0 ? c.scale : 1 / Math.sqrt(c.D);
}

/** Rules every dense-attention kernel shares; kernels add their own (tile sizes vs workgroup memory). */
export function checkAttention(c: AttentionConfig, caps: DeviceCaps, opts: { vec4?: boolean } = {}): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (c.Hq % c.Hkv !== 0) issues.push({ field: 'Hq', message: `${c.Hq} is not a multiple of Hkv = ${c.Hkv} (each KV head serves Hq/Hkv query heads)` });
  if (c.T > c.S) issues.push({ field: 'T', message: `${c.T} queries exceed S = ${c.S} keys (queries sit at positions S-T .. S-1)` });
  if (opts.vec4) issues.push(...needVec4('D', c.D, "for this kernel's vec4 loads (use attention.naive for other head dims)"));
  issues.push(...needF16('dtype', c.dtype, caps));
  return issues;
}

export function attentionInputs(c: AttentionConfig): TensorSpec[] {
  const dtype = c.dtype;
  return [
    { name: 'q', shape: [c.T, c.Hq, c.D], dtype },
    { name: 'k', shape: [c.S, c.Hkv, c.D], dtype },
    { name: 'v', shape: [c.S, c.Hkv, c.D], dtype },
  ];
}

export function attentionOutputs(c: AttentionConfig): OutputSpec[] {
  return [{ name: 'out', shape: [c.T, c.Hq, c.D], dtype: c.dtype }];
}

/** Number of (query, key) pairs that are visible. */
export function visiblePairs(c: AttentionConfig): number {
  if (!c.causal) return c.T * c.S;
  // query t at p = S-T+t sees p+1 keys
  return c.T * (c.S - c.T) + (c.T * (c.T + 1)) / 2;
}

export function attentionCost(c: AttentionConfig): Cost {
  const pairs = visiblePairs(c) * c.Hq;
  const el = BYTES_PER[c.dtype];
  const kv = 2 * c.S * c.Hkv * c.D * el;
  return {
    // QK^T and PV: 2 multiply-adds per (pair, d); softmax's exp/sum is O(pairs) and left out.
    flops: 4 * pairs * c.D,
    bytes: 2 * c.T * c.Hq * c.D * el + kv,
    kvCacheBytes: kv,
  };
}

export function attentionReferenceFor(inputs: Record<string, HostTensor>, c: AttentionConfig): Record<string, HostTensor> {
  const dt = c.dtype;
  const out = attentionReference(roundTo(inputs.q!, dt), roundTo(inputs.k!, dt), roundTo(inputs.v!, dt), { ...c, scale: effectiveScale(c) }, c.causal ? causalMask : fullMask);
  return { out };
}

/** The GPU-side parameters, declared once: WGSL gets the struct from this schema via tgpu.resolve. */
export const AttentionParams = d
  .struct({
    T: d.u32,
    S: d.u32,
    Hq: d.u32,
    Hkv: d.u32,
    D: d.u32,
    /** Hq / Hkv */
    group: d.u32,
    causal: d.u32,
    /** Sliding window (0 = unlimited) and always-visible sink tokens; dense kernels pass 0. */
    window: d.u32,
    sinks: d.u32,
    /** KV splits for flash decoding. */
    splits: d.u32,
    scale: d.f32,
  })
  .$name('AttentionParams');

export function attentionParams(c: AttentionConfig, extra: { window?: number; sinks?: number; splits?: number } = {}) {
  return {
    T: c.T,
    S: c.S,
    Hq: c.Hq,
    Hkv: c.Hkv,
    D: c.D,
    group: c.Hq / c.Hkv,
    causal: c.causal ? 1 : 0,
    window: extra.window ?? 0,
    sinks: extra.sinks ?? 0,
    splits: extra.splits ?? 1,
    scale: effectiveScale(c),
  };
}

/** Benchmark shapes shared by all dense kernels: a Llama-style GQA decode step and a small causal prefill. */
export const DENSE_BENCHMARKS: BenchShape<AttentionConfig>[] = [
  { name: 'decode S=4096 Hq=32 Hkv=8 D=128', config: { T: 1, S: 4096, Hq: 32, Hkv: 8, D: 128, causal: true } },
  { name: 'prefill S=1024 H=8 D=64', config: { T: 1024, S: 1024, Hq: 8, Hkv: 8, D: 64, causal: true } },
];

/** Small cases every dense kernel must pass: odd sizes, GQA 1/4/8, MQA, causal edges. */
export const DENSE_TEST_CASES: BenchShape<AttentionConfig>[] = [
  { name: 'MHA odd sizes causal', config: { T: 7, S: 37, Hq: 3, Hkv: 3, D: 20 } },
  { name: 'GQA 4 prefill T=S', config: { T: 33, S: 33, Hq: 8, Hkv: 2, D: 32 } },
  { name: 'MQA 8 heads non-causal', config: { T: 5, S: 70, Hq: 8, Hkv: 1, D: 16, causal: false } },
  { name: 'GQA 8 of 16 heads', config: { T: 3, S: 129, Hq: 16, Hkv: 2, D: 64 } },
  { name: 'MQA decode', config: { T: 1, S: 301, Hq: 6, Hkv: 1, D: 128 } },
  { name: 'S = 1', config: { T: 1, S: 1, Hq: 4, Hkv: 2, D: 8 } },
  { name: 'decode long-ish GQA 4', config: { T: 1, S: 1000, Hq: 8, Hkv: 2, D: 64 } },
  { name: 'head dim 256', config: { T: 2, S: 19, Hq: 2, Hkv: 1, D: 256 } },
  { name: 'explicit scale', config: { T: 4, S: 9, Hq: 4, Hkv: 4, D: 12, scale: 0.5 } },
];

/**
 * What every kernel computing the golden op `attention.dense` shares: the config, its tensors, the cost
 * model, the float64 reference, the golden-file mapping and the default shapes. Each kernel spreads this
 * and adds its own id, explanation, device checks and create (and overrides cost/scratch/shapes as needed).
 */
export const DENSE_ATTENTION = {
  family: 'attention',
  implements: 'attention.dense',
  schema: attentionSchema,
  inputs: attentionInputs,
  outputs: attentionOutputs,
  cost: attentionCost,
  reference: attentionReferenceFor,
  fromGolden: attentionFromGolden,
  goldenMeta: attentionGoldenMeta,
  benchmarks: DENSE_BENCHMARKS,
  testCases: DENSE_TEST_CASES,
} satisfies Partial<KernelDefinition<AttentionConfig>>;

/** The q, k, v and out storage buffers every dense attention kernel owns (dtype from the config). */
export function attentionTensors(ctx: GpuContext, c: AttentionConfig): Record<'q' | 'k' | 'v' | 'out', GPUBuffer> {
  const b = ctx.buffers;
  const [qs, ks, vs] = attentionInputs(c);
  const [os] = attentionOutputs(c);
  return {
    q: b.storage('q', tensorBytes(qs!.shape, qs!.dtype)),
    k: b.storage('k', tensorBytes(ks!.shape, ks!.dtype)),
    v: b.storage('v', tensorBytes(vs!.shape, vs!.dtype)),
    out: b.storage('out', tensorBytes(os!.shape, os!.dtype)),
  };
}
