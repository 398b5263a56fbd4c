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
}

export function gemmCore(t: GemmTile) {
  for (const [name, v] of [['bm', t.bm], ['bn', t.bn], ['bk', t.bk]] as const) {
    if (!Number.isInteger(v) || v < 4 || v % 4 !== 0) throw new Error(`gemm tile ${name} = ${v} must be a positive multiple of 4`);
  }
  const threads = (t.bm / 4) * (t.bn / 4);
  const workgroup = {
    gemm_a: workgroupArray('vec4<f32>', (t.bk * t.bm) / 4),
    gemm_b: workgroupArray('vec4<f32>', (t.bk * t.bn) / 4),
  };
  return {
    constants: { GEMM_BM: t.bm, GEMM_BN: t.bn, GEMM_BK: t.bk, GEMM_THREADS: threads, GEMM_B_NK: t.bNK ? 1 : 0 },
    workgroup,
    threads,
    /** Workgroup memory of the two tiles (the kernel adds its own arrays). */
    bytes: workgroupBytes(workgroup),
    /** Workgroups for an M x N output: [column blocks, row blocks]. */
    grid: (M: number, N: number): [number, number] => [Math.ceil(N / t.bn), Math.ceil(M / t.bm)],
  };
}
