// layer.norm: host side of shaders/layer/norm.wgsl, RMSNorm or LayerNorm (weight and bias) over rows of d
// values. Also a stage on caller-owned strided views (`createNormStage`), which the decoder layer chains.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/layer/norm.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { ConfigSchema, KernelDefinition, TensorSpec } from '../contract.ts';
import { allocate, planScratch, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { instanceOfStage } from '../stage-instance.ts';
import { layerNormReference, NORM_EPS, rmsNormReference } from '../../reference/layer.ts';

export type NormKind = 'rms' | 'layer';
export type NormConfig = { rows: number; d: number; kind: string; eps: number };

/** Rows of a buffer as the kernel reads or writes them: element offset of row 0 and the row stride. */
export interface RowView {
  off: number;
  ld: number;
}

export interface NormShape {
  kind: NormKind;
  rows: number;
  d: number;
  eps: number;
  /** Default: packed rows of d. */
  x?: RowView;
  y?: RowView;
}

const CONSTANTS = { WG: 256 } as const;
const WORKGROUP = { reduce_scratch: workgroupArray('f32', CONSTANTS.WG) };

const NormParams = d
  .struct({ rows: d.u32, d: d.u32, x_off: d.u32, x_ld: d.u32, y_off: d.u32, y_ld: d.u32, eps: d.f32 })
  .$name('NormParams');

const BINDINGS = {
  params: uniform(NormParams),
  x: storage('elem'),
  weight: storage('elem'),
  // RMSNorm has no bias: its stage binds the weight here too (never read by rms_main).
  bias: storage('elem'),
  y: storage('elem', 'read_write'),
};

const schema: ConfigSchema<NormConfig> = {
  rows: { type: 'int', label: 'rows', doc: 'vectors normalised independently (tokens)', default: 64, min: 1, max: 1 << 22 },
  d: { type: 'int', label: 'width d', doc: 'values per row (hidden size, q_lora_rank, kv_lora_rank, index_head_dim)', default: 1024, min: 1, max: 1 << 16 },
  kind: { type: 'enum', label: 'kind', doc: 'rms: x / rms(x) * w (DeepSeek attn/q/kv/ffn norms); layer: (x - mean) / std * w + b (the indexer k_norm)', default: 'rms', values: ['rms', 'layer'] },
  eps: { type: 'number', label: 'eps', doc: 'added to the mean square / variance, > 0 so a constant row stays finite (DeepSeek: 1e-6)', default: NORM_EPS, min: 1e-12, max: 1 },
};

function inputs(c: NormConfig): TensorSpec[] {
  return [
    { name: 'x', shape: [c.rows, c.d], dtype: 'f32' },
    { name: 'weight', shape: [c.d], dtype: 'f32' },
    ...(c.kind === 'layer' ? [{ name: 'bias', shape: [c.d], dtype: 'f32' } as TensorSpec] : []),
  ];
}

const outputs = (c: NormConfig): TensorSpec[] => [{ name: 'y', shape: [c.rows, c.d], dtype: 'f32' }];

function plan(c: NormConfig) {
  return plannedTensors(inputs(c), outputs(c), c.kind === 'layer' ? ['x', 'weight', 'bias', 'y'] : ['x', 'weight', 'y']);
}

export interface NormStage {
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

export async function createNormStage(
  ctx: GpuContext,
  s: NormShape,
  io: { x: GPUBuffer; weight: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer },
  label = 'layer.norm',
): Promise<NormStage> {
  const kernel = await createKernel(ctx, { label, wgsl, bindings: BINDINGS, constants: CONSTANTS, workgroup: WORKGROUP }, ['rms_main', 'layer_main'] as const);
  const x = s.x ?? { off: 0, ld: s.d };
  const y = s.y ?? { off: 0, ld: s.d };
  const made = allocate(ctx, label, {
    params: plannedUniform(NormParams, { rows: s.rows, d: s.d, x_off: x.off, x_ld: x.ld, y_off: y.off, y_ld: y.ld, eps: s.eps }),
  });
  if (s.kind === 'layer' && !io.bias) throw new Error(`${label}: LayerNorm needs a bias buffer`);
  const group = kernel.bind({ params: made.buffers.params, x: io.x, weight: io.weight, bias: io.bias ?? io.weight, y: io.y }, label);
  const pipeline = s.kind === 'layer' ? kernel.pipelines.layer_main : kernel.pipelines.rms_main;
  const groups = grid(s.rows, ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipeline);
      pass.dispatchWorkgroups(...groups);
    },
    destroy: made.destroy,
  };
}

