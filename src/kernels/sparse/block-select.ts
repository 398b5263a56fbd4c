// sparse.block_select: host side of shaders/sparse/block-select.wgsl (on the key-walk core), with the
// block choice made by the sparse.topk stage.
import wgsl from '../../../shaders/sparse/block-select.wgsl?raw';
import { grid } from '../../gpu/shader.ts';
import { storage } from '../../gpu/bindings.ts';
import type { DeviceCaps, GpuContext } from '../../gpu/context.ts';
import type { ConfigSchema, Cost, KernelDefinition, KernelInstance, OutputSpec, ValidationIssue } from '../contract.ts';
import { BYTES_PER, roundTo, type HostTensor } from '../tensor.ts';
import { instanceOfStage } from '../stage-instance.ts';
import { blockSelectReference } from '../../reference/sparse.ts';
import { attentionInputs, attentionSchema, checkAttention, effectiveScale, type AttentionConfig } from '../attention/attention-config.ts';
import { createTopKStage, topkStageBuffers } from './topk.ts';
import { planned, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { SparseAttnParams, WG, numField, selectedField, sumClamped } from './sparse-config.ts';
import { SPLIT_MAX_BYTES, splitParams, type SplitOptions } from './flash-split.ts';
import { WALK_ROWS, walkKernel, walkMergeStep, walkPartialBytes, walkPlan, walkSplit, type WalkPlan } from './key-walk.ts';

export type BlockSelectConfig = AttentionConfig & {
  block: number;
  topBlocks: number;
  selected: boolean;
};

/** Most blocks: block ids and union positions stay far from 32-bit overflow, and the block scores per row stay small. */
const MAX_BLOCKS = 32 * 1024;

const schema: ConfigSchema<BlockSelectConfig> = {
  ...attentionSchema,
  S: numField(attentionSchema.S, { default: 8192 }),
  block: { type: 'int', label: 'block size B', doc: 'keys per block (MoBA: 512 to 4096; NSA selection: 64)', default: 64, min: 1, max: 1 << 16, unit: 'tokens' },
  topBlocks: { type: 'int', label: 'blocks per query', doc: 'blocks each (query, head) attends to, its own block included (NSA: 16)', default: 8, min: 1, max: 1024 },
  selected: { ...selectedField, doc: 'also output the chosen block ids per (query, head) (for the UI pattern view; leave off for benchmarks)' },
};

export function blockCount(c: { S: number; block: number }): number {
  return Math.ceil(c.S / c.block);
}

function plan(c: BlockSelectConfig, caps: DeviceCaps, opts: SplitOptions = {}): WalkPlan {
  return walkPlan(caps, { D: c.D, Dv: c.D }, opts);
}

/** Quads (row blocks of 4 rows) per KV head and the split of each quad's key sequence (its union of blocks, in order) over walkers. */
export function blockSelectGeometry(c: BlockSelectConfig, opts: SplitOptions = {}) {
  const rows = c.T * (c.Hq / c.Hkv);
  const rowBlocks = Math.ceil(rows / WALK_ROWS);
  // A quad's union holds at most every block, and at most topBlocks per row.
  const union = Math.min(blockCount(c), Math.min(rows, WALK_ROWS) * c.topBlocks);
  const split = walkSplit({ items: c.Hkv * rowBlocks, keys: union * c.block, bytesPerKey: 2 * c.D * BYTES_PER[c.dtype] }, opts);
  return { rowBlocks, split, workgroups: c.Hkv * rowBlocks * split.splits };
}

/** Workgroups that fill a large GPU: with at least this many, a workgroup may stream more than SPLIT_MAX_BYTES. */
const FILL_WORKGROUPS = 512;

/**
 * Pooling and scoring geometry (both one thread per output, no workgroup memory). pool_main: a block is
 * pooled in `pieces` of `piece` keys, as few as keep each workgroup within SPLIT_MAX_BYTES of K or give the
 * dispatch FILL_WORKGROUPS workgroups (a long MoBA block in one piece would be one thread summing it all).
 * score_main: SCORE_WG threads a workgroup, a power of two, as many as keep its pooled reads within
 * SPLIT_MAX_BYTES or still give FILL_WORKGROUPS workgroups.
 */
export function blockSelectPooling(c: Pick<BlockSelectConfig, 'T' | 'S' | 'Hq' | 'Hkv' | 'D' | 'block' | 'dtype'>) {
  const D4 = c.D / 4;
  const nB = blockCount(c);
  // A pool workgroup reads WG vec4 columns of `piece` keys each.
  const wgBytes = (piece: number) => WG * piece * 4 * BYTES_PER[c.dtype];
  const poolWorkgroups = (pieces: number) => Math.ceil((nB * pieces * c.Hkv * D4) / WG);
  let pieces = 1;
  while (pieces < c.block && wgBytes(Math.ceil(c.block / pieces)) > SPLIT_MAX_BYTES && poolWorkgroups(pieces) < FILL_WORKGROUPS) pieces *= 2;
  pieces = Math.min(pieces, c.block);
  const piece = Math.ceil(c.block / pieces);
  pieces = Math.ceil(c.block / piece);
  const items = c.T * c.Hq * nB;
  const scoreBytes = (threads: number) => threads * pieces * c.D * 4;
  let SCORE_WG = WG;
  while (SCORE_WG > 1 && scoreBytes(SCORE_WG) > SPLIT_MAX_BYTES && Math.ceil(items / SCORE_WG) < FILL_WORKGROUPS) SCORE_WG /= 2;
  return {
    pieces,
    piece,
    SCORE_WG,
    poolWorkgroups: poolWorkgroups(pieces),
    /** K bytes one pool_main workgroup sums. */
    poolBytesPerWorkgroup: wgBytes(piece),
    scoreWorkgroups: Math.ceil(items / SCORE_WG),
    /** Pooled-key bytes (f32) one score_main workgroup reads. */
    scoreBytesPerWorkgroup: scoreBytes(SCORE_WG),
  };
}

const topkShape = (c: BlockSelectConfig) => ({ rows: c.T * c.Hq, cols: blockCount(c), k: c.topBlocks, causal: false, split: 0 });

/**
 * `pairs`: (query, head, key) triples attended; `vRows`: distinct (key, KV head) rows of V read. All of K is
 * read (every block is pooled); V only in blocks somebody selected.
 */
function blockSelectWork(c: BlockSelectConfig, pairs: number, vRows: number): Cost {
  const el = BYTES_PER[c.dtype];
  const nB = blockCount(c);
  const kBytes = c.S * c.Hkv * c.D * el;
  const sel = 4 * c.T * c.Hq * c.topBlocks;
  // Pooled keys written and read, block scores written and read by the top-k, the selection read by the
  // attention (and written, when it is not an output).
  const intermediateBytes = 8 * nB * blockSelectPooling(c).pieces * c.Hkv * c.D + 8 * c.T * c.Hq * nB + (c.selected ? sel : 2 * sel);
  return {
    // Mean pooling, block scores, then QK^T and PV over the selected keys.
    flops: c.S * c.Hkv * c.D + 2 * c.T * c.Hq * nB * c.D + 4 * pairs * c.D,
    bytes: 2 * c.T * c.Hq * c.D * el + kBytes + vRows * c.D * el + (c.selected ? sel : 0) + intermediateBytes,
    kvCacheBytes: kBytes + vRows * c.D * el,
    intermediateBytes,
  };
}

/** Before a run: at most topBlocks * B keys per query (no more than it may see), V read in full. */
export function blockSelectCost(c: BlockSelectConfig): Cost {
  const lo = c.S - c.T + 1;
  const pairs = (c.causal ? sumClamped(lo, c.S, 0, c.topBlocks * c.block) : c.T * Math.min(c.S, c.topBlocks * c.block)) * c.Hq;
  return blockSelectWork(c, pairs, c.S * c.Hkv);
}

/**
 * After a run: the blocks each (query, head) chose (the `selected` output, or the same gate recomputed from q
 * and k on the host when it is not an output), the keys of those blocks it may see, and the union of V rows.
 */
export function blockSelectRunCost(c: BlockSelectConfig, t: Record<string, HostTensor>): Cost {
  const chosen = t.selected?.data ?? blockSelectReference(t.q!, t.k!, t.v!, { ...c, scale: effectiveScale(c) }).selected.data;
  const group = c.Hq / c.Hkv;
  const vRead = new Uint8Array(c.S * c.Hkv);
  let pairs = 0;
  for (let q = 0; q < c.T; q++) {
    const last = c.causal ? c.S - c.T + q : c.S - 1;
    for (let h = 0; h < c.Hq; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < c.topBlocks; i++) {
        const b = chosen[(q * c.Hq + h) * c.topBlocks + i]!;
        if (b < 0) continue;
        const end = Math.min(b * c.block + c.block - 1, last);
        for (let s = b * c.block; s <= end; s++) vRead[s * c.Hkv + kvh] = 1;
        pairs += Math.max(0, end - b * c.block + 1);
      }
    }
  }
  let vRows = 0;
  for (const r of vRead) vRows += r;
  return blockSelectWork(c, pairs, vRows);
}

