// layer.residual_add: host side of shaders/layer/residual-add.wgsl, y = a + b (the two residual connections of a block).
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/layer/residual-add.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import type { ConfigSchema, KernelDefinition, TensorSpec } from '../contract.ts';
import { allocate, planScratch, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { instanceOfStage } from '../stage-instance.ts';

export type ResidualAddConfig = { n: number };

const CONSTANTS = { WG: 256 } as const;
const AddParams = d.struct({ n: d.u32, a_off: d.u32, b_off: d.u32, y_off: d.u32 }).$name('AddParams');
const BINDINGS = {
  params: uniform(AddParams),
  a: storage('elem'),
  b: storage('elem'),
  y: storage('elem', 'read_write'),
};

const schema: ConfigSchema<ResidualAddConfig> = {
  n: { type: 'int', label: 'values n', doc: 'tokens x hidden size', default: 7168, min: 1, max: 1 << 28 },
};

const inputs = (c: ResidualAddConfig): TensorSpec[] => [
  { name: 'a', shape: [c.n], dtype: 'f32' },
  { name: 'b', shape: [c.n], dtype: 'f32' },
];
const outputs = (c: ResidualAddConfig): TensorSpec[] => [{ name: 'y', shape: [c.n], dtype: 'f32' }];
const plan = (c: ResidualAddConfig) => plannedTensors(inputs(c), outputs(c), ['a', 'b', 'y']);

export interface AddStage {
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

/** y[y_off + i] = a[a_off + i] + b[b_off + i], i < n, on caller-owned buffers (offsets in elements). */
export async function createAddStage(
  ctx: GpuContext,
  s: { n: number; a_off?: number; b_off?: number; y_off?: number },
  io: { a: GPUBuffer; b: GPUBuffer; y: GPUBuffer },
  label = 'layer.residual_add',
): Promise<AddStage> {
  const kernel = await createKernel(ctx, { label, wgsl, bindings: BINDINGS, constants: CONSTANTS }, ['add_main'] as const);
  const made = allocate(ctx, label, { params: plannedUniform(AddParams, { n: s.n, a_off: s.a_off ?? 0, b_off: s.b_off ?? 0, y_off: s.y_off ?? 0 }) });
  const group = kernel.bind({ params: made.buffers.params, ...io }, label);
  const groups = grid(Math.ceil(s.n / CONSTANTS.WG), ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.add_main);
      pass.dispatchWorkgroups(...groups);
    },
    destroy: made.destroy,
  };
}

export const addCost = (n: number) => ({ flops: n, bytes: 12 * n });

export const residualAdd: KernelDefinition<ResidualAddConfig> = {
  id: 'layer.residual_add',
  family: 'layer',
  title: 'Residual add',
  explain:
    'The skip connections of a pre-norm block, h = x + attn(norm(x)) and out = h + ffn(norm(h)): one read of each operand and one write, purely ' +
    'bandwidth-bound. It is its own dispatch here so the layer can time it; a production kernel folds it into the epilogue of the preceding GEMM.',
  sources: ['He et al. 2015, "Deep Residual Learning"', 'deepseek-ai/DeepSeek-V3.2-Exp inference/model.py, class Block'],
  schema,
  inputs,
  outputs,
  plan,
  scratch: (c) => planScratch(plan(c)),
  cost: (c) => addCost(c.n),
  reference: (x, c) => ({ y: { shape: [c.n], data: Float64Array.from({ length: c.n }, (_, i) => x.a!.data[i]! + x.b!.data[i]!) } }),
  create: (ctx, c) => instanceOfStage(ctx, plan(c), (b) => createAddStage(ctx, { n: c.n }, { a: b.a!, b: b.b!, y: b.y! })),
  benchmarks: [{ name: '64 tokens x 7168', config: { n: 64 * 7168 } }],
  testCases: [
    { name: 'odd length 1001', config: { n: 1001 } },
    { name: 'one value', config: { n: 1 } },
  ],
};
