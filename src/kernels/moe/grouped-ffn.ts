// moe.grouped_ffn: host side of shaders/moe/grouped-ffn.wgsl. The same stage runs the routed experts
// (rows gathered through the dispatch permutation, tiles numbered on the GPU, indirect dispatch) and, with
// one "expert" and the identity row map, the shared experts and the dense FFN.
import { instanceOfStage } from '../stage-instance.ts';
import tiledWgsl from '../../../shaders/moe/grouped-ffn.wgsl?raw';
import gemvUpWgsl from '../../../shaders/moe/grouped-ffn-gemv.wgsl?raw';
import gemvDownWgsl from '../../../shaders/moe/grouped-ffn-gemv-down.wgsl?raw';
import tilesWgsl from '../../../shaders/moe/expert-tiles.wgsl?raw';
import findTileWgsl from '../../../shaders/moe/find-tile.wgsl?raw';
import type { AdapterSummary, DeviceCaps, GpuContext } from '../../gpu/context.ts';
import { storage, uniform } from '../../gpu/bindings.ts';
import { createKernel, type StorageDType } from '../../gpu/shader.ts';
import { workgroupBytes } from '../../gpu/wgsl-declarations.ts';
import { allocate, planned, planScratch, plannedUniform } from '../common/buffer-plan.ts';
import { gemmQuadCore, gemmQuadTile } from '../common/gemm.ts';
import { laneSumSource } from '../attention/flash-lanes.ts';
import { needF16 } from '../common/rules.ts';
import { roundTo, type HostTensor } from '../tensor.ts';
import { dispatchReference, groupedFfnReference } from '../../reference/moe.ts';
import type { ConfigOf, ConfigSchema, Cost, KernelDefinition, OutputSpec, TensorSpec, ValidationIssue } from '../contract.ts';
import { randomNormal } from '../random.ts';
import { expectedRoutedWork, routedWorkFromOffsets, type RoutedWork } from './moe-cost.ts';
import { FfnParams, WG, FILL_BYTES_PER_WORKGROUP, FILL_WORKGROUPS, checkGrid, checkVec4, checkWorkgroup, ffnWeights, maxRowTiles, pickSchema, skewedIndices, tileRows, type Stage } from './moe-config.ts';

export const interField = { type: 'int', label: 'expert hidden dim', doc: 'hidden size of one expert (moe_intermediate_size)', default: 32, min: 4, max: 65536 } as const;

/** Storage of FFN weights (moe.grouped_ffn, moe.dense_ffn, moe.forward's experts). */
export const weightDtypeField = { type: 'enum', label: 'weight storage', doc: 'FFN weights stored as f32 or f16 (needs shader-f16); the same WGSL, arithmetic in f32', default: 'f32', values: ['f32', 'f16'] as const } as const;

export const groupedFfnSchema = {
  ...pickSchema(['N', 'E', 'topk', 'dim'] as const),
  inter: interField,
  dtype: weightDtypeField,
} satisfies ConfigSchema;

export type GroupedFfnConfig = ConfigOf<typeof groupedFfnSchema>;

export interface FfnStageOptions {
  label: string;
  /** rows of h and y */
  rows: number;
  dim: number;
  inter: number;
  /** experts (1 for the identity map) */
  E: number;
  /** true: rows are token copies in expert order (sorted_tokens, offsets); false: row p is token p */
  gather: boolean;
  /** at most this many rows per expert (N for routed copies: a token picks an expert once) */
  maxRowsPerExpert: number;
  /**
   * Internal knobs (tests reach every path with them): the matmul path, false to force lane_sum's
   * workgroup-memory variant, and the GEMV's weight rows per quad (default: ffnGemvShape's pick).
   */
  path?: FfnPath;
  subgroups?: boolean;
  quadRows?: 1 | 4;
}

/**
 * 'gemv': decode-sized row groups (shaders/moe/grouped-ffn-gemv.wgsl); 'tiled': prefill-sized, an up and a
 * down launch (grouped-ffn.wgsl); 'fused': prefill-sized with inter <= FUSED_MAX_INTER, one launch whose
 * workgroups run both matmuls of their row tile.
 */
export type FfnPath = 'gemv' | 'tiled' | 'fused';

