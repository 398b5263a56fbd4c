// Real model presets for the KV-cache explorer, the MLA/MoE pages and the bench. Every number has a source:
// the model's published config.json (URL + key) or its paper. `notes` say how each preset was checked and
// which values could not be read from the primary source itself (the numbers were compared with verbatim
// public copies of the config files; where only a sibling model's file was available, the note says so).

export type ScoreFunc = 'softmax' | 'sigmoid';

export interface MlaDims {
  /** q_lora_rank (0 = queries not compressed) */
  qLoraRank: number;
  /** kv_lora_rank: d_c, the latent cached per token */
  kvLoraRank: number;
  qkNopeHeadDim: number;
  /** qk_rope_head_dim: d_rope, the shared RoPE key cached per token */
  qkRopeHeadDim: number;
  vHeadDim: number;
}

export interface MoeDims {
  /** Routed experts (n_routed_experts / num_experts / num_local_experts). */
  routedExperts: number;
  /** Routed experts active per token (num_experts_per_tok). */
  expertsPerToken: number;
  /** Always-on shared experts (n_shared_experts; 0 where the architecture has none). */
  sharedExperts: number;
  /** Expert groups and groups kept per token (device-limited routing; 1 = no grouping). */
  nGroup: number;
  topkGroup: number;
  /** Hidden width of one expert's FFN. */
  moeIntermediateSize: number;
  scoreFunc: ScoreFunc;
  /** Multiplier on the routing weights (routed_scaling_factor; 1 where none). */
  routeScale: number;
  /** Whether the top-k weights are renormalised to sum to 1. */
  normTopkProb: boolean;
  /** Leading layers with a dense FFN instead of MoE (first_k_dense_replace). */
  firstDenseLayers: number;
}

export interface DsaDims {
  /** DeepSeek Sparse Attention lightning indexer: heads, head width, tokens kept per query. */
  indexHeads: number;
  indexHeadDim: number;
  indexTopk: number;
}

export interface ModelArch {
  layers: number;
  hidden: number;
  /** Query heads n_h. */
  heads: number;
  /** KV heads n_kv (= n_h for MHA and for MLA models, whose config lists the expanded head count). */
  kvHeads: number;
  /** d_h of the K/V cache formulas; for MLA models the paper's d_h = qk_nope_head_dim. */
  headDim: number;
  maxPositions: number;
  ropeTheta: number;
  vocab: number;
  /** Dense FFN width. */
  intermediate: number;
  /** Window (tokens) of the layers that attend locally; absent when every layer attends globally. */
  slidingWindow?: number;
  /**
   * How many layers use `slidingWindow`; the other `layers - localLayers` attend globally. Absent with a
   * window set: every layer is windowed (Mistral-7B). gpt-oss alternates the two kinds, Gemma 3 runs
   * 5 local layers per global one, so their caches are a sum over the two kinds of layer.
   */
  localLayers?: number;
  /** The output head shares the embedding matrix (tie_word_embeddings); absent: two matrices. */
  tiedEmbeddings?: boolean;
  mla?: MlaDims;
  moe?: MoeDims;
  dsa?: DsaDims;
}

export interface ModelPreset {
  id: string;
  name: string;
  /** The published config.json. */
  configUrl: string;
  /** Paper or report describing the architecture. */
  paper?: string;
  arch: ModelArch;
  /** Dotted field of `arch` -> where the value comes from (a config.json key, or the paper). */
  sources: Record<string, string>;
  /** How the preset was checked, and anything that could not be confirmed from the primary source. */
  notes: string[];
}

const DEEPSEEK_V3_CONFIG = 'https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json';

