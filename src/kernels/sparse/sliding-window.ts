// sparse.sliding_window: host side of shaders/sparse/sliding-window.wgsl (on the key-walk core).
// Same tensors and config as the dense kernels plus window and sinks; computes the golden op
// attention.sliding_window.
import wgsl from '../../../shaders/sparse/sliding-window.wgsl?raw';
import { grid } from '../../gpu/shader.ts';
import { storage } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { instanceOfStage } from '../stage-instance.ts';
import { planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import type { ConfigSchema, Cost, KernelDefinition, KernelInstance, OutputSpec } from '../contract.ts';
import { BYTES_PER } from '../tensor.ts';
import { attentionReference, slidingWindowMask } from '../../reference/attention.ts';
import {
  attentionInputs,
  attentionSchema,
  checkAttention,
  effectiveScale,
  type AttentionConfig,
} from '../attention/attention-config.ts';
import { roundTo, type HostTensor } from '../tensor.ts';
import { slidingWindowFromGolden, slidingWindowGoldenMeta } from './sparse-golden.ts';
import { SparseAttnParams, WG, numField, selectedField, sumClamped } from './sparse-config.ts';
import { splitParams, type SplitOptions } from './flash-split.ts';
import { WALK_ROWS, walkKernel, walkMergeStep, walkPartialBytes, walkPlan, walkSplit, type WalkPlan } from './key-walk.ts';

export type SlidingWindowConfig = AttentionConfig & {
  window: number;
  sinks: number;
  selected: boolean;
};

const schema: ConfigSchema<SlidingWindowConfig> = {
  ...attentionSchema,
  T: numField(attentionSchema.T, { default: 1 }),
  S: numField(attentionSchema.S, { default: 8192 }),
  window: { type: 'int', label: 'window W', doc: 'each query sees its last W positions (itself included); Mistral 7B: 4096, Gemma 3 local layers: 1024', default: 1024, min: 1, max: 1 << 22, unit: 'tokens' },
  sinks: { type: 'int', label: 'sink tokens', doc: 'first positions every query always sees (StreamingLLM: 4)', default: 4, min: 0, max: 1 << 22, unit: 'tokens' },
  selected: selectedField,
};

export function windowCost(c: SlidingWindowConfig): Cost {
  const lo = c.S - c.T;
  const hi = c.S - 1;
  // Sum over positions of min(p + 1, W) + clamp(p + 1 - W, 0, sinks).
  const pairs = sumClamped(lo + 1, hi + 1, 0, c.window) + sumClamped(lo + 1 - c.window, hi + 1 - c.window, 0, c.sinks);
  const el = BYTES_PER[c.dtype];
  // KV rows any query can see: the sinks and the span from the first query's window to the end.
  const firstWindow = Math.max(0, lo + 1 - c.window);
  const rows = Math.min(c.S, Math.min(c.sinks, firstWindow) + (c.S - firstWindow));
  const kv = 2 * rows * c.Hkv * c.D * el;
  return {
    flops: 4 * pairs * c.Hq * c.D,
    bytes: 2 * c.T * c.Hq * c.D * el + kv + (c.selected ? 4 * c.T * c.S : 0),
    kvCacheBytes: kv,
  };
}

function outputs(c: SlidingWindowConfig): OutputSpec[] {
  const out: OutputSpec[] = [{ name: 'out', shape: [c.T, c.Hq, c.D], dtype: c.dtype }];
  if (c.selected) out.push({ name: 'selected', shape: [c.T, c.S], dtype: 'i32', compare: { kind: 'exact' } });
  return out;
}

function plan(c: SlidingWindowConfig, caps: DeviceCaps, opts: SplitOptions = {}): WalkPlan {
  return walkPlan(caps, { D: c.D, Dv: c.D }, opts);
}

/** Quads (row blocks of 4 rows) per KV head and the split of each quad's key sequence (its sinks, then its window) over walkers. */
export function windowGeometry(c: SlidingWindowConfig, opts: SplitOptions = {}) {
  const group = c.Hq / c.Hkv;
  const rowBlocks = Math.ceil((c.T * group) / WALK_ROWS);
  // A quad spans at most ceil(4 / group) + 1 queries, each seeing the sinks and its window.
  const keys = Math.min(c.S, c.sinks + c.window + Math.ceil(WALK_ROWS / group));
  const split = walkSplit({ items: c.Hkv * rowBlocks, keys, bytesPerKey: 2 * c.D * BYTES_PER[c.dtype] }, opts);
  return { rowBlocks, split, workgroups: c.Hkv * rowBlocks * split.splits };
}

export const slidingWindow: KernelDefinition<SlidingWindowConfig> = {
  id: 'sparse.sliding_window',
  family: 'sparse',
  title: 'Sliding-window attention with sinks',
  explain:
    'Each query attends to its last W positions plus the first few "sink" tokens, which soak up attention mass that would otherwise distort the window ' +
    '(StreamingLLM). Flash-style: a small workgroup owning 4 (query, head) rows of one KV head walks only the keys of the sinks and of its window with an ' +
    'online softmax in registers, reading each K/V row once for all 4 rows, so keys outside are never read and the cost per query stays W + sinks at any ' +
    'context length (Mistral 7B, Gemma 3 local layers, gpt-oss alternate dense and window layers). In decode the window is cut across hundreds of ' +
    'workgroups (split-K), whose partial softmaxes a second pass merges by log-sum-exp; neither pass needs workgroup memory or a barrier.',
  sources: [
    'Beltagy et al. 2020, "Longformer" (sliding window)',
    'Xiao et al. 2023, "Efficient Streaming Language Models with Attention Sinks" (StreamingLLM)',
  ],
  implements: 'attention.sliding_window',
  schema,
  check(c, caps) {
    const issues = checkAttention(c, caps, { vec4: true });
    if (!c.causal) issues.push({ field: 'causal', message: 'false is not supported: the window is causal (key s visible at p when s <= p and (p - s < window or s < sinks))' });
    return issues;
  },
  inputs: attentionInputs,
  outputs,
  plan: (c, caps) => {
    if (!caps) throw new Error('sparse.sliding_window: its buffer plan depends on the device (the tile shape sets the split)');
    return windowBuffers(c, caps);
  },
  cost: windowCost,
  reference(inputs, c) {
    const dt = c.dtype;
    const visible = slidingWindowMask(c.window, c.sinks);
    const out = attentionReference(roundTo(inputs.q!, dt), roundTo(inputs.k!, dt), roundTo(inputs.v!, dt), { ...c, scale: effectiveScale(c) }, visible);
    if (!c.selected) return { out } as Record<string, HostTensor>;
    const selected = new Int32Array(c.T * c.S);
    for (let t = 0; t < c.T; t++) for (let s = 0; s < c.S; s++) selected[t * c.S + s] = visible(c.S - c.T + t, s) ? 1 : 0;
    return { out, selected: { shape: [c.T, c.S], data: selected } };
  },
  fromGolden: slidingWindowFromGolden,
  goldenMeta: slidingWindowGoldenMeta,
  create: (ctx, c) => createSlidingWindow(ctx, c),
  benchmarks: [
    { name: 'decode S=32768 W=2048 sinks=4 Hq=16 Hkv=4 D=64', config: { T: 1, S: 32768, window: 2048, sinks: 4, Hq: 16, Hkv: 4, D: 64 } },
    { name: 'prefill S=512 W=128 sinks=4 H=4 D=64', config: { T: 512, S: 512, window: 128, sinks: 4, Hq: 4, Hkv: 4, D: 64 } },
  ],
  testCases: [
    { name: 'odd sizes, window and sinks, with selection', config: { T: 9, S: 61, Hq: 3, Hkv: 3, D: 20, window: 7, sinks: 3, selected: true } },
    { name: 'GQA 4 prefill T = S, window 13', config: { T: 37, S: 37, Hq: 8, Hkv: 2, D: 32, window: 13, sinks: 2 } },
    { name: 'decode MQA, window spans several tiles', config: { T: 1, S: 301, Hq: 6, Hkv: 1, D: 64, window: 100, sinks: 4 } },
    { name: 'no sinks, window 1 (attends only to itself)', config: { T: 5, S: 40, Hq: 2, Hkv: 1, D: 16, window: 1, sinks: 0 } },
    { name: 'window >= S is dense causal', config: { T: 6, S: 50, Hq: 4, Hkv: 2, D: 12, window: 64, sinks: 0 } },
    { name: 'sinks overlap the window', config: { T: 4, S: 20, Hq: 2, Hkv: 2, D: 8, window: 6, sinks: 17 } },
    { name: 'head dim 256', config: { T: 3, S: 90, Hq: 2, Hkv: 1, D: 256, window: 33, sinks: 1 } },
  ],
};

/** Every buffer sparse.sliding_window owns: its tensors, the parameters and the split partials (sized by the device's tile shape). */
function windowBuffers(c: SlidingWindowConfig, caps: DeviceCaps, opts: SplitOptions = {}) {
  const p = plan(c, caps, opts);
  const { rowBlocks, split } = windowGeometry(c, opts);
  return {
    ...plannedTensors(attentionInputs(c), outputs(c), c.selected ? ['q', 'k', 'v', 'out', 'selected'] : ['q', 'k', 'v', 'out']),
    // What the mask binding gets when `selected` is not an output: 4 bytes, never written.
    selected_off: planned('scratch', 4),
    params: plannedUniform(SparseAttnParams, splitParams(c, effectiveScale(c), split, { window: c.window, sinks: c.sinks, row_blocks: rowBlocks })),
    split_partials: planned('scratch', walkPartialBytes(split, c.T * c.Hq, p)),
  };
}

/** create() with internal options (tests force one split, many splits and the workgroup-memory lane sum). */
export function createSlidingWindow(ctx: GpuContext, c: SlidingWindowConfig, opts: SplitOptions = {}): Promise<KernelInstance> {
  const p = plan(c, ctx, opts);
  const { split, workgroups } = windowGeometry(c, opts);
  return instanceOfStage(ctx, windowBuffers(c, ctx, opts), async (b) => {
    const kernel = await walkKernel(ctx, {
      label: 'sparse.sliding_window',
      wgsl,
      plan: p,
      elem: c.dtype,
      bindings: { selected: storage('i32', 'read_write') },
      entries: ['attend_main', 'merge_main', 'mask_main'] as const,
    });
    const { pipelines } = kernel;
    const group = kernel.bind({ params: b.params, q: b.q, k: b.k, v: b.v, out: b.out, part: b.split_partials, selected: c.selected ? b.selected : b.selected_off });
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const attendGrid = grid(workgroups, maxDim);
    const maskGrid = grid(Math.ceil((c.T * c.S) / WG), maxDim);
    const merge = walkMergeStep(ctx, split, c.T * c.Hq, p);
    return {
      encode(pass: GPUComputePassEncoder) {
        pass.setBindGroup(0, group);
        pass.setPipeline(pipelines.attend_main);
        pass.dispatchWorkgroups(...attendGrid);
        merge(pass, pipelines.merge_main);
        if (c.selected) {
          pass.setPipeline(pipelines.mask_main);
          pass.dispatchWorkgroups(...maskGrid);
        }
      },
    };
  });
}
