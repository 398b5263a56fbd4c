// The `layer.deepseek_v32` golden format: DeepSeek-V3.2's hyper-parameters under their config names (integers,
// and decimals for route_scale, rope_theta, softmax_scale) + T and S, optional `attention` / `ffn` naming a
// variant other than upstream's Block (mla_dsa + moe), and every tensor at the shape they imply.
import { ConfigError } from '../../gpu/errors.ts';
import { metaEnum, metaInt, metaNumber, type Metadata } from '../common/metadata.ts';
import type { TensorSpec } from '../contract.ts';
import { ATTENTION_VARIANTS, FFN_VARIANTS, layerSchema, type LayerConfig } from './layer-config.ts';

const INTS = [
  'dim', 'n_heads', 'q_lora_rank', 'kv_lora_rank', 'qk_nope_head_dim', 'qk_rope_head_dim', 'v_head_dim', 'index_n_heads', 'index_head_dim',
  'index_topk', 'n_routed_experts', 'n_activated_experts', 'n_expert_groups', 'n_limited_groups', 'moe_inter_dim', 'n_shared_experts', 'T', 'S',
] as const;
const DECIMALS = ['route_scale', 'rope_theta', 'softmax_scale'] as const;

export function layerFromGolden(meta: Metadata, shapes: Record<string, number[]>, inputs: (c: LayerConfig) => TensorSpec[]): LayerConfig {
  const c = {
    attention: metaEnum(meta, 'attention', ATTENTION_VARIANTS, ATTENTION_VARIANTS[0]),
    ffn: metaEnum(meta, 'ffn', FFN_VARIANTS, FFN_VARIANTS[0]),
  } as LayerConfig;
  const record = c as unknown as Record<string, number>;
  for (const k of INTS) record[k] = metaInt(meta, k, { min: 1 });
  for (const k of DECIMALS) record[k] = metaNumber(meta, k, { positive: true });
  // The GQA variant's KV heads; absent from upstream's metadata (its default elsewhere).
  record.gqa_kv_heads = metaInt(meta, 'gqa_kv_heads', { min: 1, fallback: Number(layerSchema.gqa_kv_heads.default) });
  for (const spec of inputs(c)) {
    const got = shapes[spec.name];
    if (!got) throw new ConfigError([{ field: spec.name, message: 'tensor missing from the file' }]);
    if (got.join() !== spec.shape.join()) throw new ConfigError([{ field: spec.name, message: `shape [${got}] does not match the metadata's [${spec.shape}]` }]);
  }
  return c;
}

/** Decimal strings of every field; the variants only where they differ from upstream's Block. */
export function layerGoldenMeta(c: LayerConfig): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(c)) {
    if ((k === 'attention' && v === ATTENTION_VARIANTS[0]) || (k === 'ffn' && v === FFN_VARIANTS[0]) || (k === 'gqa_kv_heads' && c.attention !== 'gqa')) continue;
    out[k] = String(v);
  }
  return out;
}
