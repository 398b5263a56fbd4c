// sparse.indexer: host side of shaders/sparse/indexer.wgsl, the first stage of DeepSeek Sparse Attention.
// `createIndexerStage` runs it on buffers the caller plans (sparse.dsa chains it into top-k and attention):
// the tensors and `indexerStageBuffers`.
import { instanceOfStage } from '../stage-instance.ts';
import wgsl from '../../../shaders/sparse/indexer.wgsl?raw';
import decodeWgsl from '../../../shaders/sparse/indexer-decode.wgsl?raw';
import * as d from 'typegpu/data';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { GpuContext } from '../../gpu/context.ts';
import type { BenchShape, ConfigOf, ConfigSchema, Cost, KernelDefinition, ValidationIssue } from '../contract.ts';
import type { DeviceCaps } from '../../gpu/context.ts';
import { plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { indexerReference } from '../../reference/sparse.ts';
import { needF16, needVec4 } from '../common/rules.ts';
import { gemmCore } from '../common/gemm.ts';
import { BYTES_PER, roundTo } from '../tensor.ts';
import { LANES, latentLanes, ruledKeysPerSplit } from '../mla/latent-split.ts';

export const indexerSchema = {
  T: { type: 'int', label: 'queries T', doc: 'query tokens at positions S-T .. S-1', default: 1, min: 1, max: 1 << 20 },
  S: { type: 'int', label: 'keys S', doc: 'context length scored by the indexer', default: 4096, min: 1, max: 1 << 22, unit: 'tokens' },
  Hi: { type: 'int', label: 'index heads H_I', doc: 'DeepSeek-V3.2: 64', default: 64, min: 1, max: 1024 },
  Di: { type: 'int', label: 'index head dim D_I', doc: 'DeepSeek-V3.2: 128', default: 128, min: 4, max: 1024 },
  causal: { type: 'bool', label: 'causal', default: true },
  dtype: { type: 'enum', label: 'storage', doc: 'f16 stores q_index, k_index and w_index in half precision (needs shader-f16); math and scores are f32', default: 'f32', values: ['f32', 'f16'] as const },
} satisfies ConfigSchema;

export type IndexerConfig = ConfigOf<typeof indexerSchema>;
/** What the stage and the cost model need: a config whose storage defaults to f32 (composites store their index tensors as f32). */
export type IndexerShape = Omit<IndexerConfig, 'dtype'> & { dtype?: IndexerConfig['dtype'] };

export const IndexerParams = d
  .struct({
    T: d.u32,
    S: d.u32,
    Hi: d.u32,
    Di4: d.u32,
    causal: d.u32,
    /** Tile path: heads per tile block (padded), queries per tile, head blocks per query, key tiles per query tile. */
    hpb: d.u32,
    qpt: d.u32,
    head_blocks: d.u32,
    key_tiles: d.u32,
    /** Keys path: keys per walker, key ranges per query. */
    kpw: d.u32,
    ranges: d.u32,
  })
  .$name('IndexerParams');

/** Up to this many queries keys_main runs (a GEMM tile would hold only T * Hi of its rows). */
export const KEYS_PATH_MAX_T = 4;
/** The tile path's GEMM: 64 (query, head) rows x 64 keys per workgroup, 32 dims per staged slice, 8 x 8 per thread, k_index rows as B^T. */
const GEMM = gemmCore({ bm: 64, bn: 64, bk: 32, bNK: true, micro: 8 });
/** Threads per workgroup on the tile path (8 x 8). */
const THREADS = 64;
const CONSTANTS = GEMM.constants;
/**
 * Keys path: heads per block at most (a walker's private query columns: IHB x Di / 4 floats per lane, 2048 at
 * V3.2's 64 heads of 128).
 */
const DECODE_HEADS = 64;
const DECODE_PRIVATE_FLOATS = 2048;

const BINDINGS = {
  params: uniform(IndexerParams),
  q_index: storage('vec4<elem>'),
  k_index: storage('vec4<elem>'),
  w_index: storage('elem'),
  index_scores: storage('f32', 'read_write'),
};

const WORKGROUP = {
  ...GEMM.workgroup,
  // Each thread's 8 key sums (two vec4): the heads of a query split over threads are added through it.
  red: workgroupArray('vec4<f32>', THREADS * 2),
};

/** Heads per query as the kernels lay them out: 1, 2, 4, or a multiple of 8 (a thread's 8 rows hold whole queries or one query's heads). */
export function paddedHeads(Hi: number): number {
  if (Hi <= 4) return Hi <= 1 ? 1 : Hi <= 2 ? 2 : 4;
  return 8 * Math.ceil(Hi / 8);
}

export function indexerTiling(c: { T: number; S: number; Hi: number; Di: number; dtype?: 'f32' | 'f16' }) {
  const hp = paddedHeads(c.Hi);
  const hpb = Math.min(hp, GEMM.constants.GEMM_BM);
  const qpt = Math.floor(GEMM.constants.GEMM_BM / hpb);
  const keyTiles = Math.ceil(c.S / GEMM.constants.GEMM_BN);
  const queryTiles = Math.ceil(c.T / qpt);
  const keysPath = c.T <= KEYS_PATH_MAX_T;
  // Keys path: one walker per (query, key range), the ranges by the split rule over the index-key rows.
  const kpw = ruledKeysPerSplit({ T: c.T, blocks: 1, keys: c.S, rowBytes: c.Di * BYTES_PER[c.dtype ?? 'f32'] });
  const ranges = Math.ceil(c.S / kpw);
  const dq = Math.ceil(c.Di / 4 / LANES);
  const most = Math.max(1, Math.min(DECODE_HEADS, Math.floor(DECODE_PRIVATE_FLOATS / (4 * dq))));
  const headBlocksDecode = Math.ceil(c.Hi / most);
  return {
    hp,
    hpb,
    qpt,
    headBlocks: Math.ceil(hp / hpb),
    keyTiles,
    queryTiles,
    keysPath,
    kpw,
    ranges,
    /** Keys path: heads per block (IHB) and vec4 column groups per lane (IDJ). */
    decodeHeads: Math.ceil(c.Hi / headBlocksDecode),
    dq,
    keysPerWorkgroup: keysPath ? kpw : GEMM.constants.GEMM_BN,
    workgroups: keysPath ? c.T * ranges : queryTiles * keyTiles,
  };
}

/** Bytes of index keys one workgroup reads (its block of keys, Di values each). */
export function indexerKeyBytesPerWorkgroup(c: { T: number; S: number; Hi: number; Di: number; dtype?: 'f32' | 'f16' }): number {
  return Math.min(c.S, indexerTiling(c).keysPerWorkgroup) * c.Di * BYTES_PER[c.dtype ?? 'f32'];
}

export function checkIndexer(c: IndexerShape, caps?: DeviceCaps, fields = { T: 'T', Di: 'Di' }): ValidationIssue[] {
  const issues = [...needVec4(fields.Di, c.Di, '(the kernels load rows as vec4)'), ...(caps ? needF16('dtype', c.dtype ?? 'f32', caps) : [])];
  if (c.T > c.S) issues.push({ field: fields.T, message: `${c.T} queries exceed S = ${c.S} keys (queries sit at positions S-T .. S-1)` });
  return issues;
}

/** (query, key) pairs the indexer scores: all of them, or the causal triangle. */
export function scoredPairs(T: number, S: number, causal: boolean): number {
  return causal ? T * (S - T) + (T * (T + 1)) / 2 : T * S;
}

export function indexerCost(c: IndexerShape): Cost {
  const pairs = scoredPairs(c.T, c.S, c.causal);
  return {
    // A multiply-add per (pair, head, dim), then ReLU and the weighted head sum.
    flops: pairs * c.Hi * (2 * c.Di + 2),
    bytes: BYTES_PER[c.dtype ?? 'f32'] * (c.T * c.Hi * c.Di + c.S * c.Di + c.T * c.Hi) + 4 * c.T * c.S,
  };
}

export interface IndexerStage {
  encode(pass: GPUComputePassEncoder): void;
}

/** The buffers the stage needs besides its tensors: its parameters. */
export function indexerStageBuffers(c: IndexerShape) {
  const tiling = indexerTiling(c);
  return {
    indexer_params: plannedUniform(IndexerParams, {
      T: c.T,
      S: c.S,
      Hi: c.Hi,
      Di4: c.Di / 4,
      causal: c.causal ? 1 : 0,
      hpb: tiling.hpb,
      qpt: tiling.qpt,
      head_blocks: tiling.headBlocks,
      key_tiles: tiling.keyTiles,
      kpw: tiling.kpw,
      ranges: tiling.ranges,
    }),
  };
}

export type IndexerStageIo = Record<'q_index' | 'k_index' | 'w_index' | 'index_scores' | 'indexer_params', GPUBuffer>;

/** The prefill module both storage types compile: one WGSL source, `elem` set to the storage type. */
export function indexerShader(dtype: IndexerConfig['dtype'], label = 'sparse.indexer') {
  return { label, wgsl, elem: dtype, bindings: BINDINGS, constants: CONSTANTS, workgroup: WORKGROUP };
}

/** The decode module (keys_main): the walker's constants for the shape and its lane sum. */
export function indexerDecodeShader(c: IndexerShape, subgroups: boolean, label = 'sparse.indexer') {
  const tiling = indexerTiling(c);
  const lanes = latentLanes(subgroups);
  return {
    label,
    wgsl: [decodeWgsl, lanes.wgsl].join('\n'),
    elem: c.dtype ?? 'f32',
    enable: lanes.enable,
    bindings: BINDINGS,
    constants: { L: LANES, IDQ: c.Di / 4, IDJ: tiling.dq, IHB: tiling.decodeHeads },
    workgroup: lanes.workgroup,
  };
}

/** knobs.subgroups = false (tests) forces the decode walker's workgroup-memory lane sum where the device has subgroups. */
export async function createIndexerStage(ctx: GpuContext, c: IndexerShape, io: IndexerStageIo, label = 'sparse.indexer', knobs: { subgroups?: boolean } = {}): Promise<IndexerStage> {
  const tiling = indexerTiling(c);
  const kernel = tiling.keysPath
    ? await createKernel(ctx, indexerDecodeShader(c, ctx.features.subgroups && knobs.subgroups !== false, label), ['keys_main'] as const)
    : await createKernel(ctx, indexerShader(c.dtype ?? 'f32', label), ['main'] as const);
  const group = kernel.bind({ params: io.indexer_params, q_index: io.q_index, k_index: io.k_index, w_index: io.w_index, index_scores: io.index_scores }, label);
  const groups = grid(tiling.workgroups, ctx.limits.maxComputeWorkgroupsPerDimension);
  const pipeline = 'keys_main' in kernel.pipelines ? kernel.pipelines.keys_main : kernel.pipelines.main;
  return {
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(pipeline);
      pass.dispatchWorkgroups(...groups);
    },
  };
}

