// The MoE study: where one MoE layer spends its time (router, dispatch, experts, combine) at prefill
// and decode, each stage timed between timestamps at its boundaries inside moe.forward's runs, beside the grouped FFN's GB/s at decode
// (decode is expert-weight-bandwidth-bound) and the dense FFN of the same active parameters.
import type { KernelResult, StudyDigest } from '../result-schema.ts';
import { requireKernel, sig, type Study } from './study.ts';

// Sizes: prefill N = 4096 tokens and decode N = 1, 8, 64, with DeepSeek-V3's routing (64 of
// its 256 experts kept, top-8, 8 groups of which 4) and dims scaled down so CPU emulation finishes.
const ROUTING = { E: 64, topk: 8, n_groups: 8, topk_groups: 4 };
const PREFILL = { N: 4096, dim: 128, inter: 32 };
const DECODE = { dim: 512, inter: 256 };
const SIZES = [{ phase: 'prefill', ...PREFILL }, ...[1, 8, 64].map((N) => ({ phase: 'decode', N, ...DECODE }))];

const RUNS = SIZES.flatMap(({ phase, N, dim, inter }) => [
  { kernel: 'moe.forward', name: `${phase} scaled N=${N} dim=${dim} E=64 top-8 groups 8/4 inter=${inter} shared=${inter}`, config: { N, dim, inter, shared_inter: inter, ...ROUTING } },
  { kernel: 'moe.grouped_ffn', name: `${phase} scaled N=${N} E=64 top-8 dim=${dim} inter=${inter}`, config: { N, dim, inter, E: 64, topk: 8 } },
  // The dense FFN with the same active parameters: 8 routed + 1 shared expert of width inter.
  { kernel: 'moe.dense_ffn', name: `${phase} scaled N=${N} dim=${dim} inter=${9 * inter} (dense equivalent of top-8 + shared)`, config: { N, dim, inter: 9 * inter } },
]);

const pct = (x: number | undefined) => (x === undefined ? null : `${(x * 100).toFixed(1)}%`);
const share = (r: KernelResult, name: string) => r.stages?.find((s) => s.name === name);
const STAGES = ['router', 'dispatch', 'experts', 'combine'];

export const moeStages: Study = {
  id: 'moe',
  question: 'MoE layer at prefill (N = 4096) and decode (N = 1..64): time share of router / dispatch / experts / combine, grouped-FFN GB/s, dense-equivalent FFN',
  repeats: 5,
  warmup: 1,
  jobs: (registry) => RUNS.map((r) => ({ def: requireKernel(registry, r.kernel, 'moe'), shape: { name: r.name, config: r.config } })),
  digest(file) {
    const forward = file.results.filter((r) => r.kernel === 'moe.forward' && r.stages?.length);
    if (forward.length === 0) return undefined;
    const ffn = file.results.filter((r) => r.kernel === 'moe.grouped_ffn');
    const dense = file.results.filter((r) => r.kernel === 'moe.dense_ffn');
    const notes = ffn
      .filter((r) => r.shape.startsWith('decode'))
      .map((r) => `grouped FFN ${r.shape}: ${sig(r.medianMs)} ms, ${sig(r.gbps)} GB/s = ${(r.copyFraction * 100).toFixed(1)}% of copy bandwidth (expert weights read once per step)`);
    for (const d of dense) {
      const twin = forward.find((f) => f.config.N === d.config.N && f.config.dim === d.config.dim);
      if (twin) notes.push(`dense FFN with the same active parameters, N=${d.config.N}: ${sig(d.medianMs)} ms vs the whole MoE layer ${sig(twin.medianMs)} ms`);
    }
    return {
      id: 'moe',
      title: 'MoE layer: time per stage (timestamps at the stage boundaries of the same runs; share of their sum)',
      columns: ['shape', 'total ms', ...STAGES.flatMap((s) => [`${s} ms`, `${s} %`])],
      rows: forward.map((r) => [r.shape, sig(r.medianMs), ...STAGES.flatMap((s) => [sig(share(r, s)?.medianMs), pct(share(r, s)?.share)])]),
      notes,
    } satisfies StudyDigest;
  },
};
