// What differs between the four technique pages: which family's kernels they list, which kernel opens
// first, what the time chart sweeps (context length, or tokens for MoE), which kernel is the dense
// baseline for a given one (configs mapped field by field), and which picture the page draws. Everything
// else (forms, runs, badges, charts) is generic over the registry.
import { withDefaults, type AnyKernel, type Config } from '../../kernels/contract.ts';
import type { SweepSeries } from '../../bench/sweep.ts';
import { LESSONS, type Lesson } from './lessons.ts';

export type FamilyPageId = 'dense' | 'mla' | 'sparse' | 'moe';

export interface FamilyPage {
  id: FamilyPageId;
  family: AnyKernel['family'];
  heading: string;
  /** Kernel ids to open first, best first (the first one registered wins; else the family's first). */
  preferred: string[];
  sweepField: string;
  sweepLabel: string;
  defaultSweep: number[];
  /** The series the chart compares the chosen kernel with (kernels missing from the registry are skipped). */
  baselines(def: AnyKernel, config: Config, find: (id: string) => AnyKernel | undefined): SweepSeries[];
  picture: 'attention' | 'memory' | 'routing';
  lesson: Lesson;
  /**
   * Size fields a "scale down to fit" divides by one factor when a real model's shape does not fit this
   * device (widths and head counts, never the technique's own structure: experts, top-k, groups stay).
   */
  scaleFields: string[];
  /**
   * The page's opening shape on this kind of device, chosen so the chart's crossover falls inside the sweep:
   * scaled down on CPU emulation (a few seconds per run), the model's real shapes on a GPU.
   */
  opening(cpu: boolean): Opening;
  /** Sentences about this configuration the chart should say (why a crossover cannot happen in part of the range). */
  chartNotes?(config: Config, xs: readonly number[]): string[];
}

export interface Opening {
  kernel: string;
  config: Config;
  sweep: number[];
  /** Said on the chart: what this shape is and why it was chosen. */
  note: string;
}

/** `target`'s defaults overridden by every field of `config` that `target` also has, then by `extra`. */
export function mapConfig(target: AnyKernel, config: Config, extra: Config = {}): Config {
  const shared = Object.fromEntries(Object.entries(config).filter(([k]) => k in target.schema && !(k in extra)));
  return withDefaults(target, { ...shared, ...extra });
}

function series(find: (id: string) => AnyKernel | undefined, id: string, label: string, config: Config, extra: Config = {}): SweepSeries[] {
  const def = find(id);
  return def ? [{ label, def, config: mapConfig(def, config, extra) }] : [];
}

/** The dense flash kernel for this many queries (flash decoding holds at most 16 query rows). */
function denseFlash(config: Config): string {
  return typeof config.T === 'number' && config.T <= 16 ? 'attention.flash_decode' : 'attention.flash_prefill';
}

const isAttentionShaped = (def: AnyKernel) => ['T', 'S', 'Hq', 'Hkv', 'D'].every((f) => f in def.schema);

