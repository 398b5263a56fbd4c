// Inputs of the decoder layer: the tensors a variant reads (upstream Block state-dict names), random weights
// scaled as trained ones are (unit-variance activations through every projection), and the decision margins of
// its two discrete choices: the indexer's top-k keys and the MoE's experts. An f32 layer reproduces a float64
// selection only where the k-th and (k+1)-th candidates are further apart than f32 rounding moves them, so
// fixtures and tests keep drawing until both margins clear a bound.
import type { HostTensor } from '../kernels/tensor.ts';
import { createRng, randomNormal, type Rng } from '../kernels/random.ts';
import { decoderLayerReference, denseFfnInter, type DecoderLayerConfig, type DecoderLayerResult, type LayerAttention, type LayerFfn } from './layer.ts';

/** [name, shape] of every tensor the layer reads, x first. The indexer weights only where the indexer runs. */
export function layerTensorShapes(c: DecoderLayerConfig, attention: LayerAttention, ffn: LayerFfn): [string, number[]][] {
  const { dim, n_heads: H, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv, kv_lora_rank: dc, q_lora_rank: ql } = c;
  const Hi = c.index_n_heads;
  const Di = c.index_head_dim;
  const E = c.n_routed_experts;
  const I = c.moe_inter_dim;
  const SI = c.n_shared_experts * I;
  const DI = denseFfnInter(c);
  return [
    ['x', [c.S, dim]],
    ['attn_norm.weight', [dim]],
    ['attn.wq_a.weight', [ql, dim]],
    ['attn.q_norm.weight', [ql]],
    ['attn.wq_b.weight', [H * (dn + dr), ql]],
    ['attn.wkv_a.weight', [dc + dr, dim]],
    ['attn.kv_norm.weight', [dc]],
    ['attn.wkv_b.weight', [H * (dn + dv), dc]],
    ['attn.wo.weight', [dim, H * dv]],
    ...(attention === 'dsa'
      ? ([
          ['attn.indexer.wq_b.weight', [Hi * Di, ql]],
          ['attn.indexer.wk.weight', [Di, dim]],
          ['attn.indexer.k_norm.weight', [Di]],
          ['attn.indexer.k_norm.bias', [Di]],
          ['attn.indexer.weights_proj.weight', [Hi, dim]],
        ] as [string, number[]][])
      : []),
    ['ffn_norm.weight', [dim]],
    ...(ffn === 'moe'
      ? ([
          ['ffn.gate.weight', [E, dim]],
          ['ffn.gate.bias', [E]],
          ['ffn.experts.w1', [E, I, dim]],
          ['ffn.experts.w2', [E, dim, I]],
          ['ffn.experts.w3', [E, I, dim]],
          ['ffn.shared_experts.w1.weight', [SI, dim]],
          ['ffn.shared_experts.w2.weight', [dim, SI]],
          ['ffn.shared_experts.w3.weight', [SI, dim]],
        ] as [string, number[]][])
      : ([
          ['ffn.w1.weight', [DI, dim]],
          ['ffn.w2.weight', [dim, DI]],
          ['ffn.w3.weight', [DI, dim]],
        ] as [string, number[]][])),
  ];
}

/** Linear weights N(0, 1/in) (activations stay O(1)), norm weights 1 + N(0, 0.1^2), biases N(0, 0.1^2). */
export function randomLayerWeights(rng: Rng, c: DecoderLayerConfig, attention: LayerAttention = 'dsa', ffn: LayerFfn = 'moe'): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [name, shape] of layerTensorShapes(c, attention, ffn)) {
    if (name === 'x') out[name] = randomNormal(rng, shape);
    else if (name.endsWith('.bias')) out[name] = randomNormal(rng, shape, 0.1);
    else if (shape.length === 1) out[name] = { shape, data: Float32Array.from(randomNormal(rng, shape, 0.1).data, (v) => 1 + v) };
    else out[name] = randomNormal(rng, shape, 1 / Math.sqrt(shape[shape.length - 1]!));
  }
  return out;
}

