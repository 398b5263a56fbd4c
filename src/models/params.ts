// Parameter counts from a preset's architecture, for sizing a deployment (weights + KV cache). Per layer:
//   attention  MLA: q (wq_a d·q_lora + wq_b q_lora·H·(dn+dr), or wq d·H·(dn+dr) without q_lora), wkv_a d·(dc+dr),
//              wkv_b dc·H·(dn+dv), wo H·dv·d; DSA adds the indexer's wq_b q_lora·Hi·Di, wk d·Di, weights_proj d·Hi
//              dense: wq d·H·d_h, wk and wv d·n_kv·d_h each, wo H·d_h·d
//   FFN        dense SwiGLU 3·d·inter; MoE 3·d·moe_inter per routed and per shared expert, plus the router E·d
// plus the embedding and the output head (vocab·d each, once when tied). Norms, biases and sinks are a few
// vectors per layer and are left out (under 0.01% for every preset here).
import type { ModelArch, ModelPreset } from './presets.ts';

export interface ParamCount {
  embeddings: number;
  attention: number;
  /** Dense FFN layers (all layers of a dense model; the first_k_dense_replace layers of an MoE model). */
  denseFfn: number;
  /** Routed experts, shared experts and routers of the MoE layers. */
  moe: number;
  total: number;
}

function attentionPerLayer(a: ModelArch): number {
  const d = a.hidden;
  if (a.mla) {
    const m = a.mla;
    const qk = m.qkNopeHeadDim + m.qkRopeHeadDim;
    const q = m.qLoraRank > 0 ? d * m.qLoraRank + m.qLoraRank * a.heads * qk : d * a.heads * qk;
    const mla = q + d * (m.kvLoraRank + m.qkRopeHeadDim) + m.kvLoraRank * a.heads * (m.qkNopeHeadDim + m.vHeadDim) + a.heads * m.vHeadDim * d;
    const idx = a.dsa ? m.qLoraRank * a.dsa.indexHeads * a.dsa.indexHeadDim + d * a.dsa.indexHeadDim + d * a.dsa.indexHeads : 0;
    return mla + idx;
  }
  return d * a.heads * a.headDim + 2 * d * a.kvHeads * a.headDim + a.heads * a.headDim * d;
}

export function paramCount(p: ModelPreset): ParamCount {
  const a = p.arch;
  const embeddings = a.vocab * a.hidden * (a.tiedEmbeddings ? 1 : 2);
  const attention = attentionPerLayer(a) * a.layers;
  const denseLayers = a.moe ? a.moe.firstDenseLayers : a.layers;
  const denseFfn = denseLayers * 3 * a.hidden * a.intermediate;
  const moe = a.moe
    ? (a.layers - a.moe.firstDenseLayers) * ((a.moe.routedExperts + a.moe.sharedExperts) * 3 * a.hidden * a.moe.moeIntermediateSize + a.moe.routedExperts * a.hidden)
    : 0;
  return { embeddings, attention, denseFfn, moe, total: embeddings + attention + denseFfn + moe };
}

export type WeightDType = 'bf16' | 'fp8' | 'mxfp4';
export const WEIGHT_DTYPES: readonly WeightDType[] = ['bf16', 'fp8', 'mxfp4'];
/**
 * Bytes per parameter: bf16 2; fp8 1 (DeepSeek's released FP8 weights add one f32 scale per 128x128 block,
 * 4/16384 B per parameter, left out); mxfp4 4 bits plus one 8-bit scale per 32 values = 4.25 bits (gpt-oss's experts).
 */
export const WEIGHT_DTYPE_BYTES: Record<WeightDType, number> = { bf16: 2, fp8: 1, mxfp4: 4.25 / 8 };