/**
 * Up to this expert width (on CPU emulation at most two 64-column up blocks per row tile) the down matmul,
 * K = inter deep, is too shallow to pay for a launch of its own: the tiled path fuses.
 */
export const FUSED_MAX_INTER = 64;

/** Token rows of one GEMV tile (MT in grouped-ffn-gemv.wgsl). */
export const GEMV_TILE_ROWS = 8;

/** Invocations of a GEMV quad (L, for lane_sum): WebGPU's smallest subgroup, so a quad's lanes share one. */
export const GEMV_LANES = 4;

/**
 * A GEMV pass's launch: invocations per workgroup, weight rows per quad (QR in grouped-ffn-gemv*.wgsl: the
 * components of its one or two vec4 accumulators per token row), weight rows per workgroup, workgroups,
 * weight bytes each.
 */
export interface FfnGemvShape {
  wg: number;
  quadRows: 1 | 4 | 8;
  rowsPerWorkgroup: number;
  workgroups: number;
  bytesPerWorkgroup: number;
}

/**
 * Launch of one GEMV pass over `tiles` row tiles x `outRows` weight rows of K elements in `matrices`
 * matrices: the first shape that fills a GPU (>= FILL_WORKGROUPS workgroups or <= FILL_BYTES_PER_WORKGROUP
 * weight bytes per workgroup), trying quads of 8 (the down pass) or 4 weight rows before quads of 1 (the
 * rows share every x load) and, for each, the largest of 256..16 invocations (fewest workgroups, the least per-workgroup set-up);
 * 16 invocations of 1-row quads where none does.
 */
export function ffnGemvShape(o: { tiles: number; outRows: number; K: number; matrices: number; bytesPerElem: number; maxWg?: number; quadRows?: 1 | 4 | 8 }): FfnGemvShape {
  const shape = (wg: number, quadRows: 1 | 4 | 8): FfnGemvShape => {
    const rows = (wg / GEMV_LANES) * quadRows;
    return { wg, quadRows, rowsPerWorkgroup: rows, workgroups: o.tiles * Math.ceil(o.outRows / rows), bytesPerWorkgroup: rows * o.K * o.matrices * o.bytesPerElem };
  };
  const sizes = [256, 128, 64, 32, 16].filter((wg) => wg <= (o.maxWg ?? 256));
  // One matrix (the down pass) takes quads of 8 rows: as many loads per FMA as 4 rows of w1 and w3.
  for (const quadRows of o.quadRows ? [o.quadRows] : o.matrices === 1 ? ([8, 4, 1] as const) : ([4, 1] as const)) {
    for (const wg of sizes) {
      const s = shape(wg, quadRows);
      if (s.workgroups >= FILL_WORKGROUPS || s.bytesPerWorkgroup <= FILL_BYTES_PER_WORKGROUP) return s;
    }
  }
  return shape(sizes[sizes.length - 1] ?? 16, o.quadRows ?? 1);
}

/**
 * Shapes of the up and down GEMVs, sized for the fewest row tiles a launch can have: rows / MT, and at least
 * one per expert in use (rows / maxRowsPerExpert of them: a decode token's topk copies go to topk experts).
 * Weight bytes are counted at 4 per element (f16 storage halves them).
 */
export function ffnGemvShapes(o: Pick<FfnStageOptions, 'rows' | 'dim' | 'inter' | 'maxRowsPerExpert' | 'quadRows'>, bytesPerElem = 4): { up: FfnGemvShape; down: FfnGemvShape } {
  const tiles = Math.max(Math.ceil(o.rows / GEMV_TILE_ROWS), Math.ceil(o.rows / Math.max(1, o.maxRowsPerExpert)));
  return {
    up: ffnGemvShape({ tiles, outRows: o.inter, K: o.dim, matrices: 2, bytesPerElem, quadRows: o.quadRows }),
    down: ffnGemvShape({ tiles, outRows: o.dim, K: o.inter, matrices: 1, bytesPerElem, quadRows: o.quadRows }),
  };
}

/**
 * The GEMV streams each expert's weights once per 8-row tile, the tiled matmul once per 16..64-row tile
 * (from registers, each value feeding a quad tile's rows): up to 64 rows per expert on average (decode batches) the GEMV's full-width
 * coalesced stream and its many workgroups win; past that the tiles' reuse does.
 */