function outputs(c: BlockSelectConfig): OutputSpec[] {
  const out: OutputSpec[] = [{ name: 'out', shape: [c.T, c.Hq, c.D], dtype: c.dtype }];
  if (c.selected) out.push({ name: 'selected', shape: [c.T, c.Hq, c.topBlocks], dtype: 'i32', compare: { kind: 'exact' } });
  return out;
}

export const blockSelect: KernelDefinition<BlockSelectConfig> = {
  id: 'sparse.block_select',
  family: 'sparse',
  title: 'Block-sparse attention (MoBA / NSA selection)',
  explain:
    'Keys are cut into blocks of B; a block is summarised by the mean of its keys, each (query, head) scores the blocks with one dot product each and ' +
    'keeps its own block plus the best others (top-k over the block scores, causal: only blocks that start at or before the query), then attends to ' +
    'just those keys. The gate costs S/B dot products per query instead of S, and attention touches topBlocks * B keys. A small workgroup of 4 ' +
    '(query, head) rows walks the union of its rows\' blocks (merging their sorted choices as it goes), so blocks nobody chose are never loaded, and in ' +
    'decode the union is cut across hundreds of workgroups whose partial softmaxes are merged by log-sum-exp (Kimi\'s MoBA; the selection branch of DeepSeek\'s NSA).',
  sources: [
    'Lu et al. 2025, "MoBA: Mixture of Block Attention for Long-Context LLMs" (Moonshot AI)',
    'Yuan et al. 2025, "Native Sparse Attention" (DeepSeek), selection branch',
  ],
  schema,
  check(c, caps) {
    const issues: ValidationIssue[] = checkAttention(c, caps, { vec4: true });
    if (blockCount(c) > MAX_BLOCKS) issues.push({ field: 'block', message: `${c.block} cuts S = ${c.S} into ${blockCount(c)} blocks, over the ${MAX_BLOCKS} this kernel takes` });
    return issues;
  },
  inputs: attentionInputs,
  outputs,
  plan: (c, caps) => {
    if (!caps) throw new Error('sparse.block_select: its buffer plan depends on the device (the attention tile shape sets the split)');
    return blockSelectBuffers(c, caps);
  },
  cost: blockSelectCost,
  runCost: blockSelectRunCost,
  reference(inputs, c) {
    const dt = c.dtype;
    const r = blockSelectReference(roundTo(inputs.q!, dt), roundTo(inputs.k!, dt), roundTo(inputs.v!, dt), { ...c, scale: effectiveScale(c) });
    const outs: Record<string, HostTensor> = { out: r.out };
    if (c.selected) outs.selected = r.selected;
    return outs;
  },
  create: (ctx, c) => createBlockSelect(ctx, c),
  benchmarks: [
    { name: 'decode S=16384 B=64 top=16 Hq=16 Hkv=4 D=64', config: { T: 1, S: 16384, block: 64, topBlocks: 16, Hq: 16, Hkv: 4, D: 64 } },
    { name: 'prefill S=512 B=32 top=4 H=4 D=32', config: { T: 512, S: 512, block: 32, topBlocks: 4, Hq: 4, Hkv: 4, D: 32 } },
  ],
  testCases: [
    { name: 'odd sizes, GQA 2, with selection', config: { T: 9, S: 61, Hq: 4, Hkv: 2, D: 20, block: 7, topBlocks: 3, selected: true } },
    { name: 'every block = dense causal', config: { T: 6, S: 50, Hq: 2, Hkv: 1, D: 16, block: 8, topBlocks: 7 } },
    { name: 'decode MQA, 19 blocks', config: { T: 1, S: 300, Hq: 4, Hkv: 1, D: 32, block: 16, topBlocks: 4 } },
    { name: 'prefill T = S, blocks of 5', config: { T: 40, S: 40, Hq: 2, Hkv: 2, D: 12, block: 5, topBlocks: 2, selected: true } },
    { name: 'non-causal', config: { T: 5, S: 30, Hq: 2, Hkv: 1, D: 8, block: 6, topBlocks: 2, causal: false } },
    { name: 'blocks of one key', config: { T: 4, S: 12, Hq: 2, Hkv: 2, D: 8, block: 1, topBlocks: 5 } },
  ],
};

