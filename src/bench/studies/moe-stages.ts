// Issue 5's MoE study: where one MoE layer spends its time (router, dispatch, experts, combine) at prefill
// and decode, each stage timed alone inside moe.forward's run, beside the grouped FFN's GB/s at decode
// (decode is expert-weight-bandwidth-bound) and the dense FFN of the same active parameters.
import { selectJobs } from '../suite.ts';
import type { KernelResult, StudyDigest } from '../result-schema.ts';
import { sig, type Study } from './study.ts';

const pct = (x: number | undefined) => (x === undefined ? null : `${(x * 100).toFixed(1)}%`);
const share = (r: KernelResult, name: string) => r.stages?.find((s) => s.name === name);
const STAGES = ['router', 'dispatch', 'experts', 'combine'];

export const moeStages: Study = {
  id: 'moe',
  question: 'MoE layer at prefill (N = 4096) and decode (N = 1..64): time share of router / dispatch / experts / combine, grouped-FFN GB/s, dense-equivalent FFN',
  repeats: 5,
  warmup: 1,
  jobs: (registry) => selectJobs(registry, { kernels: ['moe.forward', 'moe.grouped_ffn', 'moe.dense_ffn'] }),
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
      title: 'MoE layer: time per stage (each stage timed alone; share of their sum)',
      columns: ['shape', 'total ms', ...STAGES.flatMap((s) => [`${s} ms`, `${s} %`])],
      rows: forward.map((r) => [r.shape, sig(r.medianMs), ...STAGES.flatMap((s) => [sig(share(r, s)?.medianMs), pct(share(r, s)?.share)])]),
      notes,
    } satisfies StudyDigest;
  },
};