export function ffnPath(o: Pick<FfnStageOptions, 'rows' | 'E' | 'inter' | 'path'>): FfnPath {
  return o.path ?? (o.rows / o.E <= 64 ? 'gemv' : o.inter <= FUSED_MAX_INTER ? 'fused' : 'tiled');
}

export type FfnBuffers = Record<'x' | 'w1' | 'w2' | 'w3' | 'y', GPUBuffer> & {
  /** gather only */
  sorted_tokens?: GPUBuffer;
  offsets?: GPUBuffer;
};

const FFN_BINDINGS = {
  params: uniform(FfnParams),
  x: storage('vec4<f32>'),
  sorted_tokens: storage('i32'),
  tiles: storage('u32'),
  w1: storage('vec4<elem>'),
  w3: storage('vec4<elem>'),
  w2: storage('vec4<elem>'),
  h: storage('f32', 'read_write'),
  y: storage('f32', 'read_write'),
};

/**
 * The GEMV passes: up writes h, down reads it as vec4 (so each has its own layout). h and y are written as
 * scalars: a quad of 1-row quads writes 4 columns of one vec4 from 4 invocations.
 */
const { w2: _w2, y: _y, ...GEMV_UP_BINDINGS } = FFN_BINDINGS;
const GEMV_DOWN_BINDINGS = { params: FFN_BINDINGS.params, tiles: FFN_BINDINGS.tiles, w2: FFN_BINDINGS.w2, h: storage('vec4<f32>'), y: FFN_BINDINGS.y };

/** The tiled passes read and write h and y as vec4 (dim and inter are multiples of 4; a lane stores whole vec4s of its tile rows). */
const TILED_BINDINGS = { ...FFN_BINDINGS, h: storage('vec4<f32>', 'read_write'), y: storage('vec4<f32>', 'read_write') };

const TILES_BINDINGS = {
  params: uniform(FfnParams),
  offsets: storage('i32'),
  tiles_out: storage('u32', 'read_write'),
  dispatch_args: storage('u32', 'read_write'),
};

type Caps = DeviceCaps & { adapter?: AdapterSummary };

/**
 * Rows per expert tile: 8 for the GEMV; for the tiled matmul 16, 32 or 64 by the average rows per expert,
 * at most the quad core's block height for the device (64 on CPU emulation, 32 on a GPU whose quads hold
 * 8 x 8 tiles).
 */
export function ffnTileRows(o: Pick<FfnStageOptions, 'rows' | 'E' | 'inter' | 'path'>, caps: Caps): number {
  return ffnPath(o) === 'gemv' ? GEMV_TILE_ROWS : Math.min(tileRows(o.rows / o.E), 16 * gemmQuadTile(caps, true).rowQuads);
}

/**
 * The tiled paths' GEMM core (lib/gemm-quad.wgsl, B as [N, K]: the weights' nn.Linear layout): bm / 16 row
 * quads per quad tile, so the workgroup's block is exactly one expert row tile, and the device's column
 * quads (4 on CPU emulation, 2 on a GPU: always even, so the up pass's gate and up vec4s pair in one quad).
 */
export function ffnGemm(bm: number, caps: Caps, subgroups = caps.features.subgroups) {
  const rowQuads = bm / 16;
  if (rowQuads !== 1 && rowQuads !== 2 && rowQuads !== 4) throw new Error(`grouped FFN tile rows = ${bm} must be 16, 32 or 64`);
  return gemmQuadCore({ ...gemmQuadTile(caps, true, subgroups), rowQuads });
}

/**
 * Columns of the up and down outputs per workgroup: GEMV weight rows, or a GEMM block of `bn` columns (up:
 * half of it is w3). The column counts only enter the uniform, so the scratch plan may take the default.
 */
function ffnColumnTiles(o: Pick<FfnStageOptions, 'rows' | 'E' | 'path' | 'dim' | 'inter' | 'maxRowsPerExpert' | 'quadRows'>, bn: number) {
  if (ffnPath(o) === 'gemv') {
    const shapes = ffnGemvShapes(o);
    return { up: Math.ceil(o.inter / shapes.up.rowsPerWorkgroup), down: Math.ceil(o.dim / shapes.down.rowsPerWorkgroup) };
  }
  return { up: Math.ceil((2 * o.inter) / bn), down: Math.ceil(o.dim / bn) };
}

