// sparse.dsa: DeepSeek Sparse Attention end to end, three stages: the lightning indexer scores every key,
// top-k keeps `topk` per query, attention runs over those. Each stage is the module of its stand-alone kernel
// (sparse.indexer, sparse.topk, sparse.dsa_attention); one buffer plan holds the tensors and every stage's
// own buffers, allocated together (and freed together if a stage cannot be built). The instance lists the
// three as `stages`, so the bench times each inside the same run for the per-stage breakdown.
import type { DeviceCaps } from '../../gpu/context.ts';
import type { ConfigOf, ConfigSchema, Cost, KernelDefinition } from '../contract.ts';
import type { HostTensor } from '../tensor.ts';
import { allocate, planned, plannedTensors, type Allocation } from '../common/buffer-plan.ts';
import { causalRowLength, indexerReference, topkReference } from '../../reference/sparse.ts';
import { checkIndexer, createIndexerStage, indexerCost, indexerSchema, indexerStageBuffers } from './indexer.ts';
import { checkTopK, createTopKStage, topkStageBuffers } from './topk.ts';
import {
  checkDsaAttention,
  createDsaAttentionStage,
  dsaAttentionCost,
  dsaAttentionRunCost,
  dsaAttentionFields,
  dsaAttentionInputs,
  dsaAttentionOutput,
  dsaAttentionReference,
  dsaAttentionStageBuffers,
} from './dsa-attention.ts';
import { dsaFromGolden, dsaGoldenMeta } from './sparse-golden.ts';

const schema = {
  ...dsaAttentionFields,
  Hi: indexerSchema.Hi,
  Di: indexerSchema.Di,
} satisfies ConfigSchema;

export type DsaConfig = ConfigOf<typeof schema>;

const topkShape = (c: DsaConfig) => ({ rows: c.T, cols: c.S, k: c.topk, causal: c.causal, split: 0 });
const indexerShape = (c: DsaConfig) => ({ T: c.T, S: c.S, Hi: c.Hi, Di: c.Di, causal: c.causal });

/**
 * Every buffer sparse.dsa owns: its tensors and each stage's own (indexer parameters; top-k parameters and
 * scratch, and a values buffer it never writes; the attention's parameters and split partials, whose size
 * depends on the device's tile shape).
 */
function dsaBuffers(c: DsaConfig, caps: DeviceCaps) {
  // The K/V tensors are k and v, or the latent rows kv in MLA mode; the rest does not depend on the mode.
  const kvNames = c.mode === 'mla' ? ['kv'] : ['k', 'v'];
  const isKv = (t: { name: string }) => kvNames.includes(t.name);
  const [ins, outs] = [dsa.inputs(c), dsa.outputs(c)];
  return {
    kv: plannedTensors(ins.filter(isKv), [], kvNames),
    plan: {
      ...plannedTensors(ins.filter((t) => !isKv(t)), outs, ['q', 'q_index', 'k_index', 'w_index', 'index_scores', 'topk_indices', 'out']),
      ...indexerStageBuffers(indexerShape(c)),
      ...topkStageBuffers(topkShape(c), false),
      topk_values: planned('scratch', 4),
      ...dsaAttentionStageBuffers(c, 'f32', caps),
    },
  };
}

/** Indexer, then top-k reading the scores it wrote, then the attention (`att`) reading the indices top-k wrote. */
function dsaCost(c: DsaConfig, att: Cost): Cost {
  const idx = indexerCost(indexerShape(c));
  const intermediateBytes = 4 * c.T * c.S + 4 * c.T * c.topk;
  return { flops: idx.flops + att.flops, bytes: idx.bytes + 4 * c.T * c.topk + att.bytes + 4 * c.T * c.S, kvCacheBytes: att.kvCacheBytes, intermediateBytes };
}

/**
 * Index tensors on a grid of exactly representable values (q, k in steps of 1/2, w in steps of 1/8): every
 * index score is exact in f32 and in float64, so the GPU and the reference rank keys identically, exact ties
 * included (and ties are frequent, which tests the lower-index rule).
 */
function exactIndexInputs(c: DsaConfig, rng: () => number): Record<string, HostTensor> {
  const grid = (shape: number[], step: number, span: number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (Math.floor(rng() * (2 * span + 1)) - span) * step;
    return { shape, data };
  };
  return { q_index: grid([c.T, c.Hi, c.Di], 0.5, 2), k_index: grid([c.S, c.Di], 0.5, 2), w_index: grid([c.T, c.Hi], 0.125, 8) };
}

