// The seven workloads of the peers study: what an engineer would otherwise run through onnxruntime-web or
// tfjs-webgpu. Each names this project's kernel and config, and describes the same math in the layout a
// generic library prefers (heads-major [H, S, D], K already transposed for a plain MatMul), so no peer pays
// for a layout change inside the timed region. Inputs are drawn once, in this project's layout; the float64
// reference of the kernel is the truth every side is checked against.
import type { AttentionConfig } from '../../kernels/attention/attention-config.ts';
import type { Config } from '../../kernels/contract.ts';
import type { MatmulConfig } from '../../kernels/linear/matmul.ts';
import type { RoutingConfig } from '../../kernels/moe/moe-config.ts';

export type PeerWorkload =
  /** Query rows T, keys S, heads, head dim (the kernel's own fields); queries sit at positions S-T..S-1. */
  | ({ id: string; title: string; kind: 'attention'; kernel: 'attention.flash_decode' | 'attention.flash_prefill' } & Pick<
      AttentionConfig,
      'T' | 'S' | 'Hq' | 'Hkv' | 'D' | 'causal'
    >)
  /** Tokens, hidden dim (the gate GEMM), experts, experts per token: sigmoid scores, top-k, renormalised. */
  | ({ id: string; title: string; kind: 'routing'; kernel: 'moe.router' } & Pick<RoutingConfig, 'N' | 'dim' | 'E' | 'topk'>)
  /** C [M, N] = A [M, K] · B [K, N], both row-major: every library's plain MatMul, no layout change. */
  | ({ id: string; title: string; kind: 'matmul'; kernel: 'linear.matmul' } & Pick<MatmulConfig, 'M' | 'N' | 'K'>);

export const PEER_WORKLOADS: readonly PeerWorkload[] = [
  { id: 'decode-gqa-1k', title: 'decode GQA 32 q / 8 kv heads, D 128, S 1024', kind: 'attention', kernel: 'attention.flash_decode', T: 1, S: 1024, Hq: 32, Hkv: 8, D: 128, causal: true },
  { id: 'decode-gqa-4k', title: 'decode GQA 32 q / 8 kv heads, D 128, S 4096', kind: 'attention', kernel: 'attention.flash_decode', T: 1, S: 4096, Hq: 32, Hkv: 8, D: 128, causal: true },
  { id: 'decode-mha-4k', title: 'decode MHA 32 heads, D 128, S 4096', kind: 'attention', kernel: 'attention.flash_decode', T: 1, S: 4096, Hq: 32, Hkv: 32, D: 128, causal: true },
  { id: 'prefill-512', title: 'causal prefill 8 heads, D 64, S 512', kind: 'attention', kernel: 'attention.flash_prefill', T: 512, S: 512, Hq: 8, Hkv: 8, D: 64, causal: true },
  { id: 'prefill-1k', title: 'causal prefill 8 heads, D 64, S 1024', kind: 'attention', kernel: 'attention.flash_prefill', T: 1024, S: 1024, Hq: 8, Hkv: 8, D: 64, causal: true },
  { id: 'routing-4096x256', title: 'MoE routing: sigmoid + top-8 of 4096 x 256 scores (gate GEMM dim 4)', kind: 'routing', kernel: 'moe.router', N: 4096, dim: 4, E: 256, topk: 8 },
  { id: 'matmul-1k', title: 'matmul 1024 x 1024 x 1024 (f32)', kind: 'matmul', kernel: 'linear.matmul', M: 1024, N: 1024, K: 1024 },
];

/** This project's kernel config for a workload (f32 storage, as the peers use). */
export function kernelConfig(w: PeerWorkload): Config {
  if (w.kind === 'attention') return { T: w.T, S: w.S, Hq: w.Hq, Hkv: w.Hkv, D: w.D, causal: w.causal, scale: 0, dtype: 'f32' };
  if (w.kind === 'matmul') return { M: w.M, N: w.N, K: w.K, batch: 1, trans_b: false, dtype: 'f32' };
  // Plain top-k routing of sigmoid scores: no groups, no bias, weights renormalised, route_scale 1.
  return { N: w.N, dim: w.dim, E: w.E, topk: w.topk, n_groups: 1, topk_groups: 1, score_func: 'sigmoid', routing: 'deepseek', bias: false, route_scale: 1 };
}

/** [rows, heads, cols] -> [heads, rows, cols] (or back with the arguments swapped). */
export function swap01(src: ArrayLike<number>, a: number, b: number, c: number): Float32Array {
  const out = new Float32Array(a * b * c);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) out[(j * a + i) * c + k] = src[(i * b + j) * c + k]!;
  return out;
}

/** [S, H, D] -> [H, D, S]: K transposed per head, so Q·K^T is one batched MatMul. */
export function headsTransposed(src: ArrayLike<number>, S: number, H: number, D: number): Float32Array {
  const out = new Float32Array(S * H * D);
  for (let s = 0; s < S; s++) for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) out[(h * D + d) * S + s] = src[(s * H + h) * D + d]!;
  return out;
}

/** [rows, cols] -> [cols, rows]. */
export function transpose2(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  return out;
}

/** Additive causal mask [T, S] for queries at positions S-T..S-1: 0 where visible, -inf where not. */
export function causalMask(T: number, S: number): Float32Array {
  const m = new Float32Array(T * S);
  for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) if (s > S - T + t) m[t * S + s] = -Infinity;
  return m;
}

/** The workload's inputs in this project's layout (attention: q [T,Hq,D], k/v [S,Hkv,D]; routing: x [N,dim], gate_weight [E,dim]; matmul: a [M,K], b [K,N]). */
export type PeerInputs = Record<string, Float32Array>;

/** Attention in a generic library's layout: heads-major, each KV head's query rows stacked (GQA as a batched GEMM). */
export interface HeadsMajor {
  /** [Hkv, T*g, D], row t*g + j = query head kv*g + j at query t. */
  q: Float32Array;
  /** [Hkv, S, D] */
  k: Float32Array;
  /** [Hkv, D, S] */
  kT: Float32Array;
  /** [Hkv, S, D] */
  v: Float32Array;
  /** [T, S] additive mask, when some key is hidden from some query (causal with T > 1). */
  mask?: Float32Array;
  rows: number;
  scale: number;
}

export function headsMajor(w: Extract<PeerWorkload, { kind: 'attention' }>, x: PeerInputs): HeadsMajor {
  const g = w.Hq / w.Hkv;
  const masked = w.causal && w.T > 1;
  // A [T, S] mask broadcasts over [Hkv, T*g, S] only when each row block is one query: MHA.
  if (masked && g !== 1) throw new Error(`peers: a causal GQA query block (T = ${w.T}, group ${g}) has no broadcastable mask`);
  return {
    q: swap01(x.q!, w.T, w.Hkv, g * w.D),
    k: swap01(x.k!, w.S, w.Hkv, w.D),
    kT: headsTransposed(x.k!, w.S, w.Hkv, w.D),
    v: swap01(x.v!, w.S, w.Hkv, w.D),
    mask: masked ? causalMask(w.T, w.S) : undefined,
    rows: w.T * g,
    scale: 1 / Math.sqrt(w.D),
  };
}

/** [Hkv, T*g, D] back to this project's out [T, Hq, D]. */
export function fromHeadsMajor(w: Extract<PeerWorkload, { kind: 'attention' }>, o: ArrayLike<number>): Float32Array {
  return swap01(o, w.Hkv, w.T, (w.Hq / w.Hkv) * w.D);
}
