// Host side of the shared GEMM core (shaders/lib/gemm.wgsl): the constants and workgroup arrays a kernel that
// includes it must declare, derived from one tile description, so the block sizes, the thread count and the
// workgroup bytes are written once.
import { workgroupArray, workgroupBytes } from '../../gpu/wgsl-declarations.ts';

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
