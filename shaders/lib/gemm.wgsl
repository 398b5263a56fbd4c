// gemm_block / gemm_block8: the register-tiled GEMM main loop every projection and expert matmul shares.
//   C block [GEMM_BM x GEMM_BN] = A [GEMM_BM x K] · B [K x GEMM_BN], one workgroup per block. gemm_block8:
//   workgroup size (GEMM_BN / 8, GEMM_BM / 8), thread (x, y) owns the 8 x 8 micro-tile of rows 8y .. 8y+7 and
//   columns 8x .. 8x+7 in sixteen named vec4 accumulators; per k, four shared vec4 reads feed 64 FMAs.
//   gemm_block (the 4 x 4 form): workgroup size (GEMM_BN / 4, GEMM_BM / 4), rows 4y .. 4y+3, columns 4x ..
//   4x+3, two shared vec4 reads per 16 FMAs. On SwiftShader every invocation is one SIMD lane and a shared
//   read with a lane-dependent address is a gather of scalars, so FMAs per shared read is what sets the
//   speed: 8 x 8 ran 2.4x faster than 4 x 4 at 512^3 (64 x 64 blocks, BK 32, same process). Named registers,
//   not an indexed private array: SwiftShader keeps an array indexed in a loop in memory.
//   K is walked in slices of GEMM_BK: the workgroup stages A [BK][BM] (transposed, so one vec4 read gives a
//   thread 4 of its rows) and B [BK][BN] in workgroup memory; two barriers per slice.
//
// The including module declares (src/kernels/common/gemm.ts `gemmCore` generates the first two):
//   constants  GEMM_BM, GEMM_BN, GEMM_BK (multiples of the micro-tile, 4 or 8),
//              GEMM_THREADS = GEMM_BM * GEMM_BN / micro^2 (the workgroup size above),
//              GEMM_B_NK: 1 if gemm_load_b reads B as [N, K] rows (nn.Linear weights), 0 for [K, N] rows;
//   workgroup  gemm_a: array<vec4f, GEMM_BK * GEMM_BM / 4>, gemm_b: array<vec4f, GEMM_BK * GEMM_BN / 4>;
//   loaders (f32 values, zero past the matrix's edges, so any M, N, K works; the kernel may gather rows,
//            pick an expert's weights or interleave two matrices here):
//     fn gemm_load_a(m: u32, k: u32) -> vec4f   A[m, k .. k+3]                          (k % 4 == 0)
//     fn gemm_load_b(n: u32, k: u32) -> vec4f   GEMM_B_NK = 1: B^T[n, k .. k+3]          (k % 4 == 0)
//                                               GEMM_B_NK = 0: B[k, n .. n+3]            (n % 4 == 0)
//   with m = row0 + block row and n = col0 + block column (row0 / col0 as passed to gemm_block).
// gemm_block returns the thread's accumulators: r_i holds C[row0 + 4y + i, col0 + 4x .. 4x+3]; gemm_block8
// returns lo_i = C[row0 + 8y + i, col0 + 8x .. 8x+3] and hi_i = C[.., col0 + 8x+4 .. 8x+7] (gemm8_lo / gemm8_hi
// pick row i). The epilogue (bias, activation, gate product, a per-row scale, the store) is the kernel's own
// code after the call. Call it in uniform control flow (it has barriers) with a uniform K; the loaders may
// read anything.

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

struct GemmAcc8 {
  lo0: vec4f, lo1: vec4f, lo2: vec4f, lo3: vec4f, lo4: vec4f, lo5: vec4f, lo6: vec4f, lo7: vec4f,
  hi0: vec4f, hi1: vec4f, hi2: vec4f, hi3: vec4f, hi4: vec4f, hi5: vec4f, hi6: vec4f, hi7: vec4f,
}

fn gemm_block8(row0: u32, col0: u32, K: u32, tid: vec2u, li: u32) -> GemmAcc8 {
  var lo0 = vec4f(0.0);
  var hi0 = vec4f(0.0);
  var lo1 = vec4f(0.0);
  var hi1 = vec4f(0.0);
  var lo2 = vec4f(0.0);
  var hi2 = vec4f(0.0);
  var lo3 = vec4f(0.0);
  var hi3 = vec4f(0.0);
  var lo4 = vec4f(0.0);
  var hi4 = vec4f(0.0);
  var lo5 = vec4f(0.0);
  var hi5 = vec4f(0.0);
  var lo6 = vec4f(0.0);
  var hi6 = vec4f(0.0);
  var lo7 = vec4f(0.0);
  var hi7 = vec4f(0.0);
  let ar = 2u * tid.y; // the thread's two row quads in a k row of gemm_a
  let bc = 2u * tid.x; // and its two column quads in a k row of gemm_b
  for (var k0 = 0u; k0 < K; k0 += GEMM_BK) {
    gemm_stage(row0, col0, k0, li);
    workgroupBarrier();
    for (var kk = 0u; kk < GEMM_BK; kk++) {
      let a0 = gemm_a[kk * (GEMM_BM / 4u) + ar];
      let a1 = gemm_a[kk * (GEMM_BM / 4u) + ar + 1u];
      let b0 = gemm_b[kk * (GEMM_BN / 4u) + bc];
      let b1 = gemm_b[kk * (GEMM_BN / 4u) + bc + 1u];
      lo0 = fma(vec4f(a0.x), b0, lo0);
      hi0 = fma(vec4f(a0.x), b1, hi0);
      lo1 = fma(vec4f(a0.y), b0, lo1);
      hi1 = fma(vec4f(a0.y), b1, hi1);
      lo2 = fma(vec4f(a0.z), b0, lo2);
      hi2 = fma(vec4f(a0.z), b1, hi2);
      lo3 = fma(vec4f(a0.w), b0, lo3);
      hi3 = fma(vec4f(a0.w), b1, hi3);
      lo4 = fma(vec4f(a1.x), b0, lo4);
      hi4 = fma(vec4f(a1.x), b1, hi4);
      lo5 = fma(vec4f(a1.y), b0, lo5);
      hi5 = fma(vec4f(a1.y), b1, hi5);
      lo6 = fma(vec4f(a1.z), b0, lo6);
      hi6 = fma(vec4f(a1.z), b1, hi6);
      lo7 = fma(vec4f(a1.w), b0, lo7);
      hi7 = fma(vec4f(a1.w), b1, hi7);
    }
    workgroupBarrier();
  }
  return GemmAcc8(lo0, lo1, lo2, lo3, lo4, lo5, lo6, lo7, hi0, hi1, hi2, hi3, hi4, hi5, hi6, hi7);
}

// Row i (< 8) of the micro-tile: columns 8x .. 8x+3 (lo) and 8x+4 .. 8x+7 (hi).
fn gemm8_lo(c: GemmAcc8, i: u32) -> vec4f {
  let a = select(select(c.lo3, c.lo2, i == 2u), select(c.lo1, c.lo0, i == 0u), i < 2u);
  let b = select(select(c.lo7, c.lo6, i == 6u), select(c.lo5, c.lo4, i == 4u), i < 6u);
  return select(b, a, i < 4u);
}

fn gemm8_hi(c: GemmAcc8, i: u32) -> vec4f {
  let a = select(select(c.hi3, c.hi2, i == 2u), select(c.hi1, c.hi0, i == 0u), i < 2u);
  let b = select(select(c.hi7, c.hi6, i == 6u), select(c.hi5, c.hi4, i == 4u), i < 6u);
  return select(b, a, i < 4u);
}