export interface SelectionMargins {
  /** Smallest gap between the k-th and (k+1)-th index score of a query, over the largest |score| of its row (Infinity: nothing left out). */
  keys: number;
  /** Smallest gap, on the biased sigmoid scale, between the last kept and the first dropped group or expert (Infinity: no choice). */
  experts: number;
}

const desc = (v: number[]) => [...v].sort((a, b) => b - a);

export function selectionMargins(w: Record<string, HostTensor>, c: DecoderLayerConfig, r: DecoderLayerResult): SelectionMargins {
  let keys = Infinity;
  const scores = r.trace.indexScores;
  const k = Math.min(c.index_topk, c.S);
  if (scores) {
    for (let t = 0; t < c.T; t++) {
      const n = c.S - c.T + t + 1;
      if (n <= k) continue;
      const row = desc(Array.from(scores.data.slice(t * c.S, t * c.S + n)));
      // Both exactly 0: keys whose every head's q.k <= 0 (ReLU); f32 clamps them to the same 0 unless a q.k is
      // within rounding of 0, and the tie goes to the lower index in both.
      if (row[k - 1] === 0 && row[k] === 0) continue;
      const scale = Math.max(...row.map(Math.abs)) || 1;
      keys = Math.min(keys, (row[k - 1]! - row[k]!) / scale);
    }
  }
  let experts = Infinity;
  const gw = w['ffn.gate.weight'];
  if (gw) {
    const { dim, n_routed_experts: E, n_expert_groups: G, n_limited_groups: L, n_activated_experts: K } = c;
    const x = r.trace.ffnIn.data;
    for (let t = 0; t < c.T; t++) {
      const key = Array.from({ length: E }, (_, e) => {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += x[t * dim + i]! * gw.data[e * dim + i]!;
        return 1 / (1 + Math.exp(-dot)) + w['ffn.gate.bias']!.data[e]!;
      });
      const per = E / G;
      let allowed = key.map((_, e) => e);
      if (G > 1) {
        const group = Array.from({ length: G }, (_, g) => desc(key.slice(g * per, (g + 1) * per)).slice(0, 2).reduce((a, b) => a + b, 0));
        const ranked = desc(group);
        if (G > L) experts = Math.min(experts, ranked[L - 1]! - ranked[L]!);
        const cut = ranked[L - 1]!;
        allowed = allowed.filter((e) => group[Math.floor(e / per)]! >= cut);
      }
      const cand = desc(allowed.map((e) => key[e]!));
      if (cand.length > K) experts = Math.min(experts, cand[K - 1]! - cand[K]!);
    }
  }
  return { keys, experts };
}

/** Bounds both margins must clear: f32 moves an index score by ~1e-6 of its row's scale and a gate score by ~1e-7. */
export const MIN_MARGINS: SelectionMargins = { keys: 1e-3, experts: 1e-3 };

/**
 * Weights whose selections clear MIN_MARGINS, drawn from `rng` (each retry from a seed it gives); the draw
 * whose smaller margin is largest if none of `tries` clears both (callers report the margins they got).
 */
export function marginSafeLayerWeights(
  rng: Rng,
  c: DecoderLayerConfig,
  attention: LayerAttention,
  ffn: LayerFfn,
  tries = 200,
): { weights: Record<string, HostTensor>; result: DecoderLayerResult; margins: SelectionMargins } {
  let best: { weights: Record<string, HostTensor>; result: DecoderLayerResult; margins: SelectionMargins } | undefined;
  const worst = (m: SelectionMargins) => Math.min(m.keys / MIN_MARGINS.keys, m.experts / MIN_MARGINS.experts);
  for (let i = 0; i < tries; i++) {
    const weights = randomLayerWeights(createRng(Math.floor(rng.next() * 2 ** 31)), c, attention, ffn);
    const result = decoderLayerReference(weights, c, attention, ffn);
    const margins = selectionMargins(weights, c, result);
    if (!best || worst(margins) > worst(best.margins)) best = { weights, result, margins };
    if (worst(margins) >= 1) break;
  }
  return best!;
}
