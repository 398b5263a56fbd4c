// attention.naive: host side of shaders/attention/naive.wgsl. The baseline whose T*Hq*S score buffer the
// UI shows next to flash attention's zero.
import wgsl from '../../../shaders/attention/naive.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import { workgroupArray } from '../../gpu/wgsl-declarations.ts';
import type { ConfigSchema, KernelDefinition } from '../contract.ts';
import { allocate, planScratch, planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { fitGridDimension } from '../common/rules.ts';
import { gemmCore } from '../common/gemm.ts';
import { roundTo } from '../tensor.ts';
import { attentionProbabilities, causalMask, fullMask } from '../../reference/attention.ts';
import { attentionFromGolden } from './attention-golden.ts';
import {
  AttentionParams,
  DENSE_ATTENTION,
  DENSE_TEST_CASES,
  attentionCost,
  attentionInputs,
  attentionOutputs,
  attentionParams,
  attentionReferenceFor,
  attentionSchema,
  checkAttention,
  effectiveScale,
  type AttentionConfig,
} from './attention-config.ts';

/** Softmax workgroup size (a power of two). */
const WG = 256;
/** GEMM blocks: 64 key (or head-dim) columns; 64 query rows, or 16 for a few queries (decode) so few rows are padding. */
const BN = 64;
const blockRows = (c: AttentionConfig) => (c.T <= 16 ? 16 : 64);
/** The scores GEMM reads K as B^T rows, the P.V GEMM reads V as [S, D] rows (naive.wgsl picks its loaders by that). */
const gemmOf = (c: AttentionConfig, bNK: boolean) => gemmCore({ bm: blockRows(c), bn: BN, bk: 16, bNK });

const BINDINGS = {
  params: uniform(AttentionParams),
  q: storage('elem'),
  k: storage('elem'),
  v: storage('elem'),
  scores: storage('f32', 'read_write'),
  out: storage('elem', 'read_write'),
};


/** q, k, v, out, the T x Hq x S score matrix (f32 whatever the storage type) and the parameters. */
function naivePlan(c: AttentionConfig) {
  return {
    ...plannedTensors(attentionInputs(c), attentionOutputs(c), ['q', 'k', 'v', 'out']),
    scores: planned('scratch', c.T * c.Hq * c.S * 4),
    params: plannedUniform(AttentionParams, attentionParams(c)),
  };
}

export const naiveAttention: KernelDefinition<AttentionConfig> = {
  ...DENSE_ATTENTION,
  id: 'attention.naive',
  title: 'Naive attention (materialised scores)',
  explain:
    'Computes S = QK^T, softmax(S) and PV as three separate passes, writing the full T x S score matrix per head to device memory and reading it back twice. ' +
    'Memory traffic grows with T*S*H, not with the size of Q, K and V: at long context it is bandwidth-bound on the scores alone. The baseline every other kernel here is compared to.',
  sources: ['Vaswani et al. 2017, "Attention Is All You Need", eq. 1'],
  check(c, caps) {
    const issues = checkAttention(c, caps);
    issues.push(
      ...fitGridDimension('S', c.S, Math.ceil(c.S / BN), 'key blocks', caps),
      ...fitGridDimension('T', c.T, Math.ceil(c.T / blockRows(c)), 'query blocks', caps),
      ...fitGridDimension('Hq', c.Hq, c.Hq, 'heads', caps),
    );
    return issues;
  },
  plan: naivePlan,
  scratch: (c) => planScratch(naivePlan(c)),
  cost(c) {
    const base = attentionCost(c);
    // Scores written once, read by softmax, written back, read by PV: 4 passes over T*Hq*S floats.
    const intermediateBytes = 4 * naivePlan(c).scores.bytes;
    return { ...base, bytes: base.bytes + intermediateBytes, intermediateBytes };
  },
  async create(ctx, c) {
    const module = (bNK: boolean, entries: readonly ('scores_main' | 'softmax_main' | 'pv_main')[]) => {
      const gemm = gemmOf(c, bNK);
      return createKernel(
        ctx,
        {
          label: 'attention.naive',
          wgsl,
          elem: c.dtype,
          bindings: BINDINGS,
          constants: { WG, ...gemm.constants },
          workgroup: { ...gemm.workgroup, reduce_scratch: workgroupArray('f32', WG) },
        },
        entries,
      );
    };
    const [qk, pv] = await Promise.all([module(true, ['scores_main', 'softmax_main']), module(false, ['pv_main'])]);
    const made = allocate(ctx, 'attention.naive', naivePlan(c));
    const { buffers } = made;
    const [qkGroup, pvGroup] = [qk.bind(buffers), pv.bind(buffers)];
    const rowGrid = grid(c.T * c.Hq, ctx.limits.maxComputeWorkgroupsPerDimension);
    const qBlocks = Math.ceil(c.T / blockRows(c));
    return {
      // The score buffer is named too: after the softmax pass it holds P (naiveAttentionWithProbs reads it).
      tensors: { ...made.tensors, scores: buffers.scores },
      encode(pass) {
        pass.setBindGroup(0, qkGroup);
        pass.setPipeline(qk.pipelines.scores_main);
        pass.dispatchWorkgroups(Math.ceil(c.S / BN), qBlocks, c.Hq);
        pass.setPipeline(qk.pipelines.softmax_main);
        pass.dispatchWorkgroups(...rowGrid);
        pass.setBindGroup(0, pvGroup);
        pass.setPipeline(pv.pipelines.pv_main);
        pass.dispatchWorkgroups(Math.ceil(c.D / BN), qBlocks, c.Hq);
      },
      destroy: made.destroy,
    };
  },
};

export type NaiveProbsConfig = AttentionConfig & { probs: boolean };

/**
 * attention.naive with an optional `probs` output [T, Hq, S] (f32): its score buffer after the softmax pass,
 * for the UI's attention picture. Not registered: the registered kernel keeps the config every dense kernel
 * shares (the flash tests run attention.naive on their own configs); this variant adds the one field.
 */
export const naiveAttentionWithProbs: KernelDefinition<NaiveProbsConfig> = {
  ...(naiveAttention as unknown as KernelDefinition<NaiveProbsConfig>),
  title: 'Naive attention, with the probabilities as an output',
  schema: {
    ...attentionSchema,
    probs: {
      type: 'bool',
      label: 'output probabilities',
      doc: 'also return P = softmax(scale * QK^T) [T, Hq, S], the score buffer after the softmax pass (for pictures; leave off for benchmarks)',
      default: false,
    },
  } as ConfigSchema<NaiveProbsConfig>,
  outputs: (c) => [...attentionOutputs(c), ...(c.probs ? [{ name: 'probs', shape: [c.T, c.Hq, c.S], dtype: 'f32' as const }] : [])],
  reference(inputs, c) {
    const ref = attentionReferenceFor(inputs, c);
    if (!c.probs) return ref;
    const dt = c.dtype;
    const probs = attentionProbabilities(roundTo(inputs.q!, dt), roundTo(inputs.k!, dt), { ...c, scale: effectiveScale(c) }, c.causal ? causalMask : fullMask);
    return { ...ref, probs };
  },
  fromGolden: (meta, shapes) => ({ ...attentionFromGolden(meta, shapes), probs: false }),
  async create(ctx, c) {
    const instance = await naiveAttention.create(ctx, c);
    return c.probs ? { ...instance, tensors: { ...instance.tensors, probs: instance.tensors.scores! } } : instance;
  },
  testCases: [...DENSE_TEST_CASES.map((t) => ({ ...t, config: { ...t.config, probs: true } })), { name: 'probs off', config: { T: 3, S: 17, Hq: 2, Hkv: 1, D: 8, probs: false } }],
};
