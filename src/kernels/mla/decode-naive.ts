// mla.decode_naive: host side of shaders/mla/decode-naive.wgsl. The reference's attn_impl = "naive":
// the latent cache is expanded to per-head K and V, then attention runs per head. The baseline the absorbed
// kernel is measured against; its expanded buffer is the MHA-sized cache MLA avoids storing.
import wgsl from '../../../shaders/mla/decode-naive.wgsl?raw';
import { bindGroup, grid, kernelPipelines, uniformBuffer } from '../../gpu/shader.ts';
import type { KernelDefinition } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import { mlaDecodeFromGolden, mlaDecodeGoldenMeta } from './mla-golden.ts';
import {
  MLA_DECODE_BENCHMARKS,
  MLA_DECODE_TEST_CASES,
  MlaParams,
  checkMlaDecode,
  costOf,
  latentCacheBytes,
  mlaDecodeInputs,
  mlaDecodeOutputs,
  mlaDecodeRandomInputs,
  mlaDecodeReferenceFor,
  mlaDecodeSchema,
  mlaParams,
  naiveFlops,
  type MlaDecodeConfig,
} from './mla-config.ts';

const WG = 256;
const TILE = 64;
const STORAGE_BUFFERS = 8;

/** The expanded cache: per token and head, dn key values and dv value values, f32. */
export function expandedBytes(c: MlaDecodeConfig): number {
  return c.S * c.H * (c.dn + c.dv) * 4;
}

function scoreBytes(c: MlaDecodeConfig): number {
  return c.T * c.H * c.S * 4;
}

export const mlaDecodeNaive: KernelDefinition<MlaDecodeConfig> = {
  id: 'mla.decode_naive',
  family: 'mla',
  title: 'MLA decode, naive (expand the latent to per-head K/V)',
  explain:
    'Multiplies the whole latent cache by wkv_b every step to recover per-head keys (W_UK c_KV) and values (W_UV c_KV), as a tiled GEMM, then runs ordinary ' +
    'attention per head with the shared RoPE key appended: scores, softmax and P·V through a T x H x S score buffer. It reads and writes H*(dn+dv) floats per cached token ' +
    '(32,768 for DeepSeek-V3 against 576 latent values) and spends 2*S*d_c*H*(dn+dv) FLOPs on the expansion: the work the absorbed order removes.',
  sources: ['DeepSeek-AI 2024, "DeepSeek-V2", section 2.1.2 (low-rank key-value joint compression)', 'deepseek-ai/DeepSeek-V3 inference/model.py, class MLA, attn_impl = "naive"'],
  implements: 'mla.decode',
  schema: mlaDecodeSchema,
  check: (c, caps) => checkMlaDecode(c, caps, STORAGE_BUFFERS),
  inputs: mlaDecodeInputs,
  outputs: mlaDecodeOutputs,
  scratch: (c) => [
    { name: 'kv_full', bytes: expandedBytes(c) },
    { name: 'scores', bytes: scoreBytes(c) },
  ],
  cost(c) {
    // Expanded K/V written once and read by scores and P·V; scores written, read and rewritten by softmax, read by P·V.
    const extra = 2 * expandedBytes(c) + 4 * scoreBytes(c);
    return costOf(c, naiveFlops(c), extra, latentCacheBytes(c) + expandedBytes(c));
  },
  randomInputs: mlaDecodeRandomInputs,
  reference: mlaDecodeReferenceFor,
  fromGolden: mlaDecodeFromGolden,
  goldenMeta: mlaDecodeGoldenMeta,
  async create(ctx, c) {
    const { layout, pipelines } = await kernelPipelines(
      ctx,
      { label: 'mla.decode_naive', wgsl, structs: { MlaParams }, elem: c.dtype as 'f32' | 'f16' },
      ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
      ['expand_main', 'scores_main', 'softmax_main', 'pv_main'] as const,
    );
    const b = ctx.buffers;
    const tensors: Record<string, GPUBuffer> = {};
    for (const spec of [...mlaDecodeInputs(c), ...mlaDecodeOutputs(c)]) tensors[spec.name] = b.storage(spec.name, tensorBytes(spec.shape, spec.dtype));
    const kvFull = b.storage('kv_full', expandedBytes(c));
    const scores = b.storage('scores', scoreBytes(c));
    const params = uniformBuffer(ctx, 'mla.decode_naive params', MlaParams, mlaParams(c));
    const group = bindGroup(ctx, layout, [params, tensors.q_nope!, tensors.q_pe!, tensors.kv_latent!, tensors.k_pe!, tensors.wkv_b!, kvFull, scores, tensors.out!]);
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const rows = c.T * c.H;
    const expandGrid = grid(Math.ceil(c.S / TILE) * Math.ceil((c.H * (c.dn + c.dv)) / TILE), maxDim);
    const scoreGrid = grid(rows * Math.ceil(c.S / WG), maxDim);
    const rowGrid = grid(rows, maxDim);
    const outGrid = grid(Math.ceil((rows * c.dv) / WG), maxDim);
    return {
      tensors,
      encode(pass) {
        pass.setBindGroup(0, group);
        pass.setPipeline(pipelines.expand_main);
        pass.dispatchWorkgroups(...expandGrid);
        pass.setPipeline(pipelines.scores_main);
        pass.dispatchWorkgroups(...scoreGrid);
        pass.setPipeline(pipelines.softmax_main);
        pass.dispatchWorkgroups(...rowGrid);
        pass.setPipeline(pipelines.pv_main);
        pass.dispatchWorkgroups(...outGrid);
      },
      destroy() {
        for (const buf of [...Object.values(tensors), kvFull, scores, params]) b.destroy(buf);
      },
    };
  },
  benchmarks: MLA_DECODE_BENCHMARKS,
  testCases: [
    ...MLA_DECODE_TEST_CASES,
    { name: 'any widths: odd d_c, d_rope = 6', config: { T: 2, S: 45, H: 3, dn: 5, dr: 6, dc: 19, dv: 11 } },
    { name: 'expansion spans several 64-wide tiles', config: { T: 1, S: 130, H: 5, dn: 24, dr: 2, dc: 70, dv: 40 } },
  ],
};
