// The `attention.dense` golden format: metadata (causal, optional scale) + q/k/v shapes <-> config.
import { ConfigError } from '../../gpu/errors.ts';
import { metaBool, metaNumber, type Metadata } from '../common/metadata.ts';
import { requiredTensor } from '../common/rules.ts';
import type { AttentionConfig } from './attention-config.ts';

/** attention.dense golden metadata + q/k/v shapes -> config (f32, as the files are). */
export function attentionFromGolden(meta: Metadata, shapes: Record<string, number[]>): AttentionConfig {
  const [T, Hq, D] = requiredTensor(shapes, 'q', 3) as [number, number, number];
  const [S, Hkv, Dk] = requiredTensor(shapes, 'k', 3) as [number, number, number];
  const vs = requiredTensor(shapes, 'v', 3);
  if (Dk !== D || vs[0] !== S || vs[1] !== Hkv || vs[2] !== D) {
    throw new ConfigError([{ field: 'k/v', message: `shapes k [${shapes.k}] and v [${vs}] do not agree with q [${shapes.q}]` }]);
  }
  // An absent scale means 1/sqrt(D) (config 0); a written one must be a positive decimal.
  const scale = metaNumber(meta, 'scale', { positive: true, fallback: 0 });
  return { T, S, Hq, Hkv, D, causal: metaBool(meta, 'causal', true), scale, dtype: 'f32' };
}

export function attentionGoldenMeta(c: AttentionConfig): Metadata {
  return { causal: c.causal ? '1' : '0', ...(c.scale > 0 ? { scale: String(c.scale) } : {}) };
}
