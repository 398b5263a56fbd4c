// The `mla.decode` golden format: metadata (softmax_scale, causal) + the five input shapes <-> config.
import { ConfigError } from '../../gpu/errors.ts';
import { metaBool, metaNumber, type Metadata } from '../common/metadata.ts';
import { requiredTensor } from '../common/rules.ts';
import { effectiveScale, type MlaDecodeConfig } from './mla-config.ts';

/** mla.decode golden metadata + tensor shapes -> config (f32, as the files are). */
export function mlaDecodeFromGolden(meta: Metadata, shapes: Record<string, number[]>): MlaDecodeConfig {
  const [T, H, dn] = requiredTensor(shapes, 'q_nope', 3) as [number, number, number];
  const [Tq, Hq, dr] = requiredTensor(shapes, 'q_pe', 3) as [number, number, number];
  const [S, dc] = requiredTensor(shapes, 'kv_latent', 2) as [number, number];
  const [Sk, drk] = requiredTensor(shapes, 'k_pe', 2) as [number, number];
  const [rows, dcw] = requiredTensor(shapes, 'wkv_b', 2) as [number, number];
  if (Tq !== T || Hq !== H) throw new ConfigError([{ field: 'q_pe', message: `shape [${shapes.q_pe}] does not match q_nope [${shapes.q_nope}] in T and H` }]);
  if (Sk !== S || drk !== dr) throw new ConfigError([{ field: 'k_pe', message: `shape [${shapes.k_pe}] must be [S = ${S}, dr = ${dr}]` }]);
  if (dcw !== dc) throw new ConfigError([{ field: 'wkv_b', message: `has ${dcw} columns, but kv_latent has d_c = ${dc}` }]);
  if (rows % H !== 0 || rows / H <= dn) {
    throw new ConfigError([{ field: 'wkv_b', message: `${rows} rows is not H = ${H} heads of dn = ${dn} W_UK rows plus dv >= 1 W_UV rows` }]);
  }
  // Required: the model's own scale (YaRN's mscale^2 included) cannot be derived from the shapes.
  const softmax_scale = metaNumber(meta, 'softmax_scale', { positive: true });
  return { T, S, H, dn, dr, dc, dv: rows / H - dn, causal: metaBool(meta, 'causal', true), softmax_scale, dtype: 'f32' };
}

export function mlaDecodeGoldenMeta(c: MlaDecodeConfig): Metadata {
  return { softmax_scale: String(effectiveScale(c)), causal: c.causal ? '1' : '0' };
}
