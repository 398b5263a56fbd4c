// What differs between the four technique pages: which family's kernels they list, which kernel opens
// first, what the time chart sweeps (context length, or tokens for MoE), which kernel is the dense
// baseline for a given one (configs mapped field by field), and which picture the page draws. Everything
// else (forms, runs, badges, charts) is generic over the registry.
import { withDefaults, type AnyKernel, type Config } from '../../kernels/contract.ts';
import type { SweepSeries } from '../run/context-sweep.ts';
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
  },
};

/** The kernel a page opens with: URL choice, else the first preferred one registered, else the family's first. */
export function defaultKernel(page: FamilyPage, kernels: readonly AnyKernel[], wanted?: string | null): AnyKernel | undefined {
  const mine = kernels.filter((k) => k.family === page.family);
  return mine.find((k) => k.id === wanted) ?? page.preferred.map((id) => mine.find((k) => k.id === id)).find((k) => k) ?? mine[0];
}