/** Every buffer the registered kernel owns: its tensors and the stage's parameters. */
export function indexerBuffers(c: IndexerConfig) {
  return { ...plannedTensors(indexerInputs(c), indexerOutputs(c), ['q_index', 'k_index', 'w_index', 'index_scores']), ...indexerStageBuffers(c) };
}

function indexerInputs(c: IndexerConfig) {
  return [
    { name: 'q_index', shape: [c.T, c.Hi, c.Di], dtype: c.dtype },
    { name: 'k_index', shape: [c.S, c.Di], dtype: c.dtype },
    { name: 'w_index', shape: [c.T, c.Hi], dtype: c.dtype },
  ];
}

function indexerOutputs(c: IndexerConfig) {
  return [{ name: 'index_scores', shape: [c.T, c.S], dtype: 'f32' as const }];
}

export const INDEXER_TEST_CASES: BenchShape<IndexerConfig>[] = [
  { name: 'odd sizes, 3 heads', config: { T: 7, S: 70, Hi: 3, Di: 20 } },
  { name: 'decode, 64 heads of 128 (DeepSeek shape; keys path), S past two key blocks', config: { T: 1, S: 131, Hi: 64, Di: 128 } },
  { name: 'speculative T = 4 (keys path), heads not a multiple of 4', config: { T: 4, S: 259, Hi: 5, Di: 12 } },
  { name: 'T = 5 (tile path), 12 heads, Di past one slice', config: { T: 5, S: 70, Hi: 12, Di: 40 } },
  { name: 'decode, fewer heads than key threads (keys path)', config: { T: 2, S: 67, Hi: 3, Di: 8 } },
  { name: 'more heads than a tile (2 head blocks)', config: { T: 6, S: 65, Hi: 70, Di: 12 } },
  { name: 'one head, prefill T = S', config: { T: 66, S: 66, Hi: 1, Di: 8 } },
  { name: 'non-causal', config: { T: 5, S: 33, Hi: 5, Di: 36, causal: false } },
];

