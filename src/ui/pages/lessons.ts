// The teaching text of each technique page: the trick in a few sentences, its formulas, why it saves time
// or memory, and where it comes from. Shown next to the live numbers; each kernel adds its own `explain`.
export interface Lesson {
  summary: string;
  formulas: { label: string; text: string }[];
  why: string[];
  sources: { title: string; url: string }[];
}

export const LESSONS: Record<'dense' | 'mla' | 'sparse' | 'moe', Lesson> = {
  dense: {
    summary:
      'Attention compares every query with every key. Written naively it stores the whole T × S score matrix per head in GPU memory and reads it back twice; ' +
      'FlashAttention never stores it: it streams K and V through on-chip memory in tiles and keeps a running softmax, so memory traffic is the size of Q, K, V and the output.',
    formulas: [
      { label: 'attention', text: 'O = softmax(Q Kᵀ · scale) V,   scale = 1/√D' },
      { label: 'online softmax, per key tile j', text: "m' = max(m, max s_j);   ℓ' = ℓ·e^(m−m') + Σ e^(s_j−m');   o' = o·e^(m−m') + Σ e^(s_j−m')·v_j;   O = o/ℓ" },
      { label: 'bytes, naive vs flash', text: 'naive ≈ Q + K + V + O + 4·T·S·H·4 B   ·   flash ≈ Q + K + V + O' },
      { label: 'GQA / MQA', text: 'query head h reads KV head ⌊h / (Hq/Hkv)⌋: the cache shrinks by Hq/Hkv' },
    ],
    why: [
      'At long context the naive kernel is bound by its own score matrix; flash attention is bound by reading K and V once.',
      'Decoding has one query per sequence: too little parallel work for a GPU. Flash decoding splits the keys into chunks processed in parallel, each keeping (m, ℓ, o), and merges them with the same rescaling.',
      'Grouped-query (GQA) and multi-query (MQA) attention share K/V heads across query heads, so each decode step reads Hq/Hkv times fewer bytes.',
    ],
    sources: [
      { title: 'Dao et al. 2022, FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness', url: 'https://arxiv.org/abs/2205.14135' },
      { title: 'Dao et al. 2023, Flash-Decoding for long-context inference (Stanford CRFM)', url: 'https://crfm.stanford.edu/2023/10/12/flashdecoding.html' },
      { title: 'Milakov & Gimelshein 2018, Online normalizer calculation for softmax', url: 'https://arxiv.org/abs/1805.02867' },
      { title: 'Ainslie et al. 2023, GQA: Training Generalized Multi-Query Transformer Models', url: 'https://arxiv.org/abs/2305.13245' },
      { title: 'Shazeer 2019, Fast Transformer Decoding: One Write-Head is All You Need (MQA)', url: 'https://arxiv.org/abs/1911.02150' },
    ],
  },
  mla: {
    summary:
      'Multi-head Latent Attention (DeepSeek-V2/V3, Kimi K2) caches one compressed latent c_KV per token plus one small RoPE key shared by all heads, instead of a key and a value per head. ' +
      'Per-head keys and values are expanded from the latent when needed — or never: the absorbed decode folds the expansion into the query and attends in latent space.',
    formulas: [
      { label: 'cache per token and layer', text: 'MHA 2·n_h·d_h   ·   GQA 2·n_kv·d_h   ·   MQA 2·d_h   ·   MLA d_c + d_rope' },
      { label: 'DeepSeek-V3', text: '(512 + 64) = 576 values vs 2·128·128 = 32,768 for the same heads as MHA: 98.2% smaller' },
      { label: 'compress', text: 'c_KV = RMSNorm(x W_DKV),   k_pe = RoPE(x W_KR)' },
      { label: 'absorbed decode', text: 'q_lat[h] = q_nope[h] W_UK[h];   s = scale·(q_lat·c_KV[s] + q_pe·k_pe[s]);   o[h] = (Σ_s p_s c_KV[s]) W_UV[h]' },
    ],
    why: [
      'Decoding is bandwidth-bound: each step reads the whole cache. A 57× smaller cache per token means a 57× shorter read per step and far more tokens (or sequences) per GPU.',
      'The naive decode expands the latent to per-head K and V every step (S × H × (dn + dv) values); the absorbed decode reads the (d_c + d_rope)-wide cache once for all heads, split over the keys like flash decoding.',
      "The DeepSeek-V2 paper's 93.3% compares against a different model (DeepSeek 67B, GQA, 16-bit) with V2's cache quantised; the same-model comparison is about 98%.",
    ],
    sources: [
      { title: 'DeepSeek-AI 2024, DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model (section 2.1)', url: 'https://arxiv.org/abs/2405.04434' },
      { title: 'DeepSeek-AI 2024, DeepSeek-V3 Technical Report', url: 'https://arxiv.org/abs/2412.19437' },
      { title: 'deepseek-ai/DeepSeek-V3 inference/model.py (class MLA, attn_impl naive / absorb)', url: 'https://github.com/deepseek-ai/DeepSeek-V3/blob/main/inference/model.py' },
    ],
  },
  sparse: {
    summary:
      'Sparse attention lets each query attend to a few keys instead of all of them. DeepSeek Sparse Attention (V3.2-Exp) picks 2048 keys per query with a cheap "lightning indexer" and a GPU top-k; ' +
      'sliding-window attention keeps the last W positions plus a few "sink" tokens; block-sparse methods (MoBA, NSA) pick whole blocks of keys by a pooled score.',
    formulas: [
      { label: 'DSA indexer', text: 'I[t,s] = Σ_j w[t,j] · ReLU(q_I[t,j] · k_I[s]),   keys of query t = top-k_s I[t,s]' },
      { label: 'sliding window + sinks', text: 'key s visible at position p  ⇔  s ≤ p  and  (p − s < W  or  s < n_sink)' },
      { label: 'block select', text: 'block key = mean of its keys;   each query keeps its top-k blocks (always its own)' },
      { label: 'work per query', text: 'dense O(S·D)   ·   DSA O(S·d_I + k·D)   ·   window O((W + n_sink)·D)' },
    ],
    why: [
      'Dense attention grows with S per query (S² for a prompt); with a fixed budget of keys the attention itself stays constant as the context grows.',
      'DSA still scores every key, but with a few small index heads in low precision: much cheaper than full attention, and the top-k is a selection, not a sort.',
      'Sinks matter: without the first tokens a sliding window loses the attention mass models park there (StreamingLLM).',
    ],
    sources: [
      { title: 'DeepSeek-AI 2025, DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention', url: 'https://github.com/deepseek-ai/DeepSeek-V3.2-Exp' },
      { title: 'Xiao et al. 2023, Efficient Streaming Language Models with Attention Sinks (StreamingLLM)', url: 'https://arxiv.org/abs/2309.17453' },
      { title: 'Beltagy et al. 2020, Longformer: The Long-Document Transformer', url: 'https://arxiv.org/abs/2004.05150' },
      { title: 'Lu et al. 2025, MoBA: Mixture of Block Attention for Long-Context LLMs', url: 'https://arxiv.org/abs/2502.13189' },
      { title: 'Yuan et al. 2025, Native Sparse Attention (NSA)', url: 'https://arxiv.org/abs/2502.11089' },
    ],
  },
  moe: {
    summary:
      'A Mixture-of-Experts layer has many expert FFNs but runs only a few per token: a router scores the experts and each token goes to its top k. ' +
      'DeepSeek-V3 routes with sigmoid scores, a per-expert bias used only for selection, and group-limited top-k; tokens are then grouped by expert, run through one grouped FFN launch, and combined back.',
    formulas: [
      { label: 'DeepSeek-V3 gate', text: 's = sigmoid(x W_gᵀ);   chosen = top-k(s + b) within the best topk_group groups;   g = s_chosen / Σ s_chosen · route_scale' },
      { label: 'bias balancing (no auxiliary loss)', text: 'after each step:  b_i ← b_i + γ · sign(mean load − load_i)' },
      { label: 'expert FFN (SwiGLU)', text: 'y = Σ_i g_i · W2_i (silu(W1_i x) ⊙ W3_i x)  (+ shared experts for every token)' },
      { label: 'active parameters per token', text: '(k + shared) experts of E: DeepSeek-V3 runs 9 of 257 expert FFNs per token' },
    ],
    why: [
      'Compute per token is that of the active experts only, while the model holds all of them: more parameters for the same FLOPs.',
      'The cost moves to routing and data movement: the dispatch groups each expert\'s tokens contiguously (histogram, prefix sum, scatter) so one grouped GEMM serves all experts.',
      'Load balance decides speed: the busiest expert sets the step time. DeepSeek-V3 nudges a selection bias instead of adding a balance loss, so the training objective stays clean.',
    ],
    sources: [
      { title: 'DeepSeek-AI 2024, DeepSeek-V3 Technical Report (section 2.1.2)', url: 'https://arxiv.org/abs/2412.19437' },
      { title: 'Wang et al. 2024, Auxiliary-Loss-Free Load Balancing Strategy for Mixture-of-Experts', url: 'https://arxiv.org/abs/2408.15664' },
      { title: 'Dai et al. 2024, DeepSeekMoE: Towards Ultimate Expert Specialization', url: 'https://arxiv.org/abs/2401.06066' },
      { title: 'Jiang et al. 2024, Mixtral of Experts', url: 'https://arxiv.org/abs/2401.04088' },
      { title: 'Shazeer et al. 2017, Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer', url: 'https://arxiv.org/abs/1701.06538' },
    ],
  },
};