function blockSelectKernel(ctx: GpuContext, c: BlockSelectConfig, p: WalkPlan) {
  return walkKernel(ctx, {
    label: 'sparse.block_select',
    wgsl,
    plan: p,
    elem: c.dtype,
    bindings: { pooled: storage('vec4<f32>', 'read_write'), block_scores: storage('f32', 'read_write'), sel: storage('i32') },
    constants: { SCORE_WG: blockSelectPooling(c).SCORE_WG },
    entries: ['pool_main', 'score_main', 'attend_main', 'merge_main'] as const,
  });
}

/**
 * Every buffer sparse.block_select owns: its tensors; the parameters; the pooled keys, block scores and the
 * chosen blocks; the split partials (sized by the device's tile shape); the
 * top-k stage's parameters and scratch, and a values buffer it never writes.
 */
function blockSelectBuffers(c: BlockSelectConfig, caps: DeviceCaps, opts: SplitOptions = {}) {
  const p = plan(c, caps, opts);
  const nB = blockCount(c);
  const pool = blockSelectPooling(c);
  const { rowBlocks, split } = blockSelectGeometry(c, opts);
  const selBytes = 4 * c.T * c.Hq * c.topBlocks;
  const extra = { causal: c.causal ? 1 : 0, block: c.block, n_blocks: nB, pieces: pool.pieces, piece: pool.piece, top: c.topBlocks, row_blocks: rowBlocks };
  return {
    ...plannedTensors(attentionInputs(c), outputs(c), c.selected ? ['q', 'k', 'v', 'out', 'selected'] : ['q', 'k', 'v', 'out']),
    // The chosen blocks when they are not the `selected` output (else 4 bytes, never bound).
    selected_blocks: planned('scratch', c.selected ? 4 : selBytes),
    params: plannedUniform(SparseAttnParams, splitParams(c, effectiveScale(c), split, extra)),
    pooled_keys: planned('scratch', 4 * nB * pool.pieces * c.Hkv * c.D),
    block_scores: planned('scratch', 4 * c.T * c.Hq * nB),
    split_partials: planned('scratch', walkPartialBytes(split, c.T * c.Hq, p)),
    ...topkStageBuffers(topkShape(c), false),
    topk_values: planned('scratch', 4),
  };
}

