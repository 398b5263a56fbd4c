// The sparse-attention golden formats: `attention.sliding_window` (the dense-attention case plus window and
// sinks) and `sparse.dsa` (q/k/v plus the lightning indexer's tensors, topk) <-> config.
import { ConfigError } from '../../gpu/errors.ts';
import { attentionFromGolden, attentionGoldenMeta } from '../attention/attention-golden.ts';
import { metaBool, metaInt, metaNumber, type Metadata } from '../common/metadata.ts';
import { requiredTensor } from '../common/rules.ts';
import type { DsaConfig } from './dsa.ts';
import type { SlidingWindowConfig } from './sliding-window.ts';

type Shapes = Record<string, number[]>;

export function slidingWindowFromGolden(meta: Metadata, shapes: Shapes): SlidingWindowConfig {
  return { ...attentionFromGolden(meta, shapes), window: metaInt(meta, 'window', { min: 1 }), sinks: metaInt(meta, 'sinks', { min: 0, fallback: 0 }), selected: false };
}

export function slidingWindowGoldenMeta(c: SlidingWindowConfig): Metadata {
  return { ...attentionGoldenMeta(c), window: String(c.window), sinks: String(c.sinks) };
}

export function dsaFromGolden(meta: Metadata, shapes: Shapes): DsaConfig {
  const [T, Hq, D] = requiredTensor(shapes, 'q', 3) as [number, number, number];
  const [S, Hkv, Dk] = requiredTensor(shapes, 'k', 3) as [number, number, number];
  const v = requiredTensor(shapes, 'v', 3);
  const [Ti, Hi, Di] = requiredTensor(shapes, 'q_index', 3) as [number, number, number];
  const ki = requiredTensor(shapes, 'k_index', 2);
  const wi = requiredTensor(shapes, 'w_index', 2);
  const bad = (field: string, message: string) => new ConfigError([{ field, message }]);
  if (Dk !== D || v[0] !== S || v[1] !== Hkv || v[2] !== D) throw bad('k/v', `shapes k [${shapes.k}] and v [${v}] do not agree with q [${shapes.q}]`);
  if (Ti !== T || ki[0] !== S || ki[1] !== Di) throw bad('q_index/k_index', `q_index [${shapes.q_index}] and k_index [${ki}] need [T=${T}, Hi, Di] and [S=${S}, Di]`);
  if (wi[0] !== T || wi[1] !== Hi) throw bad('w_index', `[${wi}] must be [T=${T}, Hi=${Hi}]`);
  const topk = metaInt(meta, 'topk', { min: 1 });
  const scale = metaNumber(meta, 'scale', { positive: true, fallback: 0 });
  return { T, S, Hq, Hkv, D, Dr: 0, mode: 'gqa', topk, causal: metaBool(meta, 'causal', true), scale, Hi, Di };
}

export function dsaGoldenMeta(c: DsaConfig): Metadata {
  return { topk: String(c.topk), causal: c.causal ? '1' : '0', ...(c.scale > 0 ? { scale: String(c.scale) } : {}) };
}