export const dsa: KernelDefinition<DsaConfig> = {
  id: 'sparse.dsa',
  family: 'sparse',
  title: 'DeepSeek Sparse Attention (indexer + top-k + sparse attention)',
  explain:
    'DeepSeek-V3.2-Exp keeps dense-quality attention at long context by letting each query attend to only 2048 keys: a lightning indexer (a few ReLU ' +
    'heads, FP8 there) scores all keys in O(S) per query, a GPU top-k keeps the best 2048, and attention runs over those, O(k) per query instead of O(S). ' +
    'The indexer is still quadratic over a prefill but far cheaper per pair than attention (64 x 128 index dims against 128 heads x 576), so past a ' +
    'few thousand tokens the total drops well below dense attention; DeepSeek credits it with roughly halving long-context inference cost. ' +
    'Outputs every stage: index_scores (-inf where masked), topk_indices (ascending, -1 padded) and out.',
  sources: [
    'DeepSeek-AI 2025, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention"',
    'deepseek-ai/DeepSeek-V3.2-Exp inference/model.py (Indexer, MLA with index mask)',
  ],
  implements: 'sparse.dsa',
  schema,
  check(c, caps) {
    return [...checkIndexer(indexerShape(c)), ...checkTopK(topkShape(c), { rows: 'T', cols: 'S' }), ...checkDsaAttention(c, caps)];
  },
  inputs: (c) => [
    ...dsaAttentionInputs(c, 'f32'),
    { name: 'q_index', shape: [c.T, c.Hi, c.Di], dtype: 'f32' },
    { name: 'k_index', shape: [c.S, c.Di], dtype: 'f32' },
    { name: 'w_index', shape: [c.T, c.Hi], dtype: 'f32' },
  ],
  outputs: (c) => [
    { name: 'index_scores', shape: [c.T, c.S], dtype: 'f32' },
    { name: 'topk_indices', shape: [c.T, c.topk], dtype: 'i32', compare: { kind: 'row-sets', cols: c.topk } },
    dsaAttentionOutput(c, 'f32'),
  ],
  plan: (c, caps) => {
    if (!caps) throw new Error('sparse.dsa: its buffer plan depends on the device (the attention tile shape sets the split)');
    const { kv, plan } = dsaBuffers(c, caps);
    return { ...kv, ...plan };
  },
  cost: (c) => dsaCost(c, dsaAttentionCost(c, 4)),
  runCost: (c, t) => dsaCost(c, dsaAttentionRunCost(c, 4, t.topk_indices!)),
  randomInputs(c, rng) {
    const out: Record<string, HostTensor> = {};
    for (const spec of dsaAttentionInputs(c, 'f32')) {
      const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = rng.normal();
      out[spec.name] = { shape: spec.shape, data };
    }
    return { ...out, ...exactIndexInputs(c, rng.next) };
  },
  reference(inputs, c) {
    const index_scores = indexerReference(inputs.q_index!, inputs.k_index!, inputs.w_index!, indexerShape(c));
    const topk_indices = topkReference(index_scores, c.T, c.S, c.topk, 'index', c.causal ? causalRowLength(c.T, c.S) : undefined).indices;
    return { index_scores, topk_indices, out: dsaAttentionReference(inputs, topk_indices, c, 'f32') };
  },
  fromGolden: dsaFromGolden,
  goldenMeta: dsaGoldenMeta,
  async create(ctx, c) {
    const { kv, plan } = dsaBuffers(c, ctx);
    const made = allocate(ctx, 'sparse.dsa', plan);
    let kvMade: Allocation<string> | undefined;
    try {
      kvMade = allocate(ctx, 'sparse.dsa', kv);
      const b = made.buffers;
      const latent = kvMade.buffers.kv;
      const [k, v] = latent ? [latent, latent] : [kvMade.buffers.k!, kvMade.buffers.v!];
      const stages = [
        { name: 'indexer', stage: await createIndexerStage(ctx, indexerShape(c), b, 'sparse.dsa indexer') },
        { name: 'top-k', stage: await createTopKStage(ctx, topkShape(c), { ...b, scores: b.index_scores, indices: b.topk_indices, values: b.topk_values }, 'sparse.dsa top-k') },
        { name: 'attention', stage: await createDsaAttentionStage(ctx, c, 'f32', { ...b, k, v }, 'sparse.dsa attention') },
      ];
      const kvBuffers = kvMade;
      return {
        tensors: { ...made.tensors, ...kvMade.tensors },
        stages: stages.map(({ name, stage }) => ({ name, encode: (pass: GPUComputePassEncoder) => stage.encode(pass) })),
        encode(pass) {
          for (const { stage } of stages) stage.encode(pass);
        },
        destroy() {
          kvBuffers.destroy();
          made.destroy();
        },
      };
    } catch (e) {
      kvMade?.destroy();
      made.destroy();
      throw e;
    }
  },
  benchmarks: [
    { name: 'decode MLA S=8192 k=2048 H=16 D=576 Hi=16 Di=64', config: { T: 1, S: 8192, Hq: 16, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 2048, Hi: 16, Di: 64 } },
    { name: 'prefill S=512 k=128 Hq=4 Hkv=1 D=32 Hi=4 Di=32', config: { T: 512, S: 512, Hq: 4, Hkv: 1, D: 32, topk: 128, Hi: 4, Di: 32 } },
  ],
  testCases: [
    { name: 'golden-like tiny (MQA, 2 index heads)', config: { T: 4, S: 20, Hq: 2, Hkv: 1, D: 8, topk: 6, Hi: 2, Di: 8 } },
    { name: 'GQA 3, odd sizes', config: { T: 5, S: 77, Hq: 6, Hkv: 2, D: 20, topk: 17, Hi: 3, Di: 12 } },
    { name: 'topk >= S (every causal key)', config: { T: 6, S: 40, Hq: 4, Hkv: 2, D: 16, topk: 48, Hi: 2, Di: 8 } },
    { name: 'MLA latent mode', config: { T: 3, S: 60, Hq: 4, Hkv: 1, D: 40, Dr: 8, mode: 'mla', topk: 9, Hi: 4, Di: 16 } },
    { name: 'decode, chunked top-k (2 workgroups on the row)', config: { T: 1, S: 2100, Hq: 4, Hkv: 1, D: 16, topk: 100, Hi: 4, Di: 8 } },
    { name: 'non-causal', config: { T: 3, S: 25, Hq: 2, Hkv: 2, D: 12, topk: 5, Hi: 3, Di: 4, causal: false } },
  ],
};
