// mla.decode_naive: host side of shaders/mla/decode-naive.wgsl. The reference's attn_impl = "naive":
// the latent cache is expanded to per-head K and V, then attention runs per head. The baseline the absorbed
// kernel is measured against; its expanded buffer is the MHA-sized cache MLA avoids storing.
import wgsl from '../../../shaders/mla/decode-naive.wgsl?raw';
import { storage, storageBindingCount, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { KernelDefinition } from '../contract.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
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

/** Softmax threads (a power of two) and expand_main's GEMM tile (TM x TN outputs, TK-deep slices), injected. */
const CONSTANTS = { WG: 256, TM: 64, TN: 64, TK: 8, PAD: 65 } as const;
const { TM, TN, TK, PAD, WG } = CONSTANTS;

const BINDINGS = {
  params: uniform(MlaParams),
  q_nope: storage('elem'),
  q_pe: storage('elem'),
  kv_latent: storage('elem'),
  k_pe: storage('elem'),
  wkv_b: storage('elem'),
  kv_full: storage('f32', 'read_write'),
  scores: storage('f32', 'read_write'),
  out: storage('elem', 'read_write'),
};

const WORKGROUP = {
  a_tile: workgroupArray('f32', TK * PAD),
  b_tile: workgroupArray('f32', TK * PAD),
  reduce_scratch: workgroupArray('f32', WG),
};

/** The expanded cache: per token and head, dn key values and dv value values, f32. */
export function expandedBytes(c: MlaDecodeConfig): number {
  return c.S * c.H * (c.dn + c.dv) * 4;
}

/** The inputs and output; the expanded K/V and the T*H x S score matrix (both f32); the parameters. */
function naivePlan(c: MlaDecodeConfig) {
  return {
    ...plannedTensors(mlaDecodeInputs(c), mlaDecodeOutputs(c), ['q_nope', 'q_pe', 'kv_latent', 'k_pe', 'wkv_b', 'out']),
    kv_full: planned('scratch', expandedBytes(c)),
    scores: planned('scratch', c.T * c.H * c.S * 4),
    params: plannedUniform(MlaParams, mlaParams(c)),
  };
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
  check: (c, caps) => checkMlaDecode(c, caps, storageBindingCount(BINDINGS)),
  inputs: mlaDecodeInputs,
  outputs: mlaDecodeOutputs,
  plan: naivePlan,
  scratch: (c) => planScratch(naivePlan(c)),
  cost(c) {
    // Expanded K/V written once and read by scores and P·V; scores written, read and rewritten by softmax, read by P·V.
    const extra = 2 * expandedBytes(c) + 4 * naivePlan(c).scores.bytes;
    return costOf(c, naiveFlops(c), extra, latentCacheBytes(c) + expandedBytes(c));
  },
  randomInputs: mlaDecodeRandomInputs,
  reference: mlaDecodeReferenceFor,
  fromGolden: mlaDecodeFromGolden,
  goldenMeta: mlaDecodeGoldenMeta,
  async create(ctx, c) {
    const kernel = await createKernel(
      ctx,
      { label: 'mla.decode_naive', wgsl, elem: c.dtype, bindings: BINDINGS, constants: CONSTANTS, workgroup: WORKGROUP },
      ['expand_main', 'scores_main', 'softmax_main', 'pv_main'] as const,
    );
    const made = allocate(ctx, 'mla.decode_naive', naivePlan(c));
    const group = kernel.bind(made.buffers);
    const { pipelines } = kernel;
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const rows = c.T * c.H;
    const expandGrid = grid(Math.ceil(c.S / TM) * Math.ceil((c.H * (c.dn + c.dv)) / TN), maxDim);
    const scoreGrid = grid(rows * Math.ceil(c.S / WG), maxDim);
    const rowGrid = grid(rows, maxDim);
    const outGrid = grid(Math.ceil((rows * c.dv) / WG), maxDim);
    return {
      tensors: made.tensors,
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
      destroy: made.destroy,
    };
  },
  benchmarks: MLA_DECODE_BENCHMARKS,
  testCases: [
    ...MLA_DECODE_TEST_CASES,
    { name: 'expansion spans several 64-wide tiles', config: { T: 1, S: 130, H: 5, dn: 24, dr: 2, dc: 70, dv: 40 } },
  ],
};
