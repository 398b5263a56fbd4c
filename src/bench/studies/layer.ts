// The decoder-layer study: one DeepSeek-V3.2 layer's decode step (T = 1) at S = 1K..8K, every stage timed in the
// same runs, for the variants on the same weights; and the waterfall from a dense MHA + dense FFN layer to V3.2,
// each step's measured ms and the unscaled model's bytes and FLOPs per token beside it.
// Shapes are DeepSeek-V3.2's with the widths that set a CPU-emulated run's length scaled down (SCALE_FACTORS);
// the per-head dims, the latent row and index_topk = 2048 are kept, so the attention stages see real row sizes.
import { withDefaults } from '../../kernels/contract.ts';
import { deepseekV32Layer } from '../../kernels/layer/deepseek-v32.ts';
import { dims, layerStageCosts, perHeadCache, SCALE_FACTORS, SCALED, V32, type LayerConfig } from '../../kernels/layer/layer-config.ts';

export { SCALED, V32 } from '../../kernels/layer/layer-config.ts';
import type { KernelResult, StudyDigest } from '../result-schema.ts';
import { requireKernel, sig, type Study } from './study.ts';

// Largest first: a run cut short (Ctrl-C) keeps the point where the sparse and dense variants differ most.
export const LAYER_SIZES = [8192, 1024, 4096, 2048];

/** The waterfall, one trick per step, from a dense layer to V3.2 (each a variant of the same weights). */
export const WATERFALL = [
  { label: 'MHA + dense FFN', attention: 'mha', ffn: 'dense' },
  { label: '+ GQA (KV heads mean-pooled)', attention: 'gqa', ffn: 'dense' },
  { label: 'MLA (absorbed) for GQA', attention: 'mla_dense', ffn: 'dense' },
  { label: '+ MoE = V3', attention: 'mla_dense', ffn: 'moe' },
  { label: '+ DSA = V3.2', attention: 'mla_dsa', ffn: 'moe' },
] as const;

const jobName = (S: number, attention: string, ffn: string) => `decode S=${S} ${attention} + ${ffn} (scaled V3.2)`;
const NAME = /^decode S=(\d+) (\w+) \+ (\w+) \(scaled V3\.2\)$/;

const config = (S: number, attention: string, ffn: string, base = SCALED) => withDefaults(deepseekV32Layer, { ...base, T: 1, S, attention, ffn });

/** Stage groups of the stacked bar (the instance's stage names, cache fill left out: it stands for earlier steps). */
export const GROUPS: [string, string[]][] = [
  ['cache write', ['kv + index-key write']],
  ['q proj', ['q projection']],
  ['index q', ['index queries']],
  ['indexer', ['indexer']],
  ['top-k', ['top-k']],
  ['attention', ['absorb W_UK', 'attention', 'un-absorb W_UV']],
  ['wo', ['output projection']],
  ['norm + residual', ['residual + ffn_norm', 'residual']],
  ['FFN', ['router', 'dispatch', 'experts', 'combine', 'dense ffn']],
];

function stepMs(r: KernelResult): number | undefined {
  if (!r.stages?.length) return undefined;
  return r.stages.filter((s) => s.name !== 'cache fill').reduce((a, s) => a + s.medianMs, 0);
}

/** KV-cache bytes one decode step reads, as deployed in bf16 (indexer keys: 128 FP8 values + a 4-byte scale). */
export function deployedKvRead(c: LayerConfig): number {
  const l = dims(c);
  if (perHeadCache(c)) return c.S * l.G * (l.dn + l.dr + l.dv) * 2;
  if (c.attention === 'mla_dsa') return l.topk * l.D * 2 + c.S * (l.Di + 4);
  return c.S * l.D * 2;
}

/** KV-cache bytes stored per token and layer, as deployed (bf16; FlashMLA's FP8 record in the notes). */
export function deployedKvPerToken(c: LayerConfig): number {
  const l = dims(c);
  if (perHeadCache(c)) return l.G * (l.dn + l.dr + l.dv) * 2;
  return l.D * 2 + (c.attention === 'mla_dsa' ? l.Di + 4 : 0);
}

/** The unscaled model's FLOPs of this decode step (the cost model of the same stages). */
export const stepFlops = (c: LayerConfig) => layerStageCosts(c).filter((s) => s.name !== 'cache fill').reduce((a, s) => a + s.cost.flops, 0);

function measuredRuns(file: { results: KernelResult[] }) {
  const out: { S: number; attention: string; ffn: string; r: KernelResult }[] = [];
  for (const r of file.results) {
    const m = r.kernel === 'layer.deepseek_v32' ? NAME.exec(r.shape) : null;
    if (m) out.push({ S: Number(m[1]), attention: m[2]!, ffn: m[3]!, r });
  }
  return out;
}

