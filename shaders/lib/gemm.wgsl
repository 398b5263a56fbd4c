// gemm_block: the register-tiled GEMM main loop every projection and expert matmul shares.
//   C block [GEMM_BM x GEMM_BN] = A [GEMM_BM x K] · B [K x GEMM_BN], one workgroup per block, workgroup size
//   (GEMM_BN / 4, GEMM_BM / 4): thread (x, y) owns the 4 x 4 micro-tile of rows 4y .. 4y+3 and columns
//   4x .. 4x+3, held in four named vec4 accumulators (an indexed private array spills to memory on
//   SwiftShader). K is walked in slices of GEMM_BK: the workgroup stages A [BK][BM] (transposed, so one vec4
//   read gives a thread its 4 rows) and B [BK][BN] in workgroup memory; per slice two barriers, and per k
//   two shared vec4 reads feed 16 FMAs.
//
// The including module declares (src/kernels/common/gemm.ts `gemmCore` generates the first two):
//   constants  GEMM_BM, GEMM_BN, GEMM_BK (multiples of 4), GEMM_THREADS = GEMM_BM * GEMM_BN / 16,
//              GEMM_B_NK: 1 if gemm_load_b reads B as [N, K] rows (nn.Linear weights), 0 for [K, N] rows;
//   workgroup  gemm_a: array<vec4f, GEMM_BK * GEMM_BM / 4>, gemm_b: array<vec4f, GEMM_BK * GEMM_BN / 4>;
//   loaders (f32 values, zero past the matrix's edges, so any M, N, K works; the kernel may gather rows,
//            pick an expert's weights or interleave two matrices here):
//     fn gemm_load_a(m: u32, k: u32) -> vec4f   A[m, k .. k+3]                          (k % 4 == 0)
//     fn gemm_load_b(n: u32, k: u32) -> vec4f   GEMM_B_NK = 1: B^T[n, k .. k+3]          (k % 4 == 0)
//                                               GEMM_B_NK = 0: B[k, n .. n+3]            (n % 4 == 0)
//   with m = row0 + block row and n = col0 + block column (row0 / col0 as passed to gemm_block).
// gemm_block returns the thread's accumulators: r_i holds C[row0 + 4y + i, col0 + 4x .. 4x+3]. The epilogue
// (bias, activation, gate product, a per-row scale, the store) is the kernel's own code after the call.
// Call it in uniform control flow (it has barriers) with a uniform K; the loaders may read anything.

struct GemmAcc {
  r0: vec4f,
  r1: vec4f,
  r2: vec4f,
  r3: vec4f,
}

// Scatter a vec4 of 4 consecutive k (k = 4 q .. 4 q + 3) of block row (to_b: column) `i` into the [BK][W/4]
// tile of vec4s, component i % 4: the inner loop then reads one vec4 per k for 4 rows (columns).
fn gemm_scatter(to_b: bool, i: u32, q: u32, v: vec4f) {
  let w = select(GEMM_BM, GEMM_BN, to_b) / 4u;
  let base = 4u * q * w + i / 4u;
  for (var j = 0u; j < 4u; j++) {
    let x = v[j];
    if (to_b) { gemm_b[base + j * w][i % 4u] = x; } else { gemm_a[base + j * w][i % 4u] = x; }
  }
}

// One K slice into workgroup memory. Element e of a loop is (row, k-quad) with the quad fastest, so
// consecutive threads read consecutive 16 bytes of a row (coalesced); [K, N] B goes by (k, n-quad) and
// lands in the tile with one vec4 store.
fn gemm_stage(row0: u32, col0: u32, k0: u32, li: u32) {
  const KQ = GEMM_BK / 4u;
  for (var e = li; e < GEMM_BM * KQ; e += GEMM_THREADS) {
    let m = e / KQ;
    let q = e % KQ;
    gemm_scatter(false, m, q, gemm_load_a(row0 + m, k0 + 4u * q));
  }
  if (GEMM_B_NK == 1u) {
    for (var e = li; e < GEMM_BN * KQ; e += GEMM_THREADS) {
      let n = e / KQ;
      let q = e % KQ;
      gemm_scatter(true, n, q, gemm_load_b(col0 + n, k0 + 4u * q));
    }
  } else {
    for (var e = li; e < GEMM_BK * (GEMM_BN / 4u); e += GEMM_THREADS) {
      let kk = e / (GEMM_BN / 4u);
      let nq = e % (GEMM_BN / 4u);
      gemm_b[e] = gemm_load_b(col0 + 4u * nq, k0 + kk);
    }
  }
}

fn gemm_block(row0: u32, col0: u32, K: u32, tid: vec2u, li: u32) -> GemmAcc {
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < K; k0 += GEMM_BK) {
    gemm_stage(row0, col0, k0, li);
    workgroupBarrier();
    for (var kk = 0u; kk < GEMM_BK; kk++) {
      let av = gemm_a[kk * (GEMM_BM / 4u) + tid.y];
      let bv = gemm_b[kk * (GEMM_BN / 4u) + tid.x];
      acc0 = fma(vec4f(av.x), bv, acc0);
      acc1 = fma(vec4f(av.y), bv, acc1);
      acc2 = fma(vec4f(av.z), bv, acc2);
      acc3 = fma(vec4f(av.w), bv, acc3);
    }
    workgroupBarrier();
  }
  return GemmAcc(acc0, acc1, acc2, acc3);
}
