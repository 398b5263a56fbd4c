// MoE cost model on plain numbers: parameters (total vs active per token), FLOPs and the expert-weight
// bytes a step reads. Decode is weight-bandwidth-bound: with N tokens in flight a layer reads every expert
// that at least one token chose, which grows quickly with N (expectedActiveExperts), so the batch decides
// how much of the "sparse" saving survives.
//
// MOE_MODELS holds the four models' MoE fields, each from its published config.json. It lives here only
// because src/models/ (the project's preset module) did not exist yet when this was written: merge it into
// the presets when they land.

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

export interface MoeModel extends MoeShape {
  name: string;
  n_groups: number;
  topk_groups: number;
  score_func: 'softmax' | 'sigmoid';
  /** deepseek gate or softmax-over-selected (Mixtral, Qwen3 with norm_topk_prob) */
  routing: 'deepseek' | 'mixtral';
  route_scale: number;
  /** where each number comes from */
  source: string;
}

export const MOE_MODELS: readonly MoeModel[] = [
  {
    name: 'DeepSeek-V3',
    experts: 256,
    topk: 8,
    shared: 1,
    dim: 7168,
    inter: 2048,
    layers: 58, // num_hidden_layers 61, first_k_dense_replace 3
    n_groups: 8,
    topk_groups: 4,
    score_func: 'sigmoid',
    routing: 'deepseek',
    route_scale: 2.5,
    source: 'https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json (n_routed_experts, num_experts_per_tok, n_shared_experts, hidden_size, moe_intermediate_size, n_group, topk_group, routed_scaling_factor)',
  },
  {
    name: 'Kimi K2',
    experts: 384,
    topk: 8,
    shared: 1,
    dim: 7168,
    inter: 2048,
    layers: 60, // num_hidden_layers 61, first_k_dense_replace 1
    n_groups: 1,
    topk_groups: 1,
    score_func: 'sigmoid',
    routing: 'deepseek',
    route_scale: 2.827,
    source: 'https://huggingface.co/moonshotai/Kimi-K2-Instruct/blob/main/config.json',
  },
  {
    name: 'Qwen3-235B-A22B',
    experts: 128,
    topk: 8,
    shared: 0,
    dim: 4096,
    inter: 1536,
    layers: 94,
    n_groups: 1,
    topk_groups: 1,
    score_func: 'softmax',
    routing: 'mixtral', // softmax then renormalised top-k (norm_topk_prob) = softmax over the selected logits
    route_scale: 1,
    source: 'https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json (num_experts, num_experts_per_tok, moe_intermediate_size, norm_topk_prob)',
  },
  {
    name: 'Mixtral-8x7B',
    experts: 8,
    topk: 2,
    shared: 0,
    dim: 4096,
    inter: 14336,
    layers: 32,
    n_groups: 1,
    topk_groups: 1,
    score_func: 'softmax',
    routing: 'mixtral',
    route_scale: 1,
    source: 'https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json (num_local_experts, num_experts_per_tok, intermediate_size)',
  },
];

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
