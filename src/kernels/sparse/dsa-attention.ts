// sparse.dsa_attention: attention over each query's selected key list, for GQA/MQA layouts
// (shaders/sparse/dsa-gqa.wgsl, on the key-walk core) and DeepSeek-V3.2's MLA latent layout (on the
// heads-as-M latent core, ./dsa-mla.ts). Also the third stage of sparse.dsa (`createDsaAttentionStage`).
import { instanceOfStage } from '../stage-instance.ts';
import gqaWgsl from '../../../shaders/sparse/dsa-gqa.wgsl?raw';
import { grid, type StorageDType } from '../../gpu/shader.ts';
import { planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { storage } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import type { ConfigOf, ConfigSchema, Cost, KernelDefinition, KernelInstance, OutputSpec, TensorSpec, ValidationIssue } from '../contract.ts';
import { BYTES_PER, roundTo, type HostTensor } from '../tensor.ts';
import type { Rng } from '../random.ts';
import { keyListAttentionReference } from '../../reference/sparse.ts';
import { attentionSchema } from '../attention/attention-config.ts';
import { SparseAttnParams, numField, sumClamped } from './sparse-config.ts';
import { needF16, needVec4 } from '../common/rules.ts';
import { splitParams, type FlashSplit, type SplitOptions } from './flash-split.ts';
import { checkDsaMla, createDsaMlaStage, dsaMlaStageBuffers } from './dsa-mla.ts';
import { WALK_ROWS, walkKernel, walkMergeStep, walkPartialBytes, walkPlan, walkSplit } from './key-walk.ts';

/** The attention half of a DSA config (shared with sparse.dsa). */
export const dsaAttentionFields = {
  T: numField(attentionSchema.T, { default: 1 }),
  S: numField(attentionSchema.S, { default: 8192 }),
  Hq: numField(attentionSchema.Hq, { default: 16 }),
  Hkv: numField(attentionSchema.Hkv, { doc: 'GQA: KV heads (1 = MQA); MLA mode: must be 1 (one latent row per token shared by all heads)', default: 1 }),
  D: { type: 'int', label: 'head dim D', doc: 'GQA: q/k/v head dim; MLA: latent row width kv_lora_rank + rope dim (DeepSeek-V3.2: 576)', default: 128, min: 4, max: 1024 },
  Dr: { type: 'int', label: 'rope dims Dr', doc: 'MLA mode only: trailing k_pe dims of each latent row, not part of V (DeepSeek-V3.2: 64); 0 in GQA mode', default: 0, min: 0, max: 1020 },
  mode: {
    type: 'enum',
    label: 'KV layout',
    doc: 'gqa: k, v [S, Hkv, D]; mla: MQA over the latent rows kv = [c_KV ; k_pe] [S, D], V = their first D - Dr dims, output in latent space (W_UV applied after)',
    default: 'gqa',
    values: ['gqa', 'mla'] as const,
  },
  topk: { type: 'int', label: 'top-k', doc: 'keys each query attends to (DeepSeek-V3.2: 2048)', default: 2048, min: 1, max: 1 << 16 },
  causal: attentionSchema.causal,
  scale: numField(attentionSchema.scale, { doc: 'softmax scale; 0 means 1/sqrt(D) (MLA: pass softmax_scale, computed from dn + dr)' }),
} satisfies ConfigSchema;

export type DsaAttentionShape = ConfigOf<typeof dsaAttentionFields>;

const dsaAttentionSchema = { ...dsaAttentionFields, dtype: attentionSchema.dtype } satisfies ConfigSchema;

export type DsaAttentionConfig = ConfigOf<typeof dsaAttentionSchema>;

export function dsaScale(c: DsaAttentionShape): number {
  return c.scale > 0 ? c.scale : 1 / Math.sqrt(c.D);
}

export function valueDim(c: DsaAttentionShape): number {
  return c.mode === 'mla' ? c.D - c.Dr : c.D;
}

/** GQA layout: quads of heads per (query, KV head) and how each query's list is split across walkers. */
export function dsaGqaGeometry(c: DsaAttentionShape, el: number, opts: SplitOptions = {}): { rowBlocks: number; split: FlashSplit; workgroups: number } {
  const rowBlocks = Math.ceil(c.Hq / c.Hkv / WALK_ROWS);
  const items = c.T * c.Hkv * rowBlocks;
  // A listed key costs its K and V rows of one KV head.
  const split = walkSplit({ items, keys: c.topk, bytesPerKey: 2 * c.D * el }, opts);
  return { rowBlocks, split, workgroups: items * split.splits };
}

export function checkDsaAttention(c: DsaAttentionShape & { dtype?: string }, caps: DeviceCaps): ValidationIssue[] {
  const issues: ValidationIssue[] = [...needVec4('D', c.D, '(the kernels load rows as vec4)'), ...needF16('dtype', c.dtype ?? 'f32', caps)];
  if (c.Hq % c.Hkv !== 0) issues.push({ field: 'Hq', message: `${c.Hq} is not a multiple of Hkv = ${c.Hkv} (each KV head serves Hq/Hkv query heads)` });
  if (c.T > c.S) issues.push({ field: 'T', message: `${c.T} queries exceed S = ${c.S} keys (queries sit at positions S-T .. S-1)` });
  if (c.mode === 'mla') {
    if (c.Hkv !== 1) issues.push({ field: 'Hkv', message: `${c.Hkv} must be 1 in MLA mode (one latent row per token, shared by all heads)` });
    if (c.Dr % 4 !== 0) issues.push({ field: 'Dr', message: `${c.Dr} must be a multiple of 4 (V is read as whole vec4s of the latent row)` });
    if (c.Dr >= c.D) issues.push({ field: 'Dr', message: `${c.Dr} leaves no value dims in a latent row of D = ${c.D}` });
  } else if (c.Dr !== 0) {
    issues.push({ field: 'Dr', message: `${c.Dr} must be 0 in GQA mode (rope dims only split MLA latent rows)` });
  }
  if (issues.length) return issues;
  if (c.mode === 'mla') return checkDsaMla(c, caps, c.dtype === 'f16' ? 'f16' : 'f32');
  return issues;
}

export function dsaAttentionInputs(c: DsaAttentionShape, dtype: 'f32' | 'f16'): TensorSpec[] {
  const kv: TensorSpec[] =
    c.mode === 'mla'
      ? [{ name: 'kv', shape: [c.S, c.D], dtype }]
      : [
          { name: 'k', shape: [c.S, c.Hkv, c.D], dtype },
          { name: 'v', shape: [c.S, c.Hkv, c.D], dtype },
        ];
  return [{ name: 'q', shape: [c.T, c.Hq, c.D], dtype }, ...kv];
}

export function dsaAttentionOutput(c: DsaAttentionShape, dtype: 'f32' | 'f16'): OutputSpec {
  return { name: 'out', shape: [c.T, c.Hq, valueDim(c)], dtype };
}

/** Keys the queries can use: min(topk, visible keys) each (top-k never lists more). */
export function attendedPairs(c: DsaAttentionShape): number {
  if (!c.causal) return c.T * Math.min(c.topk, c.S);
  // The query at position p sees p + 1 keys, p = S-T .. S-1.
  return sumClamped(c.S - c.T + 1, c.S, 0, c.topk);
}

/**
 * `pairs`: (query, listed key) pairs attended, per head; `rows`: distinct keys gathered; `queries`: queries
 * with at least one key (a query with none reads no q and writes zeros).
 */
function dsaAttentionWork(c: DsaAttentionShape, el: number, pairs: number, rows: number, queries: number): Cost {
  const Dv = valueDim(c);
  // A gathered key is its K and V rows of every KV head (MLA: one latent row, V inside it).
  const kv = rows * (c.mode === 'mla' ? c.D : 2 * c.Hkv * c.D) * el;
  return {
    flops: 2 * pairs * c.Hq * (c.D + Dv),
    bytes: (queries * c.D + c.T * Dv) * c.Hq * el + kv + 4 * c.T * c.topk,
    kvCacheBytes: kv,
  };
}

/** Before a run: every query lists min(topk, visible) keys, at most every key gathered once. */
export function dsaAttentionCost(c: DsaAttentionShape, el: number): Cost {
  return dsaAttentionWork(c, el, attendedPairs(c), Math.min(c.S, c.T * c.topk), c.T);
}

/** After a run: from the key lists it read (-1 padding, out-of-range and future entries are no keys). */
export function dsaAttentionRunCost(c: DsaAttentionShape, el: number, indices: HostTensor): Cost {
  const gathered = new Uint8Array(c.S);
  let pairs = 0;
  let queries = 0;
  for (let t = 0; t < c.T; t++) {
    const p = c.S - c.T + t;
    let n = 0;
    for (let i = 0; i < c.topk; i++) {
      const s = indices.data[t * c.topk + i]!;
      if (s < 0 || s >= c.S || (c.causal && s > p)) continue;
      gathered[s] = 1;
      n++;
    }
    pairs += n;
    if (n > 0) queries++;
  }
  let rows = 0;
  for (const g of gathered) rows += g;
  return dsaAttentionWork(c, el, pairs, rows, queries);
}

export function dsaAttentionReference(inputs: Record<string, HostTensor>, indices: HostTensor, c: DsaAttentionShape, dtype: 'f32' | 'f16'): HostTensor {
  const q = roundTo(inputs.q!, dtype);
  const Dv = valueDim(c);
  const shape = { T: c.T, S: c.S, Hq: c.Hq, Hkv: c.Hkv, D: c.D, Dv, scale: dsaScale(c), causal: c.causal };
  if (c.mode === 'mla') {
    const kv = roundTo(inputs.kv!, dtype);
    return keyListAttentionReference(q, kv, kv, indices, shape, c.D);
  }
  return keyListAttentionReference(q, roundTo(inputs.k!, dtype), roundTo(inputs.v!, dtype), indices, shape);
}

/** Random key lists: distinct visible keys in ascending order, -1 padded, with stray -1s and future keys the kernel must skip. */
export function randomKeyLists(c: DsaAttentionShape, rng: Rng): HostTensor {
  const data = new Int32Array(c.T * c.topk).fill(-1);
  for (let t = 0; t < c.T; t++) {
    const p = c.S - c.T + t;
    const n = c.causal ? p + 1 : c.S;
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < Math.min(c.topk, n); i++) {
      const j = i + Math.floor(rng.next() * (n - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const chosen = pool.slice(0, Math.min(c.topk, n)).sort((a, b) => a - b);
    chosen.forEach((s, i) => {
      const r = rng.next();
      data[t * c.topk + i] = r < 0.05 ? -1 : r < 0.08 && c.causal && p + 1 < c.S ? rng.int(p + 1, c.S - 1) : s;
    });
  }
  return { shape: [c.T, c.topk], data };
}

export interface DsaAttentionStage {
  encode(pass: GPUComputePassEncoder): void;
}

/**
 * The stage's own buffers: its parameters and the split partials. They depend on the device: its workgroup
 * memory sets the tile shape, which sets the split.
 */
export function dsaAttentionStageBuffers(c: DsaAttentionShape, dtype: StorageDType, caps: DeviceCaps, opts: SplitOptions = {}) {
  if (c.mode === 'mla') return dsaMlaStageBuffers(c, dsaScale(c), dtype, opts);
  const { rowBlocks, split } = dsaGqaGeometry(c, BYTES_PER[dtype], opts);
  return {
    attention_params: plannedUniform(SparseAttnParams, splitParams(c, dsaScale(c), split, { causal: c.causal ? 1 : 0, top: c.topk, row_blocks: rowBlocks })),
    attention_part: planned('scratch', walkPartialBytes(split, c.T * c.Hq, walkPlan(caps, { D: c.D, Dv: c.D }, opts))),
  };
}

export type DsaAttentionStageIo = Record<'q' | 'k' | 'v' | 'topk_indices' | 'out' | keyof ReturnType<typeof dsaAttentionStageBuffers>, GPUBuffer>;

/** The gathered attention on buffers the caller planned (MLA: pass the latent rows as both k and v). */
export async function createDsaAttentionStage(
  ctx: GpuContext,
  c: DsaAttentionShape,
  dtype: StorageDType,
  io: DsaAttentionStageIo,
  label = 'sparse.dsa_attention',
  opts: SplitOptions = {},
): Promise<DsaAttentionStage> {
  if (c.mode === 'mla') return createDsaMlaStage(ctx, c, dtype, { ...io, kv: io.k }, label, opts);
  return createDsaGqaStage(ctx, c, dtype, io, label, opts);
}

async function createDsaGqaStage(ctx: GpuContext, c: DsaAttentionShape, dtype: StorageDType, io: DsaAttentionStageIo, label: string, opts: SplitOptions): Promise<DsaAttentionStage> {
  const plan = walkPlan(ctx, { D: c.D, Dv: c.D }, opts);
  const kernel = await walkKernel(ctx, { label, wgsl: gqaWgsl, plan, elem: dtype, bindings: { topk_indices: storage('i32') }, entries: ['attend_main', 'merge_main'] as const });
  const { split, workgroups } = dsaGqaGeometry(c, BYTES_PER[dtype], opts);
  const merge = walkMergeStep(ctx, split, c.T * c.Hq, plan);
  const group = kernel.bind({ params: io.attention_params, q: io.q, k: io.k, v: io.v, out: io.out, part: io.attention_part, topk_indices: io.topk_indices }, label);
  const groups = grid(workgroups, ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.attend_main);
      pass.dispatchWorkgroups(...groups);
      merge(pass, kernel.pipelines.merge_main);
    },
  };
}

export const dsaAttention: KernelDefinition<DsaAttentionConfig> = {
  id: 'sparse.dsa_attention',
  family: 'sparse',
  title: 'Sparse attention over selected keys (DSA)',
  explain:
    'The attention half of DeepSeek Sparse Attention: each query attends only to the k keys its indexer picked (V3.2: 2048 of up to 128K), so the cost ' +
    'is O(T k) instead of O(T S). The selection is shared by all heads of a token, so a workgroup takes heads of one query that share a KV head (4 in GQA layout, ' +
    'in registers, without workgroup memory) and gathers each selected K/V row once for all of them, with a flash-style online softmax. In MLA mode (how V3.2 runs DSA: MLA in its MQA form) the ' +
    'gathered row is the latent [c_KV ; k_pe], scored against absorbed queries and read again as V (its c_KV part), so 128 heads share one gathered row; ' +
    'the output stays in latent space for W_UV. In decode each query\'s list is cut across workgroups (split-K) and the partial softmaxes merged by log-sum-exp, ' +
    'so 2048 selected keys fill the GPU instead of a couple of workgroups.',
  sources: [
    'DeepSeek-AI 2025, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention", sec. 2.1 (DSA on MLA\'s MQA mode)',
    'DeepSeek-AI 2024, "DeepSeek-V2" (MLA, absorbed attention over the latent cache)',
  ],
  schema: dsaAttentionSchema,
  check: (c, caps) => checkDsaAttention(c, caps),
  inputs: (c) => [...dsaAttentionInputs(c, c.dtype), { name: 'topk_indices', shape: [c.T, c.topk], dtype: 'i32' }],
  outputs: (c) => [dsaAttentionOutput(c, c.dtype)],
  cost: (c) => dsaAttentionCost(c, BYTES_PER[c.dtype]),
  runCost: (c, t) => dsaAttentionRunCost(c, BYTES_PER[c.dtype], t.topk_indices!),
  randomInputs(c, rng) {
    const out: Record<string, HostTensor> = {};
    for (const spec of dsaAttentionInputs(c, 'f32')) {
      const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = rng.normal();
      out[spec.name] = { shape: spec.shape, data };
    }
    out.topk_indices = randomKeyLists(c, rng);
    return out;
  },
  reference: (inputs, c) => ({ out: dsaAttentionReference(inputs, inputs.topk_indices!, c, c.dtype) }),
  plan: (c, caps) => {
    if (!caps) throw new Error('sparse.dsa_attention: its buffer plan depends on the device (the tile shape sets the split)');
    return dsaAttentionBuffers(c, caps).plan;
  },
  create: (ctx, c) => createDsaAttention(ctx, c),
  benchmarks: [
    { name: 'decode MLA S=32768 k=2048 H=16 D=576 (V3.2 latent, 16 heads)', config: { T: 1, S: 32768, Hq: 16, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 2048 } },
    { name: 'decode GQA S=8192 k=1024 Hq=32 Hkv=8 D=128', config: { T: 1, S: 8192, Hq: 32, Hkv: 8, D: 128, topk: 1024 } },
  ],
  testCases: [
    { name: 'GQA 2, odd sizes, stray -1 and future keys', config: { T: 7, S: 45, Hq: 6, Hkv: 3, D: 20, topk: 11 } },
    { name: 'MQA decode, topk > visible keys', config: { T: 1, S: 37, Hq: 8, Hkv: 1, D: 32, topk: 64 } },
    { name: 'MHA non-causal', config: { T: 5, S: 29, Hq: 3, Hkv: 3, D: 12, topk: 9, causal: false } },
    { name: 'MLA latent, 576 = 512 + 64 (V3.2 dims)', config: { T: 2, S: 50, Hq: 5, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 13, scale: 0.0723 } },
    { name: 'MLA latent, small odd dims', config: { T: 4, S: 30, Hq: 3, Hkv: 1, D: 40, Dr: 12, mode: 'mla', topk: 7 } },
  ],
};

/** The registered kernel's buffers: its tensors (k and v, or the latent rows kv in MLA mode) and the stage's own. */
function dsaAttentionBuffers(c: DsaAttentionConfig, caps: DeviceCaps, opts: SplitOptions = {}) {
  const own = dsaAttentionStageBuffers(c, c.dtype, caps, opts);
  const [ins, outs] = [dsaAttention.inputs(c), dsaAttention.outputs(c)];
  return c.mode === 'mla'
    ? { mode: 'mla' as const, plan: { ...plannedTensors(ins, outs, ['q', 'kv', 'topk_indices', 'out']), ...own } }
    : { mode: 'gqa' as const, plan: { ...plannedTensors(ins, outs, ['q', 'k', 'v', 'topk_indices', 'out']), ...own } };
}

/** create() with internal options (tests force one split, many splits and the workgroup-memory lane sum). */
export function createDsaAttention(ctx: GpuContext, c: DsaAttentionConfig, opts: SplitOptions = {}): Promise<KernelInstance> {
  const label = 'sparse.dsa_attention';
  const planned = dsaAttentionBuffers(c, ctx, opts);
  if (planned.mode === 'mla') {
    return instanceOfStage(ctx, planned.plan, (b) => createDsaAttentionStage(ctx, c, c.dtype, { ...b, k: b.kv, v: b.kv }, label, opts));
  }
  return instanceOfStage(ctx, planned.plan, (b) => createDsaAttentionStage(ctx, c, c.dtype, b, label, opts));
}
