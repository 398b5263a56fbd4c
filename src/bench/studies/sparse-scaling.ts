// The sparse-attention scaling study: dense flash attention against DSA (indexer + top-k + gathered attention, each
// stage's share from the runner's per-stage timing), sliding window and block-sparse, decode and prefill,
// over growing S; the cost model's ideal speed-up beside the measured one, and the crossover S.
import {
  crossoverS,
  scalingStudy,
  scalingTable,
  type ScalingMeasurement,
  type ScalingMethod,
  type ScalingOptions,
  type ScalingPhase,
  type ScalingPoint,
} from './sparse-scaling-runs.ts';
import type { StudyDigest } from '../result-schema.ts';
import { requireKernel, sig, type Study } from './study.ts';

/**
 * Decode keeps DeepSeek-V3.2's proportions (k = 2048, 32 query heads on one latent-sized KV head, 16:1
 * attention to indexer work) up to 32K. Prefill is chunked, as servers run long prompts: the last 256
 * queries of an S-token context, so every method's cost grows linearly in S and the study finishes on
 * CPU emulation; heads are scaled down (4 of 64, k = 256, a 256-token window, 8 blocks of 32).
 */
export const SCALING_PHASES: ScalingOptions[] = [
  { phase: 'decode', sizes: [1024, 2048, 4096, 8192, 16384, 32768] },
  {
    phase: 'prefill',
    sizes: [512, 1024, 2048, 4096],
    prefillT: 256,
    shape: { Hq: 4, Hkv: 1, D: 64, Hi: 1, Di: 32, topk: 256, window: 256, sinks: 4, block: 32, topBlocks: 8 },
  },
];

const points = (): ScalingPoint[] => SCALING_PHASES.flatMap((o) => scalingStudy(o));
const jobName = (p: ScalingPoint, method: ScalingMethod) => `${p.phase} S=${p.S} T=${p.T} ${method}`;
const NAME = /^(decode|prefill) S=(\d+) T=\d+ (dense|dsa|window|block)$/;

export const sparseScaling: Study = {
  id: 'sparse-scaling',
  question: 'Where does sparse attention beat dense? Dense flash vs DSA (with stage shares) vs sliding window vs block-sparse, decode S = 1K..32K and chunked prefill (256 queries) S = 512..4K',
  repeats: 3,
  warmup: 1,
  jobs(registry) {
    // DSA's stages are timed inside its own run (the runner times each stage of a staged instance), so
    // the separate per-stage runs of scalingStudy are not needed here.
    return points().flatMap((p) =>
      p.runs.filter((r) => r.stage === 'total').map((r) => ({ def: requireKernel(registry, r.kernel, 'sparse-scaling'), shape: { name: jobName(p, r.method), config: r.config } })),
    );
  },
  digest(file) {
    const measured: ScalingMeasurement[] = [];
    for (const r of file.results) {
      const m = NAME.exec(r.shape);
      if (!m) continue;
      const [phase, S, method] = [m[1] as ScalingPhase, Number(m[2]), m[3] as ScalingMethod];
      measured.push({ phase, S, method, stage: 'total', ms: r.medianMs });
      if (method === 'dsa') {
        for (const st of r.stages ?? []) {
          const stage = st.name === 'top-k' ? 'topk' : (st.name as 'indexer' | 'attention');
          measured.push({ phase, S, method, stage, ms: st.medianMs });
        }
      }
    }
    if (measured.length === 0) return undefined;
    const rows = scalingTable(points(), measured).filter((r) => r.denseMs !== undefined || r.dsaMs !== undefined);
    const pct = (x: number | undefined) => (x === undefined ? '—' : `${Math.round(x * 100)}%`);
    const notes: string[] = [];
    for (const phase of ['decode', 'prefill'] as const) {
      const ofPhase = rows.filter((r) => r.phase === phase);
      if (ofPhase.length === 0) continue;
      const x = crossoverS(ofPhase, 'dsa');
      const first = ofPhase[0]!.S;
      notes.push(
        x === undefined
          ? `${phase}: DSA never overtakes dense up to S = ${ofPhase.at(-1)!.S}`
          : x === first
            ? `${phase}: DSA is faster than dense at every measured S (from ${first}; the crossover lies below)`
            : `${phase}: DSA overtakes dense from S ≈ ${x} and stays ahead`,
      );
      const last = ofPhase.at(-1)!;
      const m = last.measured.dsa;
      if (m !== undefined) {
        const speed = m >= 1 ? `${m.toFixed(2)}x faster than dense` : `${(1 / m).toFixed(2)}x slower than dense`;
        notes.push(`${phase} at S = ${last.S}: DSA ${speed}; ideal (cost-model FLOPs) ${last.ideal.dsa.toFixed(2)}x faster, so ${Math.round((100 * m) / last.ideal.dsa)}% of the ideal`);
      }
    }
    return {
      id: 'sparse-scaling',
      title: 'sparse attention scaling (ms are medians; speed-up = dense ms / method ms; ideal from cost-model FLOPs)',
      columns: ['phase', 'S', 'dense ms', 'DSA ms', 'indexer', 'top-k', 'attention', 'window ms', 'block ms', 'DSA ideal', 'DSA meas.', 'window ideal', 'window meas.', 'block ideal', 'block meas.'],
      rows: rows.map((r) => [
        r.phase,
        r.S,
        sig(r.denseMs),
        sig(r.dsaMs),
        pct(r.dsaStages.indexer?.share),
        pct(r.dsaStages.topk?.share),
        pct(r.dsaStages.attention?.share),
        sig(r.windowMs),
        sig(r.blockMs),
        sig(r.ideal.dsa),
        sig(r.measured.dsa),
        sig(r.ideal.window),
        sig(r.measured.window),
        sig(r.ideal.block),
        sig(r.measured.block),
      ]),
      notes,
    } satisfies StudyDigest;
  },
};