export const FAMILY_PAGES: Record<FamilyPageId, FamilyPage> = {
  dense: {
    id: 'dense',
    family: 'attention',
    heading: 'Dense attention: naive, FlashAttention, flash decoding',
    preferred: ['attention.flash_decode', 'attention.flash_prefill', 'attention.naive'],
    sweepField: 'S',
    sweepLabel: 'context length S (keys)',
    defaultSweep: [512, 1024, 2048, 4096, 8192],
    baselines(def, c, find) {
      if (def.id !== 'attention.naive') return series(find, 'attention.naive', 'naive (materialised scores)', c);
      const flash = denseFlash(c);
      return series(find, flash, flash.replace('attention.', ''), c);
    },
    picture: 'attention',
    lesson: LESSONS.dense,
    scaleFields: ['Hq', 'Hkv'],
    opening: (cpu): Opening =>
      cpu
        ? {
            kernel: 'attention.flash_decode',
            config: { T: 1, Hq: 8, Hkv: 2, D: 64 },
            sweep: [16, 64, 256, 1024, 2048],
            note: 'CPU emulation: 8 query / 2 KV heads of 64 dims (a GQA model has 32 / 8 of 128) so a run takes seconds; on a GPU this page opens at Llama-3-8B-like heads up to S = 64K.',
          }
        : {
            kernel: 'attention.flash_decode',
            config: { T: 1, Hq: 32, Hkv: 8, D: 128 },
            sweep: [1024, 4096, 16384, 65536],
            note: 'GQA decode at Llama-3-8B / Qwen3 proportions: 32 query heads sharing 8 KV heads of 128 dims.',
          },
  },
  mla: {
    id: 'mla',
    family: 'mla',
    heading: 'Multi-head Latent Attention and the KV cache',
    preferred: ['mla.decode_absorbed', 'mla.decode_naive', 'mla.compress'],
    sweepField: 'S',
    sweepLabel: 'cached tokens S',
    defaultSweep: [512, 1024, 2048, 4096, 8192],
    baselines(def, c, find) {
      if (!['H', 'dn', 'dr', 'dc', 'dv'].every((f) => f in def.schema)) return [];
      const other = def.id === 'mla.decode_absorbed' ? 'mla.decode_naive' : 'mla.decode_absorbed';
      const H = Number(c.H);
      // The MHA a model without MLA would run: same heads, keys of width dn + dr (rounded up for vec4 loads).
      const D = Math.ceil((Number(c.dn) + Number(c.dr)) / 4) * 4;
      return [
        ...series(find, other, other.replace('mla.', 'MLA '), c),
        ...series(find, 'attention.flash_decode', `MHA, same heads (flash_decode, D = ${D})`, c, { T: Math.min(Number(c.T), 16), Hq: H, Hkv: H, D }),
      ];
    },
    picture: 'memory',
    lesson: LESSONS.mla,
    scaleFields: ['H'],
    opening: (cpu): Opening =>
      cpu
        ? {
            kernel: 'mla.decode_absorbed',
            config: { T: 1, H: 4, dn: 128, dr: 64, dc: 512, dv: 128 },
            sweep: [256, 1024, 4096],
            note: "CPU emulation: DeepSeek-V3's head shapes with 4 of its 128 heads, so a run takes seconds; on a GPU this page opens with all 128 heads.",
          }
        : {
            kernel: 'mla.decode_absorbed',
            config: { T: 1, H: 128, dn: 128, dr: 64, dc: 512, dv: 128 },
            sweep: [1024, 4096, 16384, 65536],
            note: "DeepSeek-V3's real MLA shapes: 128 heads, latent 512 + RoPE 64, nope 128, v 128.",
          },
  },
  sparse: {
    id: 'sparse',
    family: 'sparse',
    heading: 'Sparse attention: DSA, sliding window with sinks, block selection',
    preferred: ['sparse.dsa', 'sparse.sliding_window', 'sparse.block_select', 'sparse.dsa_attention', 'sparse.indexer', 'sparse.topk'],
    sweepField: 'S',
    sweepLabel: 'context length S (keys)',
    defaultSweep: [512, 1024, 2048, 4096, 8192],
    baselines(def, c, find) {
      // V3.2's latent layout has no flash_decode twin (D 576 over one shared latent row): the kernel a
      // practitioner would run instead is absorbed MLA over every cached key, the same latent rows.
      if (isAttentionShaped(def) && c.mode === 'mla') {
        const D = Number(c.D);
        const Dr = Number(c.Dr);
        return series(find, 'mla.decode_absorbed', 'dense: absorbed MLA over all keys', c, {
          H: Number(c.Hq),
          dc: D - Dr,
          dr: Dr,
          ...(Number(c.scale) > 0 ? { softmax_scale: Number(c.scale) } : {}),
        });
      }
      if (isAttentionShaped(def)) {
        const flash = denseFlash(c);
        return series(find, flash, `dense ${flash.replace('attention.', '')}`, c, { causal: true });
      }
      if (def.id === 'sparse.topk') return series(find, 'sparse.sort_baseline', 'full bitonic sort', c);
      if (def.id === 'sparse.sort_baseline') return series(find, 'sparse.topk', 'radix select', c);
      return [];
    },
    picture: 'attention',
    lesson: LESSONS.sparse,
    scaleFields: ['Hq'],
    opening: (cpu): Opening =>
      cpu
        ? {
            kernel: 'sparse.dsa',
            config: { T: 1, Hq: 32, Hkv: 1, D: 128, Dr: 0, mode: 'gqa', topk: 256, Hi: 2, Di: 32, causal: true },
            sweep: [512, 2048, 8192],
            note:
              "CPU emulation: V3.2's proportions shrunk so the crossover falls inside the chart (measured here: between S = 2K and 8K): 32 heads of 128 dims over one shared KV head (like MLA's one latent row), an indexer of 2 heads x 32 dims (64 MACs per key against dense attention's 8192), top-k 256. On a GPU this page opens with V3.2's real shapes.",
          }
        : {
            kernel: 'sparse.dsa',
            config: { T: 1, Hq: 128, Hkv: 1, D: 576, Dr: 64, mode: 'mla', scale: 1 / Math.sqrt(192), topk: 2048, Hi: 64, Di: 128, causal: true },
            sweep: [1024, 2048, 4096, 16384, 65536],
            note: "DeepSeek-V3.2's real shapes: 128 heads over the 576-wide MLA latent row, an indexer of 64 heads x 128 dims, top-k 2048; the baseline is absorbed MLA over every key.",
          },
    chartNotes(c, xs) {
      const k = Number(c.topk);
      const low = xs.filter((x) => x <= k);
      return low.length && 'Hi' in c
        ? [`At S ≤ top-k = ${k} the indexer selects every key, so DSA can only add the indexer's cost to dense attention: the crossover needs S well above ${k}.`]
        : [];
    },
  },
  moe: {
    id: 'moe',
    family: 'moe',
    heading: 'Mixture-of-Experts routing, dispatch and load balance',
    preferred: ['moe.forward', 'moe.router', 'moe.grouped_ffn'],
    sweepField: 'N',
    sweepLabel: 'tokens N',
    defaultSweep: [1, 16, 64, 256, 1024],
    baselines(def, c, find) {
      // Two dense SwiGLU FFNs: the same active parameters per token (hidden (topk + shared) x expert width:
      // the same FLOPs, which MoE cannot beat), and the same total parameters (every expert's width: the
      // model quality MoE buys, at a fraction of the FLOPs and, at small batches, of the bytes read).
      if (def.id === 'moe.forward') {
        const inter = Number(c.inter);
        const shared = Number(c.shared_inter) || 0;
        return [
          ...series(find, 'moe.dense_ffn', 'dense FFN, same active parameters', c, { inter: Number(c.topk) * inter + shared }),
          ...series(find, 'moe.dense_ffn', 'dense FFN, same total parameters', c, { inter: Number(c.E) * inter + shared }),
        ];
      }
      if (def.id === 'moe.grouped_ffn') return series(find, 'moe.dense_ffn', 'dense FFN, same active parameters', c, { inter: Number(c.topk) * Number(c.inter) });
      return [];
    },
    picture: 'routing',
    lesson: LESSONS.moe,
    scaleFields: ['dim', 'inter', 'shared_inter'],
    opening: (cpu): Opening =>
      cpu
        ? {
            kernel: 'moe.forward',
            config: {},
            sweep: [1, 4, 16, 64],
            note: 'CPU emulation: a small MoE layer (hidden 64, 64 experts of width 32, top-8 in 4 of 8 groups, one shared expert) so a run takes seconds; on a GPU this page opens at hidden 1024 with 64 experts of 256.',
          }
        : {
            kernel: 'moe.forward',
            config: { dim: 1024, inter: 256, shared_inter: 256 },
            sweep: [1, 16, 64, 256, 1024, 4096],
            note: "DeepSeek-V3's routing (64 of its 256 experts, top-8 in 4 of 8 groups, one shared expert) at hidden 1024, expert width 256.",
          },
    chartNotes(c) {
      return 'E' in c
        ? [
            'The dense FFN of equal active parameters does the same FLOPs with one weight set and no routing: MoE cannot beat it. The dense FFN of equal total parameters is the model MoE replaces: that is the comparison MoE wins.',
          ]
        : [];
    },
  },
};

/** The kernel a page opens with: URL choice, else the first preferred one registered, else the family's first. */
export function defaultKernel(page: FamilyPage, kernels: readonly AnyKernel[], wanted?: string | null): AnyKernel | undefined {
  const mine = kernels.filter((k) => k.family === page.family);
  return mine.find((k) => k.id === wanted) ?? page.preferred.map((id) => mine.find((k) => k.id === id)).find((k) => k) ?? mine[0];
}