/** Every buffer an FFN stage owns: the intermediate h, the tile table, the indirect sizes, its parameters. */
export function ffnStagePlan(o: FfnStageOptions, bn = 64) {
  const cols = ffnColumnTiles(o, bn);
  return {
    h: planned('scratch', o.rows * o.inter * 4),
    tiles: planned('scratch', (2 * o.E + 2) * 4),
    // Written by the tile pass of a routed stage; the identity map's grid is known on the CPU (24 idle bytes).
    args: planned('indirect', 6 * 4),
    params: plannedUniform(FfnParams, { rows: o.rows, dim: o.dim, inter: o.inter, E: o.E, gather: o.gather ? 1 : 0, col_tiles_up: cols.up, col_tiles_down: cols.down }),
  };
}

export function checkFfnShape(o: FfnStageOptions, caps: DeviceCaps, interField = 'inter'): ValidationIssue[] {
  const bm = ffnTileRows(o, caps);
  // lane_sum's slots (workgroup-memory variant: the most either path declares)
  const storage = ffnPath(o) === 'gemv' ? workgroupBytes(laneSumSource(false, 256).workgroup) : ffnGemm(bm, caps, false).bytes;
  return [
    ...(storage > caps.limits.maxComputeWorkgroupStorageSize
      ? [{ field: 'device', message: `the expert matmul tiles need ${storage} bytes of workgroup memory; this device allows ${caps.limits.maxComputeWorkgroupStorageSize}` }]
      : []),
    ...checkVec4('dim', o.dim),
    ...checkVec4(interField, o.inter),
    ...checkWorkgroup(caps),
    ...checkGrid('N', maxRowTiles(o.rows, o.E, o.maxRowsPerExpert, bm), caps),
  ];
}

/**
 * SwiGLU FFN over row groups. Routed: a tile pass numbers the BM-row tiles of every expert and writes the
 * indirect dispatch sizes; the matmuls launch exactly those tiles. Identity (one group, rows = tokens): the
 * tile table is a constant and the grid is known on the CPU.
 */
