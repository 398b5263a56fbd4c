// Host side of the shared GEMM core (shaders/lib/gemm.wgsl): the constants and workgroup arrays a kernel that
// includes it must declare, derived from one tile description, so the block sizes, the thread count and the
// workgroup bytes are written once.
import { isCpuEmulation, type AdapterSummary, type DeviceCaps } from '../../gpu/context.ts';
import { workgroupArray, workgroupBytes } from '../../gpu/wgsl-declarations.ts';
import { laneSumSource } from '../attention/flash-lanes.ts';

export interface GemmTile {
  /** Rows (BM) and columns (BN) of C per workgroup, K depth per staged slice (BK): multiples of 4. */
  bm: number;
  bn: number;
  bk: number;
  /** gemm_load_b reads B as [N, K] rows (nn.Linear's weight layout) rather than [K, N]. */
  bNK: boolean;
  /**
   * Side of each thread's square micro-tile: 4 (gemm_block, the default) or 8 (gemm_block8, four times the
   * FMAs per shared read; bm and bn then multiples of 8).
   */
  micro?: 4 | 8;
}

export function gemmCore(t: GemmTile) {
  const micro = t.micro ?? 4;
  for (const [name, v, q] of [['bm', t.bm, micro], ['bn', t.bn, micro], ['bk', t.bk, 4]] as const) {
    if (!Number.isInteger(v) || v < q || v % q !== 0) throw new Error(`gemm tile ${name} = ${v} must be a positive multiple of ${q}`);
  }
  const threads = (t.bm / micro) * (t.bn / micro);
  const workgroup = {
    gemm_a: workgroupArray('vec4<f32>', (t.bk * t.bm) / 4),
    gemm_b: workgroupArray('vec4<f32>', (t.bk * t.bn) / 4),
  };
  return {
    constants: { GEMM_BM: t.bm, GEMM_BN: t.bn, GEMM_BK: t.bk, GEMM_THREADS: threads, GEMM_B_NK: t.bNK ? 1 : 0 },
    workgroup,
    threads,
    /** The workgroup size the entry point declares: (bn / micro, bm / micro). */
    workgroupSize: [t.bn / micro, t.bm / micro] as [number, number],
    /** Workgroup memory of the two tiles (the kernel adds its own arrays). */
    bytes: workgroupBytes(workgroup),
    /** Workgroups for an M x N output: [column blocks, row blocks]. */
    grid: (M: number, N: number): [number, number] => [Math.ceil(N / t.bn), Math.ceil(M / t.bm)],
  };
}

/**
 * The barrier-free quad core (shaders/lib/gemm-quad.wgsl): 16 quads per 64-invocation workgroup, each a
 * 4 rowQuads x 4 colQuads register tile of C whose 4 lanes split K. CPU emulation wants the largest tile
 * (16 x 16: every scalar read there is a gather and feeds 16 FMAs; 1.1x the 16 x 8 tile in a one-process
 * A/B); a GPU's register file holds 8 x 8 (64 accumulators a lane).
 */
export interface GemmQuadTile {
  rowQuads: 1 | 2 | 3 | 4;
  colQuads: 1 | 2 | 3 | 4;
  bNK: boolean;
  /** lane_sum by subgroup butterfly (else workgroup memory: 2 barriers per accumulator, once per tile). */
  subgroups: boolean;
}

export const GEMM_QUAD_WG = 64;

/** The tile a device gets by default: 16 x 16 on CPU emulation, 8 x 8 elsewhere. */
export function gemmQuadTile(caps: DeviceCaps & { adapter?: AdapterSummary }, bNK: boolean, subgroups = caps.features.subgroups): GemmQuadTile {
  const q = isCpuEmulation(caps) ? 4 : 2;
  return { rowQuads: q, colQuads: q, bNK, subgroups };
}

export function gemmQuadCore(t: GemmQuadTile) {
  const rows = 4 * t.rowQuads;
  const cols = 4 * t.colQuads;
  const lanes = laneSumSource(t.subgroups, GEMM_QUAD_WG);
  const bm = 4 * rows;
  const bn = 4 * cols;
  return {
    constants: {
      GQ_RQ: t.rowQuads, GQ_CQ: t.colQuads, GQ_R: rows, GQ_C: cols, GQ_BM: bm, GQ_BN: bn, GQ_WG: GEMM_QUAD_WG, L: 4, GEMM_B_NK: t.bNK ? 1 : 0,
    },
    /** lane_sum's WGSL, appended to the kernel's text, and what it needs. */
    laneSum: lanes.wgsl,
    enable: lanes.enable,
    workgroup: lanes.workgroup,
    bytes: workgroupBytes(lanes.workgroup),
    threads: GEMM_QUAD_WG,
    /** Rows and columns of C per workgroup. */
    block: { bm, bn },
    /** Workgroups for an M x N output: [column blocks, row blocks]. */
    grid: (M: number, N: number): [number, number] => [Math.ceil(N / bn), Math.ceil(M / bm)],
  };
}
