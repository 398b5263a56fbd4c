// Flash decoding, traced: attention.flash_decode run with its key range cut into small splits, and pass 1's
// partials (max, sum, unnormalised output per split and row) read back from the GPU next to the merged output.
// Each frame is one split: that split's own (m, l, o) and the merge so far, M = max m_j,
// L = Σ 2^(m_j − M) l_j, O = Σ 2^(m_j − M) acc_j / L (merge_main's formula applied to the partials read back).
// No GPU code here beyond running the kernel; checkFlashTrace compares every frame with the float64 reference.
import type { GpuContext } from '../../gpu/context.ts';
import { createFlashDecode } from '../../kernels/attention/flash-decode.ts';
import { effectiveScale, type AttentionConfig } from '../../kernels/attention/attention-config.ts';
import { flashDecode } from '../../kernels/attention/flash-decode.ts';
import { assertValid, encodeOnce, poisonOutputs, readOutputs, uploadInputs } from '../../kernels/execute.ts';
import { relL2, type CompareResult } from '../../kernels/compare.ts';
import { decodeTensor, type HostTensor } from '../../kernels/tensor.ts';
import { attentionReference, causalMask, fullMask, splitPartialsReference } from '../../reference/attention.ts';

export interface FlashSplit {
  start: number;
  end: number;
  /** [rows] as the GPU kept them: max score in log2 units, and the sum of 2^(score − m). */
  m: number[];
  l: number[];
  /** [rows, D] the split's output acc / l. */
  o: number[];
}

export interface FlashTrace {
  config: AttentionConfig;
  chunk: number;
  inputs: Record<'q' | 'k' | 'v', { shape: number[]; data: number[] }>;
  splits: FlashSplit[];
  /** [rows, D] merge_main's output. */
  out: number[];
}

export interface FlashFrame {
  split: FlashSplit;
  /** Merge of splits 0..j: running max M, sum L (rescaled to M) and output O, per row. */
  M: number[];
  L: number[];
  O: number[];
  /** Each split's share of the softmax mass so far: 2^(m_j − M) l_j / L (NaN for splits not reached). Row 0. */
  shares: number[];
}

const rowsOf = (c: AttentionConfig) => c.T * c.Hq;

/** The step-through's small case: one query over S keys in splits of `chunk`. */
export function flashTraceConfig(S = 64, chunk = 8): { config: AttentionConfig; chunk: number } {
  return { config: { T: 1, S, Hq: 2, Hkv: 1, D: 16, causal: true, scale: 0, dtype: 'f32' } as AttentionConfig, chunk };
}

/** Run flash_decode once with splits of `chunk` keys and read back its partials and output. */
export async function traceFlashDecode(ctx: GpuContext, config: AttentionConfig, chunk: number, inputs: Record<'q' | 'k' | 'v', HostTensor>): Promise<FlashTrace> {
  assertValid(ctx, flashDecode, config);
  const inst = await createFlashDecode(ctx, config, { chunk });
  try {
    const splits = inst.plan.splits;
    if (splits < 2) throw new Error(`chunk: ${chunk} keys leave one split of S = ${config.S}; the step-through needs at least 2`);
    uploadInputs(ctx, inst, flashDecode.inputs(config), inputs);
    poisonOutputs(ctx, inst, flashDecode.outputs(config));
    encodeOnce(ctx, inst);
    const rows = rowsOf(config);
    const D = config.D;
    const out = await readOutputs(ctx, inst, flashDecode.outputs(config));
    const acc = decodeTensor(await ctx.buffers.read(inst.partials.acc, splits * rows * D * 4), [splits, rows, D], 'f32').data;
    const ml = decodeTensor(await ctx.buffers.read(inst.partials.ml, splits * rows * 8), [splits, rows, 2], 'f32').data;
    ctx.assertAlive();
    const parts: FlashSplit[] = [];
    for (let j = 0; j < splits; j++) {
      const m: number[] = [];
      const l: number[] = [];
      const o: number[] = [];
      for (let r = 0; r < rows; r++) {
        m.push(ml[(j * rows + r) * 2]!);
        l.push(ml[(j * rows + r) * 2 + 1]!);
        for (let d = 0; d < D; d++) o.push(acc[(j * rows + r) * D + d]! / l[r]!);
      }
      parts.push({ start: j * chunk, end: Math.min(config.S, (j + 1) * chunk), m, l, o });
    }
    const plain = (t: HostTensor) => ({ shape: [...t.shape], data: Array.from(t.data) });
    return { config, chunk, inputs: { q: plain(inputs.q), k: plain(inputs.k), v: plain(inputs.v) }, splits: parts, out: Array.from(out.out!.data) };
  } finally {
    inst.destroy();
  }
}

/** Frame j: split j and the merge of splits 0..j. */
export function flashFrames(trace: FlashTrace): FlashFrame[] {
  const rows = rowsOf(trace.config);
  const D = trace.config.D;
  return trace.splits.map((split, j) => {
    const seen = trace.splits.slice(0, j + 1);
    const M: number[] = [];
    const L: number[] = [];
    const O: number[] = [];
    for (let r = 0; r < rows; r++) {
      const big = Math.max(...seen.map((s) => s.m[r]!));
      const w = seen.map((s) => (s.m[r] === -Infinity ? 0 : 2 ** (s.m[r]! - big)));
      const sum = seen.reduce((a, s, i) => a + w[i]! * s.l[r]!, 0);
      M.push(big);
      L.push(sum);
      for (let d = 0; d < D; d++) O.push(seen.reduce((a, s, i) => a + w[i]! * s.l[r]! * s.o[r * D + d]!, 0) / sum);
    }
    const shares = trace.splits.map((s, i) => (i <= j ? (2 ** (s.m[0]! - M[0]!) * s.l[0]!) / L[0]! : NaN));
    return { split, M, L, O, shares };
  });
}

export interface FrameCheck {
  frame: number;
  checks: CompareResult[];
  ok: boolean;
}

const tensor = (t: { shape: number[]; data: number[] }): HostTensor => ({ shape: t.shape, data: Float64Array.from(t.data) });

/**
 * Every frame against float64: the split's (m, l, o) against the split's own softmax, the running output
 * against attention over the keys up to the split's end; the last frame's output also against merge_main's.
 */
export function checkFlashTrace(trace: FlashTrace, tolerance = 1e-4): FrameCheck[] {
  const c = trace.config;
  const q = tensor(trace.inputs.q);
  const k = tensor(trace.inputs.k);
  const v = tensor(trace.inputs.v);
  const shape = { ...c, scale: effectiveScale(c) };
  const mask = c.causal ? causalMask : fullMask;
  const want = splitPartialsReference(q, k, v, shape, mask, trace.chunk);
  const frames = flashFrames(trace);
  return frames.map((f, j) => {
    const end = f.split.end;
    const prefix = attentionReference(q, k, v, shape, (p, s) => s < end && mask(p, s)).data;
    const checks = [
      relL2(`split ${j} max m`, f.split.m, want[j]!.m, tolerance),
      relL2(`split ${j} sum l`, f.split.l, want[j]!.l, tolerance),
      relL2(`split ${j} output o`, f.split.o, want[j]!.o, tolerance),
      relL2(`merged output over keys 0..${end - 1}`, f.O, prefix, tolerance),
    ];
    if (j === frames.length - 1) checks.push(relL2('merge_main output', trace.out, prefix, tolerance));
    return { frame: j, checks, ok: checks.every((x) => x.ok) };
  });
}
