// attention.naive: host side of shaders/attention/naive.wgsl. The baseline whose T*Hq*S score buffer the
// UI shows next to flash attention's zero.
import wgsl from '../../../shaders/attention/naive.wgsl?raw';
import { bindGroup, grid, kernelPipelines } from '../../gpu/shader.ts';
import { uniformBuffer } from '../../gpu/shader.ts';
import type { KernelDefinition } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import {
  AttentionParams,
  DENSE_BENCHMARKS,
  DENSE_TEST_CASES,
  attentionCost,
  attentionFromGolden,
  attentionGoldenMeta,
  attentionInputs,
  attentionOutputs,
  attentionParams,
  attentionReferenceFor,
  attentionSchema,
  checkAttention,
  type AttentionConfig,
} from './attention-config.ts';

const WG = 256;

function scoreBytes(c: AttentionConfig): number {
  return c.T * c.Hq * c.S * 4;
}

export const naiveAttention: KernelDefinition<AttentionConfig> = {
  id: 'attention.naive',
  family: 'attention',
  title: 'Naive attention (materialised scores)',
  explain:
    'Computes S = QK^T, softmax(S) and PV as three separate passes, writing the full T x S score matrix per head to device memory and reading it back twice. ' +
    'Memory traffic grows with T*S*H, not with the size of Q, K and V: at long context it is bandwidth-bound on the scores alone. The baseline every other kernel here is compared to.',
  sources: ['Vaswani et al. 2017, "Attention Is All You Need", eq. 1'],
  implements: 'attention.dense',
  schema: attentionSchema,
  check: (c, caps) => checkAttention(c, caps),
  inputs: attentionInputs,
  outputs: attentionOutputs,
  scratch: (c) => [{ name: 'scores', bytes: scoreBytes(c) }],
  cost(c) {
    const base = attentionCost(c);
    // Scores written once, read by softmax, written back, read by PV: 4 passes over T*Hq*S floats.
    return { ...base, bytes: base.bytes + 4 * scoreBytes(c) };
  },
  reference: attentionReferenceFor,
  fromGolden: attentionFromGolden,
  goldenMeta: attentionGoldenMeta,
  async create(ctx, c) {
    const { layout, pipelines } = await kernelPipelines(
      ctx,
      { label: 'attention.naive', wgsl, structs: { AttentionParams }, elem: c.dtype as 'f32' | 'f16' },
      ['uniform', 'read', 'read', 'read', 'rw', 'rw'],
      ['scores_main', 'softmax_main', 'pv_main'] as const,
      { WG },
    );
    const b = ctx.buffers;
    const [qs, ks, vs] = attentionInputs(c);
    const tensors = {
      q: b.storage('q', tensorBytes(qs!.shape, qs!.dtype)),
      k: b.storage('k', tensorBytes(ks!.shape, ks!.dtype)),
      v: b.storage('v', tensorBytes(vs!.shape, vs!.dtype)),
      out: b.storage('out', tensorBytes(attentionOutputs(c)[0]!.shape, c.dtype as 'f32' | 'f16')),
    };
    const scores = b.storage('scores', scoreBytes(c));
    const params = uniformBuffer(ctx, 'attention.naive params', AttentionParams, attentionParams(c));
    const group = bindGroup(ctx, layout, [params, tensors.q, tensors.k, tensors.v, scores, tensors.out]);
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const rows = c.T * c.Hq;
    const scoreGrid = grid(rows * Math.ceil(c.S / WG), maxDim);
    const rowGrid = grid(rows, maxDim);
    const outGrid = grid(Math.ceil((rows * c.D) / WG), maxDim);
    return {
      tensors,
      encode(pass) {
        pass.setBindGroup(0, group);
        pass.setPipeline(pipelines.scores_main);
        pass.dispatchWorkgroups(...scoreGrid);
        pass.setPipeline(pipelines.softmax_main);
        pass.dispatchWorkgroups(...rowGrid);
        pass.setPipeline(pipelines.pv_main);
        pass.dispatchWorkgroups(...outGrid);
      },
      destroy() {
        for (const buf of [...Object.values(tensors), scores, params]) b.destroy(buf);
      },
    };
  },
  benchmarks: DENSE_BENCHMARKS,
  testCases: DENSE_TEST_CASES,
};