export async function createFfnStage(ctx: GpuContext, o: FfnStageOptions, t: FfnBuffers, elem: StorageDType = 'f32'): Promise<Stage & { h: GPUBuffer }> {
  const gemv = ffnPath(o) === 'gemv';
  const fused = ffnPath(o) === 'fused';
  const bm = ffnTileRows(o, ctx);
  const subgroups = ctx.features.subgroups && o.subgroups !== false;
  const core = ffnGemm(gemv ? 16 : bm, ctx, subgroups);
  const cols = ffnColumnTiles(o, core.block.bn);
  const shapes = ffnGemvShapes(o);
  const gemvModule = <B extends typeof GEMV_UP_BINDINGS | typeof GEMV_DOWN_BINDINGS>(wgsl: string, bindings: B, { wg, quadRows: qr }: FfnGemvShape) => ({
    label: o.label,
    wgsl: [wgsl, findTileWgsl, laneSumSource(subgroups, wg).wgsl].join('\n'),
    elem,
    bindings,
    constants: { WG: wg, QR: qr, L: GEMV_LANES, MT: GEMV_TILE_ROWS, BM: GEMV_TILE_ROWS },
    workgroup: laneSumSource(subgroups, wg).workgroup,
    enable: laneSumSource(subgroups, wg).enable,
  });
  // What a launch reads of each weight binding (the dispatch geometry's bytes): the weights of at most
  // min(E, rows) experts, the ones rows are routed to, not all E bound.
  const reads = Math.min(o.E, o.rows) * o.dim * o.inter * (elem === 'f16' ? 2 : 4);
  type Buffers = Record<keyof typeof FFN_BINDINGS, GPUBuffer>;
  type Pass = { entry: GPUComputePipeline; bind: (b: Buffers) => GPUBindGroup };
  // The GEMV's two passes have their own bindings and workgroup sizes, so each is its own module; the tiled
  // passes (and the fused one) share one.
  const [upK, downK]: Pass[] = gemv
    ? await Promise.all([
        createKernel(ctx, gemvModule(gemvUpWgsl, GEMV_UP_BINDINGS, shapes.up), ['up_gemv'] as const).then((k) => ({
          entry: k.pipelines.up_gemv,
          bind: ({ params, x, sorted_tokens, tiles, w1, w3, h }: Buffers) => k.bind({ params, x, sorted_tokens, tiles, w1, w3, h }, o.label, { w1: reads, w3: reads }),
        })),
        createKernel(ctx, gemvModule(gemvDownWgsl, GEMV_DOWN_BINDINGS, shapes.down), ['down_gemv'] as const).then((k) => ({
          entry: k.pipelines.down_gemv,
          bind: ({ params, tiles, w2, h, y }: Buffers) => k.bind({ params, tiles, w2, h, y }, o.label, { w2: reads }),
        })),
      ])
    : await createKernel(
        ctx,
        { label: o.label, wgsl: [tiledWgsl, findTileWgsl, core.laneSum].join('\n'), elem, enable: core.enable, bindings: TILED_BINDINGS, constants: { ...core.constants, BM: bm }, workgroup: core.workgroup },
        ['up_main', 'down_main', 'ffn_main'] as const,
      ).then((k) => {
        let group: GPUBindGroup | undefined;
        const bind = (b: Buffers) => (group ??= k.bind(b, o.label, { w1: reads, w3: reads, w2: reads }));
        return fused ? [{ entry: k.pipelines.ffn_main, bind }] : [{ entry: k.pipelines.up_main, bind }, { entry: k.pipelines.down_main, bind }];
      });
  const tileKernel = o.gather
    ? await createKernel(ctx, { label: `${o.label} tiles`, wgsl: tilesWgsl, bindings: TILES_BINDINGS, constants: { WG, BM: bm, ROW_TILES_IN_X: gemv ? 1 : 0, ONE_PASS: fused ? 1 : 0 } }, ['tiles_main'] as const)
    : undefined;
  if (o.gather && (!t.sorted_tokens || !t.offsets)) throw new Error(`${o.label}: a gathering FFN needs sorted_tokens and offsets`);
  if (!o.gather && o.E !== 1) throw new Error(`${o.label}: the identity row map has one group`);
  const made = allocate(ctx, o.label, ffnStagePlan(o, core.block.bn));
  const m = made.buffers;
  let tileStage: ((pass: GPUComputePassEncoder) => void) | undefined;
  if (tileKernel) {
    const tileGroup = tileKernel.bind({ params: m.params, offsets: t.offsets!, tiles_out: m.tiles, dispatch_args: m.args }, `${o.label} tiles`);
    tileStage = (pass) => {
      pass.setBindGroup(0, tileGroup);
      pass.setPipeline(tileKernel.pipelines.tiles_main);
      pass.dispatchWorkgroups(1);
    };
  } else {
    ctx.device.queue.writeBuffer(m.tiles, 0, Uint32Array.of(0, Math.ceil(o.rows / bm), 0, o.rows));
  }
  // In identity mode the tile table stands in for the unused sorted_tokens binding.
  const buffers = { params: m.params, x: t.x, sorted_tokens: t.sorted_tokens ?? m.tiles, tiles: m.tiles, w1: t.w1, w3: t.w3, w2: t.w2, h: m.h, y: t.y };
  const upGroup = upK!.bind(buffers);
  const downGroup = downK?.bind(buffers);
  const rowTiles = Math.ceil(o.rows / bm);
  const upGrid: [number, number] = gemv ? [rowTiles, cols.up] : [fused ? 1 : cols.up, rowTiles];
  const downGrid: [number, number] = gemv ? [rowTiles, cols.down] : [cols.down, rowTiles];
  const args = tileKernel ? m.args : undefined;
  return {
    name: o.label,
    h: m.h,
    encode(pass) {
      tileStage?.(pass);
      pass.setBindGroup(0, upGroup);
      pass.setPipeline(upK!.entry);
      if (args) pass.dispatchWorkgroupsIndirect(args, 0);
      else pass.dispatchWorkgroups(...upGrid);
      if (!downK || !downGroup) return; // fused: ffn_main did both
      pass.setBindGroup(0, downGroup);
      pass.setPipeline(downK.entry);
      if (args) pass.dispatchWorkgroupsIndirect(args, 12);
      else pass.dispatchWorkgroups(...downGrid);
    },
    destroy: made.destroy,
  };
}

