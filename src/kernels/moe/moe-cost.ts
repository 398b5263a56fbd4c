// MoE cost model on plain numbers: parameters (total vs active per token), FLOPs and the expert-weight
// bytes a step reads. Decode is weight-bandwidth-bound: with N tokens in flight a layer reads every expert
// that at least one token chose, which grows quickly with N (expectedActiveExperts), so the batch decides
// how much of the "sparse" saving survives. Model shapes come from the presets (src/models/). The kernels'
// run costs count what a run actually routed (RoutedWork, from its routing buffers).
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

/** What one routed run touched, read from its routing buffers (not a uniform-routing expectation). */
export interface RoutedWork {
  /** Token copies computed (after any capacity drop). */
  rows: number;
  /** Experts with at least one row: their weights are read. */
  activeExperts: number;
  /** Distinct tokens among the rows: their x rows are read. */
  tokens: number;
}

/** The expectation under uniform routing, for a cost before anything ran. */
export function expectedRoutedWork(E: number, topk: number, N: number): RoutedWork {
  return { rows: N * topk, activeExperts: expectedActiveExperts(E, topk, N), tokens: N };
}

/** From dispatch's outputs: offsets [E + 1] (expert e owns rows offsets[e] .. offsets[e+1]-1) and sorted_tokens. */
export function routedWorkFromOffsets(offsets: ArrayLike<number>, sortedTokens: ArrayLike<number>, E: number): RoutedWork {
  let activeExperts = 0;
  for (let e = 0; e < E; e++) if (offsets[e + 1]! > offsets[e]!) activeExperts++;
  const rows = offsets[E]!;
  const seen = new Set<number>();
  for (let p = 0; p < rows; p++) seen.add(sortedTokens[p]!);
  return { rows, activeExperts, tokens: seen.size };
}

/**
 * From the router's indices [N, topk] and the per-expert capacity: copies arrive in index order and each
 * expert keeps its first `capacity` (the dispatch rule).
 */
export function routedWorkFromIndices(indices: ArrayLike<number>, N: number, topk: number, E: number, capacity: number): RoutedWork {
  const used = new Int32Array(E);
  const tokens = new Set<number>();
  let rows = 0;
  for (let c = 0; c < N * topk; c++) {
    const e = indices[c]!;
    if (e < 0 || e >= E || used[e]!++ >= capacity) continue;
    rows++;
    tokens.add(Math.floor(c / topk));
  }
  let activeExperts = 0;
  for (const n of used) if (n > 0) activeExperts++;
  return { rows, activeExperts, tokens: tokens.size };
}

/** Copies that kept a slot (slot_of >= 0; capacity drops are -1). */
export function keptCopies(slotOf: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < slotOf.length; i++) if (slotOf[i]! >= 0) n++;
  return n;
}