/** create() with internal options (tests force one split, many splits and the workgroup-memory lane sum). */
export function createBlockSelect(ctx: GpuContext, c: BlockSelectConfig, opts: SplitOptions = {}): Promise<KernelInstance> {
  const p = plan(c, ctx, opts);
  const pool = blockSelectPooling(c);
  const { split, workgroups } = blockSelectGeometry(c, opts);
  return instanceOfStage(ctx, blockSelectBuffers(c, ctx, opts), async (b) => {
    // The chosen blocks: the `selected` output, or scratch.
    const sel = c.selected ? b.selected : b.selected_blocks;
    const kernel = await blockSelectKernel(ctx, c, p);
    const topk = await createTopKStage(ctx, topkShape(c), { ...b, scores: b.block_scores, indices: sel, values: b.topk_values }, 'sparse.block_select top-k');
    const { pipelines } = kernel;
    const group = kernel.bind({ params: b.params, q: b.q, k: b.k, v: b.v, out: b.out, part: b.split_partials, pooled: b.pooled_keys, block_scores: b.block_scores, sel });
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    const poolGrid = grid(pool.poolWorkgroups, maxDim);
    const scoreGrid = grid(pool.scoreWorkgroups, maxDim);
    const attendGrid = grid(workgroups, maxDim);
    const merge = walkMergeStep(ctx, split, c.T * c.Hq, p);
    return {
      encode(pass: GPUComputePassEncoder) {
        pass.setBindGroup(0, group);
        pass.setPipeline(pipelines.pool_main);
        pass.dispatchWorkgroups(...poolGrid);
        pass.setPipeline(pipelines.score_main);
        pass.dispatchWorkgroups(...scoreGrid);
        topk.encode(pass);
        pass.setBindGroup(0, group);
        pass.setPipeline(pipelines.attend_main);
        pass.dispatchWorkgroups(...attendGrid);
        merge(pass, pipelines.merge_main);
      },
    };
  });
}
