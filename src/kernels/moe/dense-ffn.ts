// moe.dense_ffn: the dense SwiGLU FFN an MoE layer is compared with. Same stage as the grouped experts with
// one weight set and the identity row map; give it inter = (topk + shared) * moe_inter for the dense layer
// with the same active parameters per token (moe-cost.ts denseEquivalentInter).
import { instanceOfStage } from '../stage-instance.ts';
import { denseFfnReference } from '../../reference/moe.ts';
import type { ConfigOf, ConfigSchema, KernelDefinition, OutputSpec, TensorSpec } from '../contract.ts';
import { randomNormal } from '../random.ts';
import { needF16 } from '../common/rules.ts';
import { roundTo } from '../tensor.ts';
import { checkFfnShape, createFfnStage, swigluCost, weightDtypeField, type FfnStageOptions } from './grouped-ffn.ts';
import { ffnWeights, pickSchema } from './moe-config.ts';

const denseSchema = {
  ...pickSchema(['N', 'dim'] as const),
  inter: { type: 'int', label: 'FFN hidden dim', doc: 'dense-equivalent of an MoE layer: (topk + shared) * moe_inter', default: 288, min: 4, max: 262144 },
  dtype: weightDtypeField,
} satisfies ConfigSchema;

export type DenseFfnConfig = ConfigOf<typeof denseSchema>;

function options(c: DenseFfnConfig): FfnStageOptions {
  return { label: 'moe.dense_ffn', rows: c.N, dim: c.dim, inter: c.inter, E: 1, gather: false, maxRowsPerExpert: c.N };
}

function inputs(c: DenseFfnConfig): TensorSpec[] {
  return [
    { name: 'x', shape: [c.N, c.dim], dtype: 'f32' },
    { name: 'w1', shape: [c.inter, c.dim], dtype: c.dtype },
    { name: 'w2', shape: [c.dim, c.inter], dtype: c.dtype },
    { name: 'w3', shape: [c.inter, c.dim], dtype: c.dtype },
  ];
}

function outputs(c: DenseFfnConfig): OutputSpec[] {
  return [{ name: 'out', shape: [c.N, c.dim], dtype: 'f32' }];
}

export const moeDenseFfn: KernelDefinition<DenseFfnConfig> = {
  id: 'moe.dense_ffn',
  family: 'moe',
  title: 'Dense SwiGLU FFN (the MoE baseline of equal active parameters)',
  explain:
    'The FFN every token would run without experts: w2(silu(w1 x) * w3 x) with the hidden size of the MoE layer\'s active experts ' +
    '((topk + shared) x moe_inter). Same FLOPs per token as the MoE layer, but it reads one weight set for the whole batch, while the ' +
    'MoE layer reads every expert some token chose: compare their times at decode and prefill to see what routing and dispatch cost.',
  sources: ['Shazeer 2020, "GLU Variants Improve Transformer" (arXiv:2002.05202)', 'DeepSeek-V3 inference/model.py, class MLP'],
  schema: denseSchema,
  check: (c, caps) => [...needF16('dtype', c.dtype, caps), ...checkFfnShape(options(c), caps)],
  inputs,
  outputs,
  scratch: (c) => [{ name: 'h', bytes: c.N * c.inter * 4 }],
  cost: (c) => swigluCost(c.N, c.N, c.dim, c.inter, 1),
  randomInputs: (c, rng) => ({ x: randomNormal(rng, [c.N, c.dim]), ...ffnWeights(rng, '', undefined, c.dim, c.inter) }),
  // f16 storage: the reference sees the weights the GPU reads (rounded once), then computes in float64.
  reference: (t, c) => ({ out: denseFfnReference(t.x!, roundTo(t.w1!, c.dtype), roundTo(t.w2!, c.dtype), roundTo(t.w3!, c.dtype), c) }),
  create: (ctx, c) => instanceOfStage(ctx, [...inputs(c), ...outputs(c)], (t) => createFfnStage(ctx, options(c), { x: t.x!, w1: t.w1!, w2: t.w2!, w3: t.w3!, y: t.out! }, c.dtype)),
  benchmarks: [
    // dense equivalents of moe.forward's scaled shapes: (8 routed + 1 shared) x inter
    { name: 'prefill scaled N=1024 dim=512 inter=2304 (dense equivalent of top-8 + shared, inter 256)', config: { N: 1024, dim: 512, inter: 2304 } },
    { name: 'decode scaled N=1 dim=512 inter=2304 (dense equivalent of top-8 + shared, inter 256)', config: { N: 1, dim: 512, inter: 2304 } },
    { name: 'decode scaled N=64 dim=512 inter=2304 (dense equivalent of top-8 + shared, inter 256)', config: { N: 64, dim: 512, inter: 2304 } },
  ],
  testCases: [
    { name: 'odd sizes', config: { N: 13, dim: 20, inter: 36 } },
    { name: 'BM = 64 tiles, several column tiles', config: { N: 70, dim: 132, inter: 68 } },
    { name: 'inter <= 64: both matmuls in one workgroup per row tile, odd N', config: { N: 67, dim: 36, inter: 20 } },
    { name: 'decode N = 1', config: { N: 1, dim: 16, inter: 100 } },
    { name: 'N = 4: split-K tile, every accumulator lane used', config: { N: 4, dim: 44, inter: 72 } },
    { name: 'N = 5: one row past the split-K tiles (tiled loop)', config: { N: 5, dim: 44, inter: 72 } },
  ],
};
