// Which WGSL files each kernel runs (a host module may append several, e.g. DSA's attention onto the masked
// flash core), and which lines implement each formula of its page's lesson, found by a pattern so the link
// follows the code when it moves.
export interface FormulaLink {
  /** A formula's label in the page's lesson (lessons.ts). */
  formula: string;
  file: string;
  /** Lines of `file` that implement it. */
  pattern: RegExp;
}

export interface KernelSources {
  files: string[];
  links: FormulaLink[];
}

const ONLINE = 'online softmax, per key tile j';
const online = (file: string): FormulaLink => ({ formula: ONLINE, file, pattern: /\bm_new\b|\bm_old\b|\balpha\b|online_max|masked_exp2/ });
const gqa = (file: string): FormulaLink => ({ formula: 'GQA / MQA', file, pattern: /GQA|Hq \/ Hkv|\bgroup\b/ });

export const KERNEL_SOURCES: Record<string, KernelSources> = {
  'attention.naive': {
    files: ['attention/naive.wgsl', 'lib/row-softmax.wgsl'],
    links: [
      { formula: 'attention', file: 'attention/naive.wgsl', pattern: /\bdot\(|scores\[/ },
      { formula: 'bytes, naive vs flash', file: 'attention/naive.wgsl', pattern: /scores/ },
      { formula: 'attention', file: 'lib/row-softmax.wgsl', pattern: /exp2?\(/ },
    ],
  },
  'attention.flash_prefill': {
    files: ['attention/flash-prefill.wgsl', 'lib/lane-sum-subgroup.wgsl'],
    links: [online('attention/flash-prefill.wgsl'), gqa('attention/flash-prefill.wgsl')],
  },
  'attention.flash_decode': {
    files: ['attention/flash-decode.wgsl'],
    links: [online('attention/flash-decode.wgsl'), gqa('attention/flash-decode.wgsl'), { formula: 'attention', file: 'attention/flash-decode.wgsl', pattern: /quad_score|\bexp2\(/ }],
  },
  'mla.decode_absorbed': {
    files: ['mla/decode-absorbed.wgsl', 'lib/latent-split.wgsl'],
    links: [{ formula: 'absorbed decode', file: 'mla/decode-absorbed.wgsl', pattern: /q_abs|W_UK|W_UV|\bexp\(/ }],
  },
  'mla.decode_naive': {
    files: ['mla/decode-naive.wgsl'],
    links: [{ formula: 'cache per token and layer', file: 'mla/decode-naive.wgsl', pattern: /kv_latent|W_UK|W_UV|wkv_b/ }],
  },
  'mla.compress': {
    files: ['mla/compress.wgsl'],
    links: [{ formula: 'compress', file: 'mla/compress.wgsl', pattern: /rms|rope|\bcos\b|\bsin\b|inverseSqrt/i }],
  },
  'sparse.indexer': {
    files: ['sparse/indexer.wgsl'],
    links: [{ formula: 'DSA indexer', file: 'sparse/indexer.wgsl', pattern: /w_index|ReLU|max\(.*0\.0\)/ }],
  },
  'sparse.topk': {
    files: ['lib/order-key.wgsl', 'sparse/topk.wgsl'],
    links: [{ formula: 'DSA indexer', file: 'sparse/topk.wgsl', pattern: /histogram|radix|threshold/i }],
  },
  'sparse.sort_baseline': { files: ['lib/order-key.wgsl', 'sparse/sort-baseline.wgsl'], links: [] },
  'sparse.dsa_attention': {
    files: ['sparse/key-walk.wgsl', 'sparse/dsa-gqa.wgsl', 'sparse/dsa-mla.wgsl', 'lib/latent-split.wgsl'],
    links: [
      { formula: 'work per query', file: 'sparse/dsa-gqa.wgsl', pattern: /topk_indices/ },
      { formula: 'work per query', file: 'sparse/dsa-mla.wgsl', pattern: /topk_indices/ },
      { formula: 'work per query', file: 'sparse/key-walk.wgsl', pattern: /masked_exp2_4/ },
    ],
  },
  'sparse.dsa': {
    files: ['sparse/indexer.wgsl', 'sparse/topk.wgsl', 'sparse/key-walk.wgsl', 'sparse/dsa-gqa.wgsl', 'sparse/dsa-mla.wgsl', 'lib/latent-split.wgsl'],
    links: [
      { formula: 'DSA indexer', file: 'sparse/indexer.wgsl', pattern: /w_index|ReLU|max\(.*0\.0\)/ },
      { formula: 'DSA indexer', file: 'sparse/topk.wgsl', pattern: /histogram|radix|threshold/i },
      { formula: 'work per query', file: 'sparse/dsa-mla.wgsl', pattern: /topk_indices/ },
    ],
  },
  'sparse.sliding_window': {
    files: ['sparse/key-walk.wgsl', 'sparse/sliding-window.wgsl'],
    links: [{ formula: 'sliding window + sinks', file: 'sparse/sliding-window.wgsl', pattern: /\bsinks\b|\bwindow\b/ }],
  },
  'sparse.block_select': {
    files: ['sparse/block-select.wgsl', 'sparse/key-walk.wgsl'],
    links: [{ formula: 'block select', file: 'sparse/block-select.wgsl', pattern: /\bmean\b|n_blocks|\bblock\b/ }],
  },
  'moe.router': {
    files: ['moe/router.wgsl'],
    links: [{ formula: 'DeepSeek-V3 gate', file: 'moe/router.wgsl', pattern: /sigmoid|route_scale|group/ }],
  },
  'moe.dispatch': { files: ['moe/dispatch.wgsl'], links: [] },
  'moe.combine': {
    files: ['moe/combine.wgsl'],
    links: [{ formula: 'expert FFN (SwiGLU)', file: 'moe/combine.wgsl', pattern: /weights/ }],
  },
  'moe.grouped_ffn': {
    files: ['moe/grouped-ffn.wgsl'],
    links: [{ formula: 'expert FFN (SwiGLU)', file: 'moe/grouped-ffn.wgsl', pattern: /silu/ }],
  },
  'moe.dense_ffn': {
    files: ['moe/grouped-ffn.wgsl'],
    links: [{ formula: 'expert FFN (SwiGLU)', file: 'moe/grouped-ffn.wgsl', pattern: /silu/ }],
  },
  'moe.forward': {
    files: ['moe/router.wgsl', 'moe/dispatch.wgsl', 'moe/grouped-ffn.wgsl', 'moe/combine.wgsl'],
    links: [
      { formula: 'DeepSeek-V3 gate', file: 'moe/router.wgsl', pattern: /sigmoid|route_scale|group/ },
      { formula: 'expert FFN (SwiGLU)', file: 'moe/grouped-ffn.wgsl', pattern: /silu/ },
      { formula: 'expert FFN (SwiGLU)', file: 'moe/combine.wgsl', pattern: /weights/ },
    ],
  },
};

// The kernels already bundle every file as text (`?raw`), so reading them here adds nothing to the site.
const SOURCES = import.meta.glob('../../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export function shaderFiles(): string[] {
  return Object.keys(SOURCES).map((k) => k.replace('../../../shaders/', ''));
}

export async function loadShader(file: string): Promise<string> {
  const text = SOURCES[`../../../shaders/${file}`];
  if (text === undefined) throw new Error(`no shader file shaders/${file}`);
  return text;
}

/** 1-based line numbers of `text` matching the pattern. */
export function matchingLines(text: string, pattern: RegExp): number[] {
  return text.split('\n').flatMap((line, i) => (pattern.test(line) ? [i + 1] : []));
}