/** Sources for the MLA and DeepSeek-MoE keys shared by the DeepSeek-V2/V3 config.json format. */
const DEEPSEEK_KEYS: Record<string, string> = {
  layers: 'config.json num_hidden_layers',
  hidden: 'config.json hidden_size',
  heads: 'config.json num_attention_heads',
  kvHeads: 'config.json num_key_value_heads',
  headDim: 'config.json qk_nope_head_dim (the d_h of the MLA paper\'s MHA comparison)',
  maxPositions: 'config.json max_position_embeddings',
  ropeTheta: 'config.json rope_theta',
  vocab: 'config.json vocab_size',
  intermediate: 'config.json intermediate_size',
  'mla.qLoraRank': 'config.json q_lora_rank',
  'mla.kvLoraRank': 'config.json kv_lora_rank',
  'mla.qkNopeHeadDim': 'config.json qk_nope_head_dim',
  'mla.qkRopeHeadDim': 'config.json qk_rope_head_dim',
  'mla.vHeadDim': 'config.json v_head_dim',
  'moe.routedExperts': 'config.json n_routed_experts',
  'moe.expertsPerToken': 'config.json num_experts_per_tok',
  'moe.sharedExperts': 'config.json n_shared_experts',
  'moe.nGroup': 'config.json n_group',
  'moe.topkGroup': 'config.json topk_group',
  'moe.moeIntermediateSize': 'config.json moe_intermediate_size',
  'moe.scoreFunc': 'config.json scoring_func',
  'moe.routeScale': 'config.json routed_scaling_factor',
  'moe.normTopkProb': 'config.json norm_topk_prob',
  'moe.firstDenseLayers': 'config.json first_k_dense_replace',
};

