// gemm_quad: a barrier-free GEMM main loop, C block = A · B, for devices where register work is cheap and
// every memory read is dear (CPU emulation) and, with a smaller tile, for GPUs.
//   A workgroup is GQ_WG = 64 invocations = 16 independent quads (4 consecutive invocations, one subgroup on
//   any device); quad q owns the GQ_R x GQ_C tile of C at block row (q / 4) * GQ_R, column (q % 4) * GQ_C,
//   so a workgroup covers GQ_BM = 4 GQ_R rows x GQ_BN = 4 GQ_C columns. The 4 lanes of a quad split K: lane
//   i takes k = 16 j + 4 i .. 16 j + 4 i + 3 of every 16-deep step j, so the quad reads 64 contiguous bytes
//   of each of its A rows per step (coalesced), and the lanes' partial tiles are summed once at the end
//   (lane_sum: a subgroup butterfly, or workgroup memory where the device has no subgroups).
//   Per step a lane reads GQ_R A vec4s (4 k of a row) and 4 x GQ_CQ B vec4s, then does GQ_R x GQ_C x 4 FMAs:
//   every scalar it reads feeds GQ_R or GQ_C FMAs, with no staging, no workgroup tile and no barrier.
// Why not a workgroup tile here: on SwiftShader every workgroup-memory read is a per-lane gather (its pointers
// always carry a dynamic offset), so staging costs the same gathers as the storage reads plus the stores and
// two barriers per slice. Why chains: each accumulator takes its 4 k in one expression, so it is loaded and
// stored once per 4 FMAs (1.5x over one FMA per statement in a one-process A/B).
// The private arrays are indexed by constants only: the tile's loops are written out as helper calls with
// literal arguments (the driver's SPIR-V optimiser inlines them and folds the indices; a loop-indexed private
// array lives in memory and each access is a gather). Helpers past the tile size fold away.
//
// The including module declares (src/kernels/common/gemm.ts `gemmQuadCore` generates the constants):
//   constants  GQ_RQ (row quads of a tile, 1..4), GQ_CQ (column vec4s of a tile, 1..4), GQ_R = 4 GQ_RQ,
//              GQ_C = 4 GQ_CQ, GQ_BM, GQ_BN, GQ_WG = 64, L = 4 (lane_sum's lanes), GEMM_B_NK (1: B as [N, K]);
//   lane_sum   the lib piece the host appends (lane-sum-subgroup.wgsl or lane-sum-workgroup.wgsl);
//   loaders (f32 values; zero past K is required, past the M / N edges anything finite: never stored):
//     fn gemm_load_a(m: u32, k: u32) -> vec4f   A[m, k .. k+3]                          (k % 4 == 0)
//     fn gemm_load_b(n: u32, k: u32) -> vec4f   GEMM_B_NK = 1: B^T[n, k .. k+3]          (k % 4 == 0)
//                                               GEMM_B_NK = 0: B[k, n .. n+3]            (n % 4 == 0)
// gemm_quad(row0, col0, K, li) returns the quad's tile origin (m0, n0) in C; then gq_c(r, c) holds
// C[m0 + r, n0 + 4c .. 4c + 3] in every lane of the quad (the epilogue lets lane i store rows i, i + 4, ..).
// Call it in uniform control flow with a uniform K (lane_sum may hold barriers); the loaders may read anything.

var<private> gq_acc: array<vec4f, GQ_R * GQ_CQ>;
var<private> gq_a: array<vec4f, GQ_R>;
// B of one step: GEMM_B_NK = 0: [k][column vec4] (4 x GQ_CQ); GEMM_B_NK = 1: one vec4 of 4 k per column.
var<private> gq_b: array<vec4f, 4 * GQ_CQ>;

fn gq_c(r: u32, c: u32) -> vec4f {
  return gq_acc[r * GQ_CQ + c];
}

fn gq_load_a(r: u32, m0: u32, k: u32) {
  if (r < GQ_R) { gq_a[r] = gemm_load_a(m0 + r, k); }
}

