// linear.matmul: host side of shaders/linear/matmul.wgsl, the register-tiled GEMM C = A · B (B as [K,N] or,
// with trans_b, PyTorch's [N,K] weight layout). The roofline anchor: its GFLOP/s against the FMA probe says
// what share of this device's arithmetic a well-blocked kernel reaches here.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/linear/matmul.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, type StorageDType } from '../../gpu/shader.ts';
import type { AdapterSummary, DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { instanceOfStage } from '../stage-instance.ts';
import type { ConfigOf, ConfigSchema, KernelDefinition, TensorSpec } from '../contract.ts';
import { gemmQuadCore, gemmQuadTile, type GemmQuadTile } from '../common/gemm.ts';
import { allocate, planScratch, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { fitGridDimension, needF16 } from '../common/rules.ts';
import { BYTES_PER, roundTo, type TensorDType } from '../tensor.ts';
import { matmulReference } from '../../reference/linear.ts';

export type MatmulConfig = ConfigOf<typeof schema>;

/** One operand as a strided view of a buffer, in elements: start, row stride, stride between batch entries. */
export interface MatrixView {
  off: number;
  ld: number;
  batch: number;
}

/**
 * A GEMM over caller-owned buffers: `batch` independent products C_z = A_z · B_z (z = 0..batch-1), each
 * operand a strided view (rows in the middle of a buffer, a column slice of a wider one, one head's slice).
 * Views default to packed [batch, rows, cols] storage.
 */
export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  batch?: number;
  trans_b: boolean;
  a?: Partial<MatrixView>;
  b?: Partial<MatrixView>;
  c?: Partial<MatrixView>;
  /** C = alpha · A · B (default 1). */
  alpha?: number;
}

/** Internal knobs (not in the config schema; tests use them to reach every path). */
export interface MatmulOptions {
  /** false forces the workgroup-memory lane sum even where the device has subgroups. */
  subgroups?: boolean;
  /** Row and column quads of each quad's tile (default: gemmQuadTile for the device). */
  rowQuads?: GemmQuadTile['rowQuads'];
  colQuads?: GemmQuadTile['colQuads'];
}

/** The quad core's tile for this device and layout (lib/gemm-quad.wgsl). */
export function matmulTile(caps: DeviceCaps & { adapter?: AdapterSummary }, transB: boolean, opts: MatmulOptions = {}): GemmQuadTile {
  const d = gemmQuadTile(caps, transB, caps.features.subgroups && opts.subgroups !== false);
  return { ...d, rowQuads: opts.rowQuads ?? d.rowQuads, colQuads: opts.colQuads ?? d.colQuads };
}

const MatmulParams = d
  .struct({
    M: d.u32,
    N: d.u32,
    K: d.u32,
    a_off: d.u32,
    lda: d.u32,
    a_batch: d.u32,
    b_off: d.u32,
    ldb: d.u32,
    b_batch: d.u32,
    c_off: d.u32,
    ldc: d.u32,
    c_batch: d.u32,
    alpha: d.f32,
  })
  .$name('MatmulParams');

function matmulParams(s: MatmulShape) {
  const view = (v: Partial<MatrixView> | undefined, rows: number, cols: number) => {
    const ld = v?.ld ?? cols;
    return { off: v?.off ?? 0, ld, batch: v?.batch ?? rows * ld };
  };
  const a = view(s.a, s.M, s.K);
  const b = s.trans_b ? view(s.b, s.N, s.K) : view(s.b, s.K, s.N);
  const c = view(s.c, s.M, s.N);
  return { M: s.M, N: s.N, K: s.K, a_off: a.off, lda: a.ld, a_batch: a.batch, b_off: b.off, ldb: b.ld, b_batch: b.batch, c_off: c.off, ldc: c.ld, c_batch: c.batch, alpha: s.alpha ?? 1 };
}

const BINDINGS = {
  params: uniform(MatmulParams),
  a: storage('elem'),
  b: storage('elem'),
  c: storage('elem', 'read_write'),
};


const schema = {
  M: { type: 'int', label: 'rows M', doc: 'rows of A and C (tokens, for a projection)', default: 256, min: 1, max: 1 << 20 },
  N: { type: 'int', label: 'columns N', doc: 'columns of B and C (output features)', default: 256, min: 1, max: 1 << 20 },
  K: { type: 'int', label: 'depth K', doc: 'columns of A, rows of B (input features)', default: 256, min: 1, max: 1 << 20 },
  batch: { type: 'int', label: 'batch', doc: 'independent products in one launch (one per attention head for MLA\'s W_UK / W_UV)', default: 1, min: 1, max: 4096 },
  trans_b: { type: 'bool', label: 'B as [N, K]', doc: "B stored [N, K] (PyTorch nn.Linear's weight), C = A B^T", default: false },
  dtype: { type: 'enum', label: 'storage', doc: 'f16 storage needs shader-f16; arithmetic is f32 either way', default: 'f32', values: ['f32', 'f16'] as const },
} satisfies ConfigSchema;

const storageType = (c: MatmulConfig) => c.dtype;

const batched = (c: MatmulConfig, shape: number[]) => (c.batch > 1 ? [c.batch, ...shape] : shape);

function inputs(c: MatmulConfig): TensorSpec[] {
  const dtype = storageType(c) as TensorDType;
  return [
    { name: 'a', shape: batched(c, [c.M, c.K]), dtype },
    { name: 'b', shape: batched(c, c.trans_b ? [c.N, c.K] : [c.K, c.N]), dtype },
  ];
}

function outputs(c: MatmulConfig): TensorSpec[] {
  return [{ name: 'c', shape: batched(c, [c.M, c.N]), dtype: storageType(c) as TensorDType }];
}

function plan(c: MatmulConfig) {
  return {
    ...plannedTensors(inputs(c), outputs(c), ['a', 'b', 'c']),
  };
}

export interface MatmulStage {
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

/** The GEMM on caller-owned buffers (composites chain it with other stages on shared buffers). */
export async function createMatmulStage(
  ctx: GpuContext,
  s: MatmulShape,
  io: { a: GPUBuffer; b: GPUBuffer; c: GPUBuffer },
  label = 'linear.matmul',
  dtype: StorageDType = 'f32',
  opts: MatmulOptions = {},
): Promise<MatmulStage> {
  const core = gemmQuadCore(matmulTile(ctx, s.trans_b, opts));
  const kernel = await createKernel(
    ctx,
    { label, wgsl: `${wgsl}\n${core.laneSum}`, elem: dtype, enable: core.enable, bindings: BINDINGS, constants: core.constants, workgroup: core.workgroup },
    ['matmul_main'] as const,
  );
  const made = allocate(ctx, label, { params: plannedUniform(MatmulParams, matmulParams(s)) });
  const group = kernel.bind({ ...io, params: made.buffers.params }, label);
  const groups: [number, number, number] = [...core.grid(s.M, s.N), s.batch ?? 1];
  return {
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.matmul_main);
      pass.dispatchWorkgroups(...groups);
    },
    destroy: made.destroy,
  };
}

