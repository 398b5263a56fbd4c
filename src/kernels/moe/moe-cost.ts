// MoE cost model on plain numbers: parameters (total vs active per token), FLOPs and the expert-weight
// bytes a step reads. Decode is weight-bandwidth-bound: with N tokens in flight a layer reads every expert
// that at least one token chose, which grows quickly with N (expectedActiveExperts), so the batch decides
// how much of the "sparse" saving survives. Model shapes come from the presets (src/models/).
import type { ModelPreset } from '../../models/presets.ts';

export interface MoeShape {
  /** routed experts per MoE layer */
  experts: number;
  /** routed experts per token */
  topk: number;
  /** shared experts (always on), each of size `inter` */
  shared: number;
  dim: number;
  /** hidden size of one expert */
  inter: number;
  /** MoE layers (dense FFN layers excluded) */
  layers: number;
}

/** The MoE layers of a model preset (every number from its config.json), or undefined for a dense model. */
export function moeShapeOf(p: ModelPreset): MoeShape | undefined {
  const m = p.arch.moe;
  if (!m) return undefined;
  return {
    experts: m.routedExperts,
    topk: m.expertsPerToken,
    shared: m.sharedExperts,
    dim: p.arch.hidden,
    inter: m.moeIntermediateSize,
    layers: p.arch.layers - m.firstDenseLayers,
  };
}

/** Parameters of one SwiGLU expert: w1, w3 [inter, dim] and w2 [dim, inter]. */
export function expertParams(dim: number, inter: number): number {
  return 3 * dim * inter;
}

export interface MoeParams {
  /** all MoE-layer parameters: routed + shared experts + router */
  total: number;
  /** used by one token: topk routed + shared experts + router */
  active: number;
  perLayerTotal: number;
  perLayerActive: number;
  /** active / total */
  activeFraction: number;
}

export function moeParams(s: MoeShape): MoeParams {
  const one = expertParams(s.dim, s.inter);
  const router = s.experts * s.dim;
  const perLayerTotal = (s.experts + s.shared) * one + router;
  const perLayerActive = (s.topk + s.shared) * one + router;
  return {
    total: s.layers * perLayerTotal,
    active: s.layers * perLayerActive,
    perLayerTotal,
    perLayerActive,
    activeFraction: perLayerActive / perLayerTotal,
  };
}

/** Hidden size of the dense SwiGLU FFN with the same active parameters per token: (topk + shared) * inter. */
export function denseEquivalentInter(s: Pick<MoeShape, 'topk' | 'shared' | 'inter'>): number {
  return (s.topk + s.shared) * s.inter;
}

/** Expected distinct experts chosen by N tokens routing uniformly: E (1 - (1 - topk/E)^N). */
export function expectedActiveExperts(experts: number, topk: number, tokens: number): number {
  return experts * (1 - (1 - topk / experts) ** tokens);
}

export interface MoeStepCost {
  /** FLOPs of the MoE layers for `tokens` tokens (router + routed + shared matmuls) */
  flops: number;
  /** Expert and router weight bytes read (each active expert once per layer) */
  weightBytes: number;
  /** expected distinct routed experts per layer */
  activeExperts: number;
  /** FLOPs per weight byte: below the device's FLOP/byte ridge the step is bandwidth-bound */
  intensity: number;
}

/** One step over `tokens` tokens (decode: the batch; prefill: the prompt), all MoE layers. */
export function moeStepCost(s: MoeShape, tokens: number, bytesPerParam: number): MoeStepCost {
  const one = expertParams(s.dim, s.inter);
  const router = s.experts * s.dim;
  const flops = s.layers * 2 * tokens * ((s.topk + s.shared) * one + router);
  const activeExperts = expectedActiveExperts(s.experts, s.topk, tokens);
  const weightBytes = s.layers * bytesPerParam * ((activeExperts + s.shared) * one + router);
  return { flops, weightBytes, activeExperts, intensity: flops / weightBytes };
}