const deepseekV3Arch: ModelArch = {
  layers: 61,
  hidden: 7168,
  heads: 128,
  kvHeads: 128,
  headDim: 128,
  maxPositions: 163840,
  ropeTheta: 10000,
  vocab: 129280,
  intermediate: 18432,
  mla: { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
  moe: {
    routedExperts: 256,
    expertsPerToken: 8,
    sharedExperts: 1,
    nGroup: 8,
    topkGroup: 4,
    moeIntermediateSize: 2048,
    scoreFunc: 'sigmoid',
    routeScale: 2.5,
    normTopkProb: true,
    firstDenseLayers: 3,
  },
};

/** A router without shared experts, groups or scale: softmax, top-k renormalised to sum to 1, every layer MoE. */
function plainTopkMoe(routedExperts: number, expertsPerToken: number, moeIntermediateSize: number): MoeDims {
  return { routedExperts, expertsPerToken, sharedExperts: 0, nGroup: 1, topkGroup: 1, moeIntermediateSize, scoreFunc: 'softmax', routeScale: 1, normTopkProb: true, firstDenseLayers: 0 };
}

/** Llama / Mistral / Qwen config.json keys (head_dim derived where the file has none). */
const LLAMA_KEYS: Record<string, string> = {
  layers: 'config.json num_hidden_layers',
  hidden: 'config.json hidden_size',
  heads: 'config.json num_attention_heads',
  kvHeads: 'config.json num_key_value_heads',
  headDim: 'config.json head_dim (= hidden_size / num_attention_heads)',
  maxPositions: 'config.json max_position_embeddings',
  ropeTheta: 'config.json rope_theta',
  vocab: 'config.json vocab_size',
  intermediate: 'config.json intermediate_size',
};

function llama31(size: '8B' | '70B' | '405B', arch: Pick<ModelArch, 'layers' | 'hidden' | 'heads' | 'intermediate'>, checked: string): ModelPreset {
  return {
    id: `llama-3.1-${size.toLowerCase()}`,
    name: `Llama-3.1-${size}`,
    configUrl: `https://huggingface.co/meta-llama/Llama-3.1-${size}/blob/main/config.json`,
    paper: 'https://arxiv.org/abs/2407.21783 (The Llama 3 Herd of Models, Table 3)',
    arch: { ...arch, kvHeads: 8, headDim: 128, maxPositions: 131072, ropeTheta: 500000, vocab: 128256 },
    sources: LLAMA_KEYS,
    notes: [checked, 'GQA with 8 KV heads at every size (paper Table 3); no sliding window.'],
  };
}

export const MODEL_PRESETS: readonly ModelPreset[] = [
  {
    id: 'deepseek-v3',
    name: 'DeepSeek-V3',
    configUrl: DEEPSEEK_V3_CONFIG,
    paper: 'https://arxiv.org/abs/2412.19437 (DeepSeek-V3 Technical Report)',
    arch: deepseekV3Arch,
    sources: DEEPSEEK_KEYS,
    notes: [
      'Values compared with a verbatim public copy of the DeepSeek-R1 config.json (same DeepseekV3ForCausalLM architecture and identical numbers) and with descriptions of the DeepSeek-V3-Base config.json; the Hugging Face page itself was not reachable from here.',
      'YaRN: rope_scaling factor 40 over original_max_position_embeddings 4096, mscale 1.0: softmax_scale = (128+64)^-0.5 * mscale^2 with mscale = 0.1 ln(40) + 1.',
    ],
  },
  {
    id: 'deepseek-v3.2',
    name: 'DeepSeek-V3.2',
    configUrl: 'https://huggingface.co/deepseek-ai/DeepSeek-V3.2/blob/main/config.json',
    paper: 'https://github.com/deepseek-ai/DeepSeek-V3.2-Exp/blob/main/DeepSeek_V3_2.pdf (DeepSeek-V3.2-Exp report)',
    arch: { ...deepseekV3Arch, dsa: { indexHeads: 64, indexHeadDim: 128, indexTopk: 2048 } },
    sources: {
      ...DEEPSEEK_KEYS,
      'dsa.indexHeads': 'config.json index_n_heads',
      'dsa.indexHeadDim': 'config.json index_head_dim',
      'dsa.indexTopk': 'config.json index_topk',
    },
    notes: [
      'index_n_heads 64, index_head_dim 128, index_topk 2048, hidden 7168, 128 heads, q_lora_rank 1536, kv_lora_rank 512, qk_rope 64, qk_nope 128, v_head 128 and first_k_dense_replace 3 were compared with a public quotation of this config.json.',
      'Not confirmed from the V3.2 file itself: num_hidden_layers (61), the MoE fields and the vocabulary are taken as DeepSeek-V3\'s, because the V3.2-Exp report describes the architecture as DeepSeek-V3.1-Terminus plus DSA, nothing else changed.',
      'The DSA indexer caches its own key per token and layer (index_head_dim FP8 values and one f32 scale per 128, inference/model.py Indexer.k_cache / k_scale_cache) beside the MLA latent; the memory tables count both.',
    ],
  },
  {
    id: 'deepseek-v2',
    name: 'DeepSeek-V2',
    configUrl: 'https://huggingface.co/deepseek-ai/DeepSeek-V2/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2405.04434 (DeepSeek-V2, sections 2.1 and 3.2.3)',
    arch: {
      layers: 60,
      hidden: 5120,
      heads: 128,
      kvHeads: 128,
      headDim: 128,
      maxPositions: 163840,
      ropeTheta: 10000,
      vocab: 102400,
      intermediate: 12288,
      mla: { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
      moe: {
        routedExperts: 160,
        expertsPerToken: 6,
        sharedExperts: 2,
        nGroup: 8,
        topkGroup: 3,
        moeIntermediateSize: 1536,
        scoreFunc: 'softmax',
        routeScale: 16,
        normTopkProb: false,
        firstDenseLayers: 1,
      },
    },
    sources: DEEPSEEK_KEYS,
    notes: [
      'Values compared with a verbatim public copy of the DeepSeek-V2.5 config.json (the same DeepseekV2ForCausalLM architecture: 60 layers, 160 routed + 2 shared experts, topk_method group_limited_greedy), not with the V2 file itself.',
      'The paper\'s 93.3% KV-cache reduction is measured against DeepSeek 67B (see the deepseek-llm-67b preset), not against an MHA version of V2.',
    ],
  },
  {
    id: 'deepseek-llm-67b',
    name: 'DeepSeek LLM 67B',
    configUrl: 'https://huggingface.co/deepseek-ai/deepseek-llm-67b-base/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2401.02954 (DeepSeek LLM, Table 2)',
    arch: { layers: 95, hidden: 8192, heads: 64, kvHeads: 8, headDim: 128, maxPositions: 4096, ropeTheta: 10000, vocab: 102400, intermediate: 22016 },
    sources: LLAMA_KEYS,
    notes: [
      'The baseline of DeepSeek-V2\'s "93.3% smaller KV cache". 95 layers, hidden 8192, 64 heads and 8 KV heads (GQA) match the paper\'s Table 2 as quoted publicly.',
      'Not confirmed from the file itself: intermediate_size 22016, rope_theta 10000 and vocab_size 102400 were compared with third-party listings only.',
    ],
  },
  {
    id: 'kimi-k2',
    name: 'Kimi K2',
    configUrl: 'https://huggingface.co/moonshotai/Kimi-K2-Instruct/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2507.20534 (Kimi K2: Open Agentic Intelligence)',
    arch: {
      layers: 61,
      hidden: 7168,
      heads: 64,
      kvHeads: 64,
      headDim: 128,
      maxPositions: 131072,
      ropeTheta: 50000,
      vocab: 163840,
      intermediate: 18432,
      mla: { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
      moe: {
        routedExperts: 384,
        expertsPerToken: 8,
        sharedExperts: 1,
        nGroup: 1,
        topkGroup: 1,
        moeIntermediateSize: 2048,
        scoreFunc: 'sigmoid',
        routeScale: 2.827,
        normTopkProb: true,
        firstDenseLayers: 1,
      },
    },
    sources: DEEPSEEK_KEYS,
    notes: [
      'Layers, widths, heads, MLA ranks, experts, routed_scaling_factor 2.827, sigmoid scoring and first_k_dense_replace 1 compared with a public copy of the Kimi-K2-Base config.json (DeepseekV3ForCausalLM).',
      'n_group 1 / topk_group 1 and rope_theta 50000 were read from copies of later Kimi K2 checkpoints (K2.5 / K2.6 text_config) and max_position_embeddings 131072 from a KV-cache calculator\'s copy of Kimi-K2; not confirmed from the K2-Instruct file itself.',
      'Same MLA cache as DeepSeek-V3 (61 layers x 576 values) with half the heads (64).',
    ],
  },
  {
    id: 'qwen3-235b-a22b',
    name: 'Qwen3-235B-A22B',
    configUrl: 'https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2505.09388 (Qwen3 Technical Report)',
    arch: {
      layers: 94,
      hidden: 4096,
      heads: 64,
      kvHeads: 4,
      headDim: 128,
      maxPositions: 40960,
      ropeTheta: 1000000,
      vocab: 151936,
      intermediate: 12288,
      moe: plainTopkMoe(128, 8, 1536),
    },
    sources: {
      ...LLAMA_KEYS,
      headDim: 'config.json head_dim',
      'moe.routedExperts': 'config.json num_experts',
      'moe.expertsPerToken': 'config.json num_experts_per_tok',
      'moe.sharedExperts': 'architecture: Qwen3MoE has no shared expert (no key in config.json)',
      'moe.nGroup': 'architecture: no expert groups (no key in config.json)',
      'moe.topkGroup': 'architecture: no expert groups (no key in config.json)',
      'moe.moeIntermediateSize': 'config.json moe_intermediate_size',
      'moe.scoreFunc': 'architecture: softmax router (transformers modeling_qwen3_moe), no key in config.json',
      'moe.routeScale': 'architecture: no routing scale (no key in config.json)',
      'moe.normTopkProb': 'config.json norm_topk_prob',
      'moe.firstDenseLayers': 'config.json mlp_only_layers = [] and decoder_sparse_step 1: every layer is MoE',
    },
    notes: [
      'Compared with a verbatim public copy of this config.json (94 layers, 64 heads, 4 KV heads, head_dim 128, 128 experts, 8 per token, moe_intermediate_size 1536).',
      'sliding_window is null and use_sliding_window false: attention is global in every layer.',
    ],
  },
  llama31('8B', { layers: 32, hidden: 4096, heads: 32, intermediate: 14336 }, 'Layers, hidden, heads, KV heads, intermediate and vocab compared with public copies of the config.json; rope_theta 500000 and max_position_embeddings 131072 are the Llama 3.1 family values (read from the 70B copy).'),
  llama31('70B', { layers: 80, hidden: 8192, heads: 64, intermediate: 28672 }, 'Compared with a verbatim public copy of this config.json.'),
  llama31('405B', { layers: 126, hidden: 16384, heads: 128, intermediate: 53248 }, 'Layers, hidden, heads, KV heads, intermediate and vocab compared with public copies of the config.json; rope_theta and max_position_embeddings are the Llama 3.1 family values (read from the 70B copy).'),
  {
    id: 'mixtral-8x7b',
    name: 'Mixtral-8x7B',
    configUrl: 'https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2401.04088 (Mixtral of Experts)',
    arch: {
      layers: 32,
      hidden: 4096,
      heads: 32,
      kvHeads: 8,
      headDim: 128,
      maxPositions: 32768,
      ropeTheta: 1000000,
      vocab: 32000,
      intermediate: 14336,
      moe: plainTopkMoe(8, 2, 14336),
    },
    sources: {
      ...LLAMA_KEYS,
      'moe.routedExperts': 'config.json num_local_experts',
      'moe.expertsPerToken': 'config.json num_experts_per_tok',
      'moe.sharedExperts': 'architecture: no shared expert (paper section 2.1)',
      'moe.nGroup': 'architecture: no expert groups (paper section 2.1)',
      'moe.topkGroup': 'architecture: no expert groups (paper section 2.1)',
      'moe.moeIntermediateSize': 'config.json intermediate_size (each expert is a full SwiGLU FFN)',
      'moe.scoreFunc': 'paper eq. 2: softmax over the top-2 gate logits',
      'moe.routeScale': 'paper eq. 2: no scale',
      'moe.normTopkProb': 'paper eq. 2: the softmax is taken over the selected logits, so the weights sum to 1',
      'moe.firstDenseLayers': 'paper section 2: every layer is MoE',
    },
    notes: [
      'Numbers compared with public copies of the config.json.',
      'sliding_window is null in the published config.json: it was 4096 in the first upload and removed in December 2023 (huggingface/transformers PRs #28068 and #29436); Mixtral attends globally over 32K.',
    ],
  },
  {
    id: 'mistral-7b-v0.1',
    name: 'Mistral-7B-v0.1',
    configUrl: 'https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2310.06825 (Mistral 7B, Table 1)',
    arch: { layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128, maxPositions: 32768, ropeTheta: 10000, vocab: 32000, intermediate: 14336, slidingWindow: 4096 },
    sources: { ...LLAMA_KEYS, slidingWindow: 'config.json sliding_window (paper Table 1: window_size 4096)' },
    notes: [
      'The sliding-window example: every layer attends to the last 4096 tokens, so a rolling cache never holds more than 4096 tokens (paper section 2, "Rolling Buffer Cache").',
      'Layers, heads, KV heads, head_dim, max_position_embeddings and sliding_window compared with a public copy of the config.json; hidden_dim 14336, vocab 32000 and rope_theta 10000 with the paper\'s Table 1 and public listings.',
    ],
  },
  gptOss('120b', 36, 128, 'https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json'),
  gptOss('20b', 24, 32, 'https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json'),
  {
    id: 'gemma-3-27b',
    name: 'Gemma 3 27B',
    configUrl: 'https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json',
    paper: 'https://arxiv.org/abs/2503.19786 (Gemma 3 Technical Report: 5 local layers per global layer, local span 1024)',
    arch: {
      layers: 62,
      hidden: 5376,
      heads: 32,
      kvHeads: 16,
      headDim: 128,
      maxPositions: 131072,
      ropeTheta: 1000000,
      vocab: 262208,
      intermediate: 21504,
      slidingWindow: 1024,
      // Layer i attends globally when (i + 1) % 6 == 0: layers 5, 11, ..., 59 -> 10 global, 52 local.
      localLayers: 52,
      tiedEmbeddings: true,
    },
    sources: {
      layers: 'config.json text_config.num_hidden_layers',
      hidden: 'config.json text_config.hidden_size',
      heads: 'config.json text_config.num_attention_heads',
      kvHeads: 'config.json text_config.num_key_value_heads',
      headDim: 'config.json text_config.head_dim',
      maxPositions: 'config.json text_config: max_position_embeddings (the Gemma3TextConfig default, 131072)',
      ropeTheta: 'config.json text_config: rope_theta of the global layers (the Gemma3TextConfig default, 1e6; local layers use rope_local_base_freq 10000)',
      vocab: 'config.json text_config: vocab_size (the Gemma3TextConfig default, 262208)',
      intermediate: 'config.json text_config.intermediate_size',
      slidingWindow: 'config.json text_config.sliding_window',
      localLayers: 'config.json text_config: sliding_window_pattern 6 (the Gemma3TextConfig default; every 6th layer global): 62 - floor(62 / 6) = 52',
      tiedEmbeddings: 'config.json text_config: tie_word_embeddings (the Gemma3TextConfig default, true)',
    },
    notes: [
      'head_dim 128, hidden_size 5376, intermediate_size 21504, 32 heads, 16 KV heads, 62 layers and sliding_window 1024 compared with public verbatim copies of the gemma-3-27b-it text_config; the keys the file omits take the transformers Gemma3TextConfig defaults (as loading it does).',
      'The report\'s 5:1 interleaving of local and global layers starts with a local layer; query_pre_attn_scalar 168 sets the softmax scale, which the cache does not depend on.',
    ],
  },
];

/** gpt-oss (both sizes): alternating sliding (128) and full attention layers, GQA 64/8 of d_h 64, top-4 of E experts. */
function gptOss(size: '120b' | '20b', layers: number, experts: number, configUrl: string): ModelPreset {
  return {
    id: `gpt-oss-${size}`,
    name: `gpt-oss-${size}`,
    configUrl,
    paper: 'https://arxiv.org/abs/2508.10925 (gpt-oss-120b & gpt-oss-20b Model Card: attention alternates banded-window (128 tokens) and dense layers)',
    arch: {
      layers,
      hidden: 2880,
      heads: 64,
      kvHeads: 8,
      headDim: 64,
      maxPositions: 131072,
      ropeTheta: 150000,
      vocab: 201088,
      intermediate: 2880,
      slidingWindow: 128,
      localLayers: layers / 2,
      moe: plainTopkMoe(experts, 4, 2880),
    },
    sources: {
      ...LLAMA_KEYS,
      headDim: 'config.json head_dim (64 heads x 64 = 4096, wider than the 2880 model width)',
      intermediate: 'config.json intermediate_size (the width of each expert; gpt-oss has no dense FFN)',
      slidingWindow: 'config.json sliding_window',
      localLayers: `config.json layer_types: ${layers / 2} x ["sliding_attention", "full_attention"]`,
      'moe.routedExperts': 'config.json num_local_experts',
      'moe.expertsPerToken': 'config.json num_experts_per_tok',
      'moe.sharedExperts': 'architecture: no shared expert (model card)',
      'moe.nGroup': 'architecture: no expert groups (no key in config.json)',
      'moe.topkGroup': 'architecture: no expert groups (no key in config.json)',
      'moe.moeIntermediateSize': 'config.json intermediate_size',
      'moe.scoreFunc': 'architecture: softmax over the top-4 router logits (transformers modeling_gpt_oss GptOssTopKRouter)',
      'moe.routeScale': 'architecture: no routing scale (no key in config.json)',
      'moe.normTopkProb': 'architecture: the softmax is taken over the selected logits, so the weights sum to 1',
      'moe.firstDenseLayers': 'architecture: every layer is MoE',
    },
    notes: [
      `num_hidden_layers ${layers}, num_local_experts ${experts}, experts_per_token 4, 64 heads, 8 KV heads, head_dim 64, hidden_size 2880, sliding_window 128, rope_theta 150000, vocab_size 201088 and layer_types (sliding first, then full, alternating) compared with public verbatim copies of this config.json.`,
      'Each head also has a learned attention-sink logit (a bias in the softmax denominator): a weight, not a cached token, so it adds nothing to the KV cache.',
    ],
  };
}

export function findPreset(id: string): ModelPreset | undefined {
  return MODEL_PRESETS.find((p) => p.id === id);
}

/** Dotted paths of every value set in `arch` ("layers", "mla.kvLoraRank", ...), for source checks and UIs. */
export function archFields(arch: ModelArch): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(arch)) {
    if (v !== undefined && typeof v === 'object') for (const sub of Object.keys(v)) out.push(`${k}.${sub}`);
    else if (v !== undefined) out.push(k);
  }
  return out;
}

/** "URL — config.json key" for one field. */
export function fieldSource(p: ModelPreset, field: string): string | undefined {
  const s = p.sources[field];
  if (!s) return undefined;
  return s.startsWith('config.json') ? `${p.configUrl} (${s.slice('config.json '.length)})` : `${s}${p.paper ? `; ${p.paper}` : ''}`;
}