/** The registry's instance, with the internal knobs tests use. */
export function createMatmul(ctx: GpuContext, c: MatmulConfig, opts: MatmulOptions = {}) {
  const shape = { M: c.M, N: c.N, K: c.K, batch: c.batch, trans_b: c.trans_b };
  return instanceOfStage(ctx, plan(c), (b) => createMatmulStage(ctx, shape, { a: b.a!, b: b.b!, c: b.c! }, 'linear.matmul', storageType(c), opts));
}

export const matmul: KernelDefinition<MatmulConfig> = {
  id: 'linear.matmul',
  family: 'linear',
  title: 'Tiled GEMM (C = A · B)',
  explain:
    'Each workgroup is 16 independent quads of 4 invocations; a quad owns a tile of C in registers (16 x 16 on CPU emulation, 8 x 8 on a GPU) and its 4 lanes split K, ' +
    'reading 64 contiguous bytes of each A row per 16-deep step, so every value read feeds 16 (or 8) multiply-adds with no workgroup tile and no barrier; ' +
    'the lanes sum their partial tiles once at the end. The arithmetic intensity grows with the tile, which is what moves a GEMM from the bandwidth roof to the FMA roof.',
  sources: ['Volkov & Demmel 2008, "Benchmarking GPUs to tune dense linear algebra"', 'NVIDIA CUTLASS, "Efficient GEMM in CUDA" (thread-block and warp tiles)'],
  schema,
  check(c, caps) {
    const [cols, rows] = gemmQuadCore(matmulTile(caps, c.trans_b)).grid(c.M, c.N);
    return [
      ...needF16('dtype', c.dtype, caps),
      ...fitGridDimension('N', c.N, cols, 'column blocks', caps),
      ...fitGridDimension('M', c.M, rows, 'row blocks', caps),
      ...fitGridDimension('batch', c.batch, c.batch, 'batch entries', caps),
    ];
  },
  inputs,
  outputs,
  plan,
  scratch: (c) => planScratch(plan(c)),
  cost(c) {
    const bpe = BYTES_PER[storageType(c)];
    return { flops: 2 * c.batch * c.M * c.N * c.K, bytes: c.batch * (c.M * c.K + c.K * c.N + c.M * c.N) * bpe };
  },
  reference(x, c) {
    const dt = storageType(c);
    const a = roundTo(x.a!, dt);
    const b = roundTo(x.b!, dt);
    const out = new Float64Array(c.batch * c.M * c.N);
    const [na, nb, nc] = [c.M * c.K, c.K * c.N, c.M * c.N];
    for (let z = 0; z < c.batch; z++) {
      const one = matmulReference({ shape: [c.M, c.K], data: a.data.slice(z * na, (z + 1) * na) }, { shape: [nb], data: b.data.slice(z * nb, (z + 1) * nb) }, { M: c.M, N: c.N, K: c.K, transB: c.trans_b });
      out.set(one.data, z * nc);
    }
    return { c: { shape: batched(c, [c.M, c.N]), data: out } };
  },
  create: (ctx, c) => createMatmul(ctx, c),
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
    { name: 'batched per head: 3 x (M=2 N=70 K=9), B as [N,K]', config: { M: 2, N: 70, K: 9, batch: 3, trans_b: true } },
  ],
};