/**
 * Cost of SwiGLU over `rows` rows with `activeGroups` distinct weight sets read once each; h is written and
 * read back once (this implementation's intermediate, counted like attention.naive counts its scores).
 */
export function swigluCost(rows: number, tokens: number, dim: number, inter: number, activeGroups: number): Cost {
  return {
    flops: 2 * rows * 3 * dim * inter,
    bytes: 4 * (tokens * dim + activeGroups * 3 * dim * inter + 2 * rows * inter + rows * dim),
    intermediateBytes: 4 * 2 * rows * inter,
  };
}

/** SwiGLU over the routed rows plus the routing reads (sorted_tokens for each row, offsets). */
function groupedFfnCost(c: GroupedFfnConfig, w: RoutedWork): Cost {
  const s = swigluCost(w.rows, w.tokens, c.dim, c.inter, w.activeExperts);
  return { ...s, bytes: s.bytes + 4 * (w.rows + c.E + 1) };
}

function ffnInputs(c: GroupedFfnConfig): TensorSpec[] {
  const R = c.N * c.topk;
  return [
    { name: 'x', shape: [c.N, c.dim], dtype: 'f32' },
    { name: 'sorted_tokens', shape: [R], dtype: 'i32' },
    { name: 'offsets', shape: [c.E + 1], dtype: 'i32' },
    { name: 'w1', shape: [c.E, c.inter, c.dim], dtype: c.dtype },
    { name: 'w2', shape: [c.E, c.dim, c.inter], dtype: c.dtype },
    { name: 'w3', shape: [c.E, c.inter, c.dim], dtype: c.dtype },
  ];
}

function ffnOutputs(c: GroupedFfnConfig): OutputSpec[] {
  return [{ name: 'y', shape: [c.N * c.topk, c.dim], dtype: 'f32' }];
}

function stageOptions(c: GroupedFfnConfig, knobs: Pick<FfnStageOptions, 'path' | 'subgroups' | 'quadRows'> = {}): FfnStageOptions {
  return { label: 'moe.grouped_ffn', rows: c.N * c.topk, dim: c.dim, inter: c.inter, E: c.E, gather: true, maxRowsPerExpert: c.N, ...knobs };
}

/** moe.grouped_ffn's instance with the internal knobs set (tests force each matmul path and lane_sum variant). */
export function createGroupedFfn(ctx: GpuContext, c: GroupedFfnConfig, knobs: Pick<FfnStageOptions, 'path' | 'subgroups' | 'quadRows'> = {}) {
  return instanceOfStage(ctx, [...ffnInputs(c), ...ffnOutputs(c)], (t) => createFfnStage(ctx, stageOptions(c, knobs), { x: t.x!, w1: t.w1!, w2: t.w2!, w3: t.w3!, y: t.y!, sorted_tokens: t.sorted_tokens!, offsets: t.offsets! }, c.dtype));
}

