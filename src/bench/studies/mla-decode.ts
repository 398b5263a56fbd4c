// The MLA decode study: one decode step at S = 1K..32K for MHA and GQA (flash decoding) against naive
// and absorbed MLA at DeepSeek-V3 head shapes (heads scaled down), with the KV-cache bytes each reads.
import type { BenchShape } from '../../kernels/contract.ts';
import { decodeShape } from '../../kernels/mla/mla-config.ts';
import type { KernelResult, StudyDigest } from '../result-schema.ts';
import { requireKernel, sig, type Study } from './study.ts';

interface SweepEntry {
  /** Registry id of the kernel to run. */
  kernel: string;
  shape: BenchShape;
}

/** Heads of the decode sweep: DeepSeek-V3's 128 scaled to 4 so the naive path's expansion finishes on CPU emulation. */
export const SWEEP_HEADS = 4;
/** The naive path stops here: its expansion GEMM, 2*S*d_c*H*(dn+dv) FLOPs, takes ~25 s a run at 8K on SwiftShader. */
const SWEEP_NAIVE_MAX_S = 8192;

/**
 * The decode sweep, S = 1K..32K at DeepSeek-V3 head shapes with 4 heads: MHA (flash_decode with
 * Hkv = H, D = 128, the MHA-equivalent of the formula 2*n_h*d_h), GQA (Hkv = 1, all heads on one KV head),
 * naive MLA (to SWEEP_NAIVE_MAX_S) and absorbed MLA. Too slow for SwiftShader's default suite; the bench CLI
 * runs it on request (`--study mla-decode`).
 */
export const MLA_DECODE_SWEEP: SweepEntry[] = [1024, 2048, 4096, 8192, 16384, 32768].flatMap((S) => {
  const H = SWEEP_HEADS;
  const scaled = `(DeepSeek-V3 heads scaled 128->${H})`;
  const attention = (Hkv: number, what: string): SweepEntry => ({
    kernel: 'attention.flash_decode',
    shape: { name: `${what} decode S=${S} Hq=${H} Hkv=${Hkv} D=128 ${scaled}`, config: { T: 1, S, Hq: H, Hkv, D: 128, causal: true } },
  });
  return [
    attention(H, 'MHA'),
    attention(1, 'GQA'),
    ...(S <= SWEEP_NAIVE_MAX_S ? [{ kernel: 'mla.decode_naive', shape: decodeShape(S, H) }] : []),
    { kernel: 'mla.decode_absorbed', shape: decodeShape(S, H) },
  ];
});

type Layout = 'MHA' | 'GQA' | 'MLA naive' | 'MLA absorbed';

function layoutOf(r: KernelResult): Layout | undefined {
  if (r.kernel === 'mla.decode_naive') return 'MLA naive';
  if (r.kernel === 'mla.decode_absorbed') return 'MLA absorbed';
  if (r.kernel === 'attention.flash_decode') return r.shape.startsWith('MHA ') ? 'MHA' : r.shape.startsWith('GQA ') ? 'GQA' : undefined;
  return undefined;
}

const LAYOUTS: Layout[] = ['MHA', 'GQA', 'MLA naive', 'MLA absorbed'];
const SWEEP_NAMES = new Set(MLA_DECODE_SWEEP.map((e) => e.shape.name));

export const mlaDecode: Study = {
  id: 'mla-decode',
  question: `Decode at S = 1K..32K: MHA vs GQA (flash decoding) vs naive vs absorbed MLA at DeepSeek-V3 head shapes (${SWEEP_HEADS} heads) — time and KV bytes read per step`,
  repeats: 3,
  warmup: 1,
  jobs: (registry) => MLA_DECODE_SWEEP.map((e) => ({ def: requireKernel(registry, e.kernel, 'mla-decode'), shape: e.shape })),
  digest(file) {
    const bySize = new Map<number, Partial<Record<Layout, KernelResult>>>();
    for (const r of file.results) {
      const layout = layoutOf(r);
      if (!layout || !SWEEP_NAMES.has(r.shape)) continue;
      const S = Number(r.config.S);
      bySize.set(S, { ...bySize.get(S), [layout]: r });
    }
    if (bySize.size === 0) return undefined;
    const sizes = [...bySize.keys()].sort((a, b) => a - b);
    const MiB = (b: number | undefined) => (b === undefined ? null : sig(b / 2 ** 20));
    const notes: string[] = [];
    const at8k = bySize.get(8192);
    if (at8k?.['MLA naive'] && at8k['MLA absorbed']) {
      const [n, a] = [at8k['MLA naive'], at8k['MLA absorbed']];
      notes.push(
        `S = 8192: absorbed ${sig(a.medianMs)} ms vs naive ${sig(n.medianMs)} ms = ${(n.medianMs / a.medianMs).toFixed(1)}x faster; ` +
          `cache bytes read per step ${MiB(a.cost.kvCacheBytes)} MiB (latent only) vs ${MiB(n.cost.kvCacheBytes)} MiB (latent + the expanded per-head K/V it writes and reads back)`,
      );
    }
    const last = bySize.get(sizes.at(-1)!)!;
    if (last.MHA && last['MLA absorbed']) {
      const speed = last.MHA.medianMs / last['MLA absorbed'].medianMs;
      // Absorbed MLA does ~(d_c + d_rope + d_c) / (2 d_h) = 4.25x the FLOPs of MHA per (head, key): it wins
      // where decode is bandwidth-bound (GPUs), not where it is compute-bound (CPU emulation).
      notes.push(
        `S = ${sizes.at(-1)}: absorbed MLA reads ${((last.MHA.cost.kvCacheBytes ?? 0) / (last['MLA absorbed'].cost.kvCacheBytes ?? 1)).toFixed(1)}x fewer cache bytes than MHA and ` +
          (speed >= 1 ? `runs ${speed.toFixed(2)}x faster` : `takes ${(1 / speed).toFixed(2)}x as long (its ${(last['MLA absorbed'].cost.flops / last.MHA.cost.flops).toFixed(1)}x FLOPs per step dominate on a compute-bound device)`),
      );
    }
    return {
      id: 'mla-decode',
      title: `decode step, ${SWEEP_HEADS} heads (ms medians; cache MiB = KV-cache bytes the step reads; % = of measured copy bandwidth)`,
      columns: ['S', ...LAYOUTS.flatMap((l) => [`${l} ms`, `${l} cache MiB`, `${l} %BW`])],
      rows: sizes.map((S) => {
        const row = bySize.get(S)!;
        return [S, ...LAYOUTS.flatMap((l) => [sig(row[l]?.medianMs), MiB(row[l]?.cost.kvCacheBytes), row[l] ? `${(row[l].copyFraction * 100).toFixed(1)}%` : null])];
      }),
      notes,
    } satisfies StudyDigest;
  },
};
