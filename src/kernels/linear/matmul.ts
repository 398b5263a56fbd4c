// linear.matmul: host side of shaders/linear/matmul.wgsl, the register-tiled GEMM C = A · B (B as [K,N] or,
// with trans_b, PyTorch's [N,K] weight layout). The roofline anchor: its GFLOP/s against the FMA probe says
// what share of this device's arithmetic a well-blocked kernel reaches here.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/linear/matmul.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { ConfigSchema, KernelDefinition, TensorSpec } from '../contract.ts';
import { allocate, planScratch, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { fitGridDimension, needF16 } from '../common/rules.ts';
import { BYTES_PER, roundTo, type TensorDType } from '../tensor.ts';
import { matmulReference } from '../../reference/linear.ts';

export type MatmulConfig = { M: number; N: number; K: number; trans_b: boolean; dtype: string };

/**
 * Block of C per workgroup (BM x BN), K-slice staged per barrier pair (BK), micro-tile per thread 4 x 4 (TM = 4:
 * the shader names its four accumulators; an 8 x 8 tile held as an indexed array ran 6x slower on SwiftShader,
 * which spills such arrays to memory), so THREADS = (BM / 4) * (BN / 4).
 */
const [BM, BN, BK, TM] = [64, 64, 32, 4];
const CONSTANTS = { BM, BN, BK, TM, THREADS: (BM / TM) * (BN / 4) } as const;

const MatmulParams = d.struct({ M: d.u32, N: d.u32, K: d.u32 }).$name('MatmulParams');

const BINDINGS = {
  params: uniform(MatmulParams),
  a: storage('elem'),
  b: storage('elem'),
  c: storage('elem', 'read_write'),
};

const WORKGROUP = {
  tileA: workgroupArray('vec4<f32>', (BK * BM) / 4),
  tileB: workgroupArray('vec4<f32>', (BK * BN) / 4),
};

const schema: ConfigSchema<MatmulConfig> = {
  M: { type: 'int', label: 'rows M', doc: 'rows of A and C (tokens, for a projection)', default: 256, min: 1, max: 1 << 20 },
  N: { type: 'int', label: 'columns N', doc: 'columns of B and C (output features)', default: 256, min: 1, max: 1 << 20 },
  K: { type: 'int', label: 'depth K', doc: 'columns of A, rows of B (input features)', default: 256, min: 1, max: 1 << 20 },
  trans_b: { type: 'bool', label: 'B as [N, K]', doc: "B stored [N, K] (PyTorch nn.Linear's weight), C = A B^T", default: false },
  dtype: { type: 'enum', label: 'storage', doc: 'f16 storage needs shader-f16; arithmetic is f32 either way', default: 'f32', values: ['f32', 'f16'] },
};

const storageType = (c: MatmulConfig) => c.dtype as 'f32' | 'f16';

function inputs(c: MatmulConfig): TensorSpec[] {
  const dtype = storageType(c) as TensorDType;
  return [
    { name: 'a', shape: [c.M, c.K], dtype },
    { name: 'b', shape: c.trans_b ? [c.N, c.K] : [c.K, c.N], dtype },
  ];
}

function outputs(c: MatmulConfig): TensorSpec[] {
  return [{ name: 'c', shape: [c.M, c.N], dtype: storageType(c) as TensorDType }];
}

function plan(c: MatmulConfig) {
  return {
    ...plannedTensors(inputs(c), outputs(c), ['a', 'b', 'c']),
    params: plannedUniform(MatmulParams, { M: c.M, N: c.N, K: c.K }),
  };
}

export const matmul: KernelDefinition<MatmulConfig> = {
  id: 'linear.matmul',
  family: 'linear',
  title: 'Tiled GEMM (C = A · B)',
  explain:
    'Each workgroup owns a 64 x 64 block of C and each thread a 4 x 4 micro-tile of it in registers; K is walked in slices of 32 staged in workgroup memory, ' +
    'so every value loaded from device memory is reused 64 times and every value read from workgroup memory feeds 4 multiply-adds. ' +
    'The arithmetic intensity grows with the block size, which is what moves a GEMM from the bandwidth roof to the FMA roof.',
  sources: ['Volkov & Demmel 2008, "Benchmarking GPUs to tune dense linear algebra"', 'NVIDIA CUTLASS, "Efficient GEMM in CUDA" (thread-block and warp tiles)'],
  schema,
  check(c, caps) {
    return [
      ...needF16('dtype', c.dtype, caps),
      ...fitGridDimension('N', c.N, Math.ceil(c.N / BN), 'column blocks', caps),
      ...fitGridDimension('M', c.M, Math.ceil(c.M / BM), 'row blocks', caps),
    ];
  },
  inputs,
  outputs,
  plan,
  scratch: (c) => planScratch(plan(c)),
  cost(c) {
    const bpe = BYTES_PER[storageType(c)];
    return { flops: 2 * c.M * c.N * c.K, bytes: (c.M * c.K + c.K * c.N + c.M * c.N) * bpe };
  },
  reference(x, c) {
    const dt = storageType(c);
    return { c: matmulReference(roundTo(x.a!, dt), roundTo(x.b!, dt), { M: c.M, N: c.N, K: c.K, transB: c.trans_b }) };
  },
  async create(ctx, c) {
    const kernel = await createKernel(
      ctx,
      { label: 'linear.matmul', wgsl, elem: storageType(c), bindings: BINDINGS, constants: { ...CONSTANTS, TRANS_B: c.trans_b ? 1 : 0 }, workgroup: WORKGROUP },
      ['matmul_main'] as const,
    );
    const made = allocate(ctx, 'linear.matmul', plan(c));
    const group = kernel.bind(made.buffers);
    return {
      tensors: made.tensors,
      encode(pass) {
        pass.setBindGroup(0, group);
        pass.setPipeline(kernel.pipelines.matmul_main);
        pass.dispatchWorkgroups(Math.ceil(c.N / BN), Math.ceil(c.M / BM));
      },
      destroy: made.destroy,
    };
  },
  benchmarks: [
    { name: 'square M=N=K=1024', config: { M: 1024, N: 1024, K: 1024 } },
    { name: 'prefill projection M=512 K=2048 N=2048, B as [N,K]', config: { M: 512, N: 2048, K: 2048, trans_b: true } },
  ],
  testCases: [
    { name: 'odd sizes M=63 N=65 K=100', config: { M: 63, N: 65, K: 100 } },
    { name: 'B as [N,K], M=37 N=130 K=33', config: { M: 37, N: 130, K: 33, trans_b: true } },
    { name: 'one row (GEMV) K=257', config: { M: 1, N: 70, K: 257, trans_b: true } },
    { name: 'exact tiles 128 x 64, K=64', config: { M: 128, N: 64, K: 64 } },
    { name: 'K=1', config: { M: 5, N: 3, K: 1 } },
  ],
};