// Slot s of the step's B: [K, N] storage gives row k + s / GQ_CQ, column vec4 s % GQ_CQ; [N, K] storage
// gives column s (4 k of it).
fn gq_load_b(s: u32, n0: u32, k: u32) {
  if (s < 4u * GQ_CQ) {
    if (GEMM_B_NK == 1u) {
      gq_b[s] = gemm_load_b(n0 + s, k);
    } else {
      gq_b[s] = gemm_load_b(n0 + 4u * (s % GQ_CQ), k + s / GQ_CQ);
    }
  }
}

// Tile cell (row r, column vec4 c) over the step's 4 k, in one chain.
fn gq_cell(r: u32, c: u32) {
  if (r < GQ_R && c < GQ_CQ) {
    let a = gq_a[r];
    let i = r * GQ_CQ + c;
    if (GEMM_B_NK == 1u) {
      let b = 4u * c;
      gq_acc[i] += vec4f(dot(a, gq_b[b]), dot(a, gq_b[b + 1u]), dot(a, gq_b[b + 2u]), dot(a, gq_b[b + 3u]));
    } else {
      gq_acc[i] = fma(vec4f(a.w), gq_b[3u * GQ_CQ + c], fma(vec4f(a.z), gq_b[2u * GQ_CQ + c],
        fma(vec4f(a.y), gq_b[GQ_CQ + c], fma(vec4f(a.x), gq_b[c], gq_acc[i]))));
    }
  }
}

fn gq_row(r: u32) {
  gq_cell(r, 0u); gq_cell(r, 1u); gq_cell(r, 2u); gq_cell(r, 3u);
}

fn gemm_quad(row0: u32, col0: u32, K: u32, li: u32) -> vec2u {
  let q = li / 4u;
  let m0 = row0 + (q / 4u) * GQ_R;
  let n0 = col0 + (q % 4u) * GQ_C;
  for (var i = 0u; i < GQ_R * GQ_CQ; i++) { gq_acc[i] = vec4f(0.0); }
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    let k = k0 + 4u * (li % 4u);
    // Up to 16 rows and 16 B slots, written out (see the top of the file).
    gq_load_a(0u, m0, k); gq_load_a(1u, m0, k); gq_load_a(2u, m0, k); gq_load_a(3u, m0, k);
    gq_load_a(4u, m0, k); gq_load_a(5u, m0, k); gq_load_a(6u, m0, k); gq_load_a(7u, m0, k);
    gq_load_a(8u, m0, k); gq_load_a(9u, m0, k); gq_load_a(10u, m0, k); gq_load_a(11u, m0, k);
    gq_load_a(12u, m0, k); gq_load_a(13u, m0, k); gq_load_a(14u, m0, k); gq_load_a(15u, m0, k);
    gq_load_b(0u, n0, k); gq_load_b(1u, n0, k); gq_load_b(2u, n0, k); gq_load_b(3u, n0, k);
    gq_load_b(4u, n0, k); gq_load_b(5u, n0, k); gq_load_b(6u, n0, k); gq_load_b(7u, n0, k);
    gq_load_b(8u, n0, k); gq_load_b(9u, n0, k); gq_load_b(10u, n0, k); gq_load_b(11u, n0, k);
    gq_load_b(12u, n0, k); gq_load_b(13u, n0, k); gq_load_b(14u, n0, k); gq_load_b(15u, n0, k);
    gq_row(0u); gq_row(1u); gq_row(2u); gq_row(3u); gq_row(4u); gq_row(5u); gq_row(6u); gq_row(7u);
    gq_row(8u); gq_row(9u); gq_row(10u); gq_row(11u); gq_row(12u); gq_row(13u); gq_row(14u); gq_row(15u);
  }
  // The lanes' K quarters summed: once per tile, so the loop's dynamic indices cost nothing here.
  for (var i = 0u; i < GQ_R * GQ_CQ; i++) { gq_acc[i] = lane_sum(gq_acc[i], li); }
  return vec2u(m0, n0);
}