export const indexer: KernelDefinition<IndexerConfig> = {
  id: 'sparse.indexer',
  family: 'sparse',
  title: 'DSA lightning indexer',
  explain:
    "DeepSeek Sparse Attention's cheap scorer: I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]) over a few small index heads (V3.2: 64 heads of 128, in FP8 there), " +
    'ReLU before the per-token head weight. Its only job is to rank keys for the top-k, so it is one GEMM-shaped pass with the index heads as the M dimension ' +
    '(each index key is read once for all heads) and the ReLU, weight and head sum fused in its epilogue, no softmax. Prefill runs the shared GEMM core ' +
    '(64 x 64 tiles of (query, head) rows against keys staged through workgroup memory, an 8 x 8 register block per thread); decode (T <= 4) needs no staging ' +
    'and no barrier: a 4-lane walker per key range (>= 512 walkers or <= 64 KiB of index keys each) keeps its columns of up to 64 heads\' queries in registers, ' +
    'reads each key row once for all of them, sums the lanes with a subgroup butterfly and applies ReLU * w in registers. Causal: later keys score -inf. The weights are used as given: ' +
    "DeepSeek's code folds H_I^-0.5 * D_I^-0.5 (and the softmax scale) into w before the sum, so pass w already scaled to reproduce it " +
    '(the golden file sparse.dsa-tiny does).',
  sources: ['DeepSeek-AI 2025, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention", eq. 1; deepseek-ai/DeepSeek-V3.2-Exp inference/model.py (Indexer)'],
  schema: indexerSchema,
  check: (c, caps) => checkIndexer(c, caps),
  inputs: indexerInputs,
  outputs: indexerOutputs,
  plan: indexerBuffers,
  cost: indexerCost,
  reference: (inputs, c) => ({ index_scores: indexerReference(roundTo(inputs.q_index!, c.dtype), roundTo(inputs.k_index!, c.dtype), roundTo(inputs.w_index!, c.dtype), c) }),
  create: (ctx, c) => instanceOfStage(ctx, indexerBuffers(c), (b) => createIndexerStage(ctx, c, b)),
  benchmarks: [
    { name: 'decode S=2048 Hi=64 Di=128 (V3.2 index heads)', config: { T: 1, S: 2048, Hi: 64, Di: 128 } },
    { name: 'prefill T=S=256 Hi=8 Di=32', config: { T: 256, S: 256, Hi: 8, Di: 32 } },
  ],
  testCases: INDEXER_TEST_CASES,
};