export function normCost(c: { rows: number; d: number; kind: string }) {
  // Two reads of x for LayerNorm (mean, then centred squares), one for RMSNorm; one write.
  const reads = c.kind === 'layer' ? 2 : 1;
  return {
    flops: (c.kind === 'layer' ? 7 : 4) * c.rows * c.d,
    bytes: 4 * ((reads + 1) * c.rows * c.d + (c.kind === 'layer' ? 2 : 1) * c.d),
    intermediateBytes: 4 * (reads - 1) * c.rows * c.d,
  };
}

export const norm: KernelDefinition<NormConfig> = {
  id: 'layer.norm',
  family: 'layer',
  title: 'RMSNorm / LayerNorm over rows',
  explain:
    'Every DeepSeek-V3.2 sub-block starts from a normalised row: RMSNorm (x / sqrt(mean(x^2) + eps) * w) before attention and the FFN, on the ' +
    'compressed query qr and on the latent c_KV; LayerNorm with a bias on the indexer key. One workgroup per row reduces in workgroup memory and ' +
    'writes the row back; the views are strided, so the latent part of a cache row [c_KV ; k_pe] is normalised where it lies.',
  sources: ['Zhang & Sennrich 2019, "Root Mean Square Layer Normalization"', 'deepseek-ai/DeepSeek-V3.2-Exp inference/model.py (RMSNorm, LayerNorm in Indexer)'],
  schema,
  inputs,
  outputs,
  plan,
  scratch: (c) => planScratch(plan(c)),
  cost: normCost,
  reference(x, c) {
    const y = c.kind === 'layer' ? layerNormReference(x.x!.data, x.weight!, x.bias!, c.rows, c.d, c.eps) : rmsNormReference(x.x!.data, x.weight!, c.rows, c.d, c.eps);
    return { y: { shape: [c.rows, c.d], data: y } };
  },
  randomInputs(c, rng) {
    // An offset mean (3) tests LayerNorm's centring; weights around 1 as trained norms are.
    const vec = (n: number, base: number, spread: number) => ({ shape: [n], data: Float32Array.from({ length: n }, () => base + spread * rng.normal()) });
    return {
      x: { shape: [c.rows, c.d], data: Float32Array.from({ length: c.rows * c.d }, () => 3 + rng.normal()) },
      weight: vec(c.d, 1, 0.2),
      ...(c.kind === 'layer' ? { bias: vec(c.d, 0, 0.2) } : {}),
    };
  },
  create: (ctx, c) =>
    instanceOfStage(ctx, plan(c), (b) =>
      createNormStage(ctx, { kind: c.kind as NormKind, rows: c.rows, d: c.d, eps: c.eps }, { x: b.x!, weight: b.weight!, bias: (b as Record<string, GPUBuffer>).bias, y: b.y! }),
    ),
  benchmarks: [
    { name: 'RMSNorm 1024 rows x 7168 (DeepSeek-V3 hidden)', config: { rows: 1024, d: 7168 } },
    { name: 'LayerNorm 4096 rows x 128 (indexer keys)', config: { rows: 4096, d: 128, kind: 'layer' } },
  ],
  testCases: [
    { name: 'RMSNorm odd width 333, 5 rows', config: { rows: 5, d: 333 } },
    { name: 'RMSNorm one row wider than the workgroup (1000)', config: { rows: 1, d: 1000 } },
    { name: 'LayerNorm odd width 37, 9 rows', config: { rows: 9, d: 37, kind: 'layer' } },
    { name: 'LayerNorm width 1 (output = bias)', config: { rows: 3, d: 1, kind: 'layer' } },
  ],
};