export const moeGroupedFfn: KernelDefinition<GroupedFfnConfig> = {
  id: 'moe.grouped_ffn',
  family: 'moe',
  title: 'Grouped expert FFN (SwiGLU over expert-contiguous rows)',
  explain:
    'All experts in one launch per matmul: the rows of each expert are contiguous after dispatch, a one-workgroup pass numbers their ' +
    '16/32/64-row tiles and writes the indirect dispatch size, and each workgroup finds its expert by binary search over the tile starts. ' +
    'Tokens are gathered from x inside the first matmul (no permuted copy of x), w1 and w3 share one pass with the SiLU-gate fused into ' +
    'its epilogue; the matmuls run on the barrier-free quad GEMM core, where each quad of 4 lanes keeps a 16 x 16 tile of outputs (8 x 8 on a GPU) ' +
    'in registers and its lanes split K, so every weight vec4 a lane reads serves all the tile\'s rows. Narrow experts (inter <= 64) run both matmuls of a row tile in one workgroup: the down matmul alone would be ' +
    'too shallow to pay for its launch. At decode (<= 64 rows per expert on average) ' +
    'the same passes run as coalesced GEMVs instead: a quad of 4 lanes owns 4 weight rows of w1 and w3 (up) or 8 of w2 (down) and splits K, ' +
    'so every x vec4 a lane loads serves 8 rows and every weight vec4 all of an 8-row tile\'s tokens, from registers; the lanes meet through ' +
    'subgroup sums, and row tiles launch in x so an expert\'s repeats hit the cache. ' +
    'Input rows are the dispatch output: row p of ' +
    'expert e (offsets[e] <= p < offsets[e+1]) computes token sorted_tokens[p]; rows past offsets[E] are left untouched.',
  sources: [
    'Gale et al. 2022, "MegaBlocks" (arXiv:2211.15841): block-sparse / grouped expert matmuls',
    'Shazeer 2020, "GLU Variants Improve Transformer" (arXiv:2002.05202): SwiGLU',
    'DeepSeek-V3 inference/model.py, class Expert',
  ],
  schema: groupedFfnSchema,
  check: (c, caps) => [
    ...(c.topk > c.E ? [{ field: 'topk', message: `${c.topk} is more than the E = ${c.E} experts` }] : []),
    ...needF16('dtype', c.dtype, caps),
    ...checkFfnShape(stageOptions(c), caps),
  ],
  inputs: ffnInputs,
  outputs: ffnOutputs,
  scratch: (c) => planScratch(ffnStagePlan(stageOptions(c))),
  cost: (c) => groupedFfnCost(c, expectedRoutedWork(c.E, c.topk, c.N)),
  runCost: (c, t) => groupedFfnCost(c, routedWorkFromOffsets(t.offsets!.data, t.sorted_tokens!.data, c.E)),
  randomInputs(c, rng) {
    const routed = dispatchReference(skewedIndices(rng, c.N, c.topk, c.E), c.N, c.topk, c.E, c.N * c.topk);
    return { x: randomNormal(rng, [c.N, c.dim]), sorted_tokens: routed.sorted_tokens, offsets: routed.offsets, ...ffnWeights(rng, '', c.E, c.dim, c.inter) };
  },
  reference(inputs, c) {
    // f16 storage: the reference sees the weights the GPU reads (rounded once), then computes in float64.
    const w = (t: HostTensor) => roundTo(t, c.dtype);
    return { y: groupedFfnReference(inputs.x!, inputs.sorted_tokens!, inputs.offsets!, w(inputs.w1!), w(inputs.w2!), w(inputs.w3!), { E: c.E, dim: c.dim, inter: c.inter, rows: c.N * c.topk }) };
  },
  create: (ctx, c) => createGroupedFfn(ctx, c),
  benchmarks: [
    // The default suite's sizes; `--study moe` adds prefill N = 4096 and decode N = 8.
    // Prefill at the decode shapes' scaled DeepSeek-V3 dims (dim 7168 -> 512, moe_inter 2048 -> 256): what a deployment's
    // prefill runs; the tiny dim 128 / inter 32 it had before measured launch overhead more than the GEMMs.
    { name: 'prefill scaled N=1024 E=64 top-8 dim=512 inter=256', config: { N: 1024, E: 64, topk: 8, dim: 512, inter: 256 } },
    { name: 'decode scaled N=1 E=64 top-8 dim=512 inter=256', config: { N: 1, E: 64, topk: 8, dim: 512, inter: 256 } },
    { name: 'decode scaled N=64 E=64 top-8 dim=512 inter=256', config: { N: 64, E: 64, topk: 8, dim: 512, inter: 256 } },
  ],
  testCases: [
    { name: 'odd sizes, ragged experts', config: { N: 11, E: 7, topk: 3, dim: 20, inter: 12 } },
    { name: 'many rows per expert (BM = 64 tiles), inter > 64 columns', config: { N: 150, E: 4, topk: 2, dim: 36, inter: 72 } },
    { name: 'prefill-sized experts, inter <= 64: up (two column blocks) and down in one workgroup', config: { N: 130, E: 3, topk: 2, dim: 28, inter: 44 } },
    { name: 'decode N = 1, top-8 of 64, dim > 64', config: { N: 1, E: 64, topk: 8, dim: 132, inter: 24 } },
    { name: 'empty experts (E = 40, few tokens)', config: { N: 3, E: 40, topk: 2, dim: 8, inter: 4 } },
  ],
};