const factorNote = `GQA: gqa_kv_heads = 8 unscaled (16 query heads per KV head); the 8 scaled heads share 1 (a group of 8, the nearest to 16 they allow). scaled shape: ${Object.entries(SCALE_FACTORS).map(([k, f]) => `${k} ${V32[k as keyof LayerConfig]}/${f} = ${SCALED[k as keyof LayerConfig]}`).join(', ')}; kept: head dims 128/64/128, latent 512 + 64, index_head_dim 128, index_topk 2048`;

export const layerStages: Study = {
  id: 'layer',
  question: 'One DeepSeek-V3.2 decoder layer at decode, S = 1K..8K: time per stage for V3.2 / V3 / MHA / GQA attention and MoE / dense FFN on the same weights, and the waterfall from dense MHA + dense FFN to V3.2',
  repeats: 3,
  warmup: 1,
  jobs: (registry) => {
    const def = requireKernel(registry, 'layer.deepseek_v32', 'layer');
    return LAYER_SIZES.flatMap((S) => WATERFALL.map((v) => ({ def, shape: { name: jobName(S, v.attention, v.ffn), config: config(S, v.attention, v.ffn) } })));
  },
  digest(file) {
    const runs = measuredRuns(file).filter((x) => x.r.stages?.length);
    if (runs.length === 0) return undefined;
    const rows = runs
      .sort((a, b) => a.S - b.S || WATERFALL.findIndex((v) => v.attention === a.attention && v.ffn === a.ffn) - WATERFALL.findIndex((v) => v.attention === b.attention && v.ffn === b.ffn))
      .map(({ S, attention, ffn, r }) => {
        const ms = (names: string[]) => {
          const hit = r.stages!.filter((s) => names.includes(s.name));
          return hit.length ? sig(hit.reduce((a, s) => a + s.medianMs, 0)) : null;
        };
        const real = config(S, attention, ffn, V32);
        return [S, `${attention} + ${ffn}`, sig(stepMs(r)), ...GROUPS.map(([, names]) => ms(names)), sig(stepFlops(real) / 1e9), sig(deployedKvRead(real) / 2 ** 20)];
      });
    return {
      id: 'layer',
      title: 'decoder layer, decode T = 1: ms per stage (medians, timestamps at the stage boundaries of the same runs; cache fill of the S-1 earlier tokens excluded) with the unscaled model\'s per-token figures beside',
      columns: ['S', 'variant', 'step ms', ...GROUPS.map(([g]) => `${g} ms`), 'unscaled GFLOP/token', 'unscaled KV MiB read/token'],
      rows,
      notes: [factorNote, 'unscaled KV read: bf16 cache rows as deployed (MHA 2 B x 128 heads x (192 + 128) values per token, GQA 2 B x 8 KV heads x (192 + 128), MLA 576, DSA 2048 selected rows plus every token\'s 128-value FP8 index key and its scale)'],
    } satisfies StudyDigest;
  },
};

export const layerWaterfall: Study = {
  id: 'layer-waterfall',
  question: 'From a dense MHA + dense FFN layer to DeepSeek-V3.2, one trick at a time: measured ms saved per step, and the unscaled model\'s KV bytes and FLOPs per token saved',
  repeats: layerStages.repeats,
  warmup: layerStages.warmup,
  jobs: layerStages.jobs,
  digest(file) {
    const runs = measuredRuns(file).filter((x) => x.r.stages?.length);
    if (runs.length === 0) return undefined;
    const rows: (string | number | null)[][] = [];
    for (const S of [...new Set(runs.map((x) => x.S))].sort((a, b) => a - b)) {
      let prev: { ms?: number; kv: number; flops: number } | undefined;
      for (const v of WATERFALL) {
        const run = runs.find((x) => x.S === S && x.attention === v.attention && x.ffn === v.ffn);
        const real = config(S, v.attention, v.ffn, V32);
        const now = { ms: run ? stepMs(run.r) : undefined, kv: deployedKvPerToken(real), flops: stepFlops(real) };
        const saved = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : sig(a - b));
        rows.push([S, v.label, sig(now.ms), saved(prev?.ms, now.ms), now.kv, prev ? prev.kv - now.kv : null, sig(now.flops / 1e9), saved(prev && prev.flops / 1e9, now.flops / 1e9)]);
        prev = now;
      }
    }
    return {
      id: 'layer-waterfall',
      title: 'waterfall, decode T = 1 (ms: scaled shape, measured step; KV bytes per token and GFLOP per token: the unscaled V3.2 layer, analytic)',
      columns: ['S', 'step', 'ms', 'ms saved', 'KV B/token', 'KV B saved', 'GFLOP/token', 'GFLOP saved'],
      rows,
      notes: [
        factorNote,
        'KV bytes per token in bf16; FlashMLA stores the latent row as an FP8 record (512 FP8 values + 4 scales + 64 bf16 RoPE values = 656 B), so V3.2 as deployed keeps 656 + 132 = 788 B per token and layer',
        'MoE against a dense FFN of the same active width costs the same FLOPs per token (router aside): what it buys is 256 experts\' capacity, 32x the dense FFN\'s parameters, at that per-token cost',
      ],
    } satisfies StudyDigest;
  },
};
