// linear.matmul: C[M,N] = A[M,K] · B, B stored [K,N] (TRANS_B = 0) or [N,K] (TRANS_B = 1, PyTorch's
// nn.Linear weight layout, y = x W^T). The register-tiled GEMM every GPU person knows:
//   a workgroup of 16 x 16 threads owns a BM x BN = 64 x 64 block of C; each thread a 4 x 4 micro-tile held in
//   registers (4 vec4 accumulators); per K-slice of BK values the workgroup stages A [BK][BM] and B [BK][BN] in
//   workgroup memory (A transposed there, so one vec4 read gives a thread its 4 rows, as one vec4 read of B
//   gives its 4 columns): two shared vec4 loads feed 16 FMAs, and two barriers serve BK * 16 FMAs per thread.
// Global loads are scalar, consecutive threads reading consecutive addresses (coalesced) in either layout,
// with zero fill past the edges: any M, N, K. `elem` is f32 or f16 storage; all arithmetic is f32.
// Each operand is a strided view (element offset, row stride, batch stride; wg.z = batch), so a composite
// can read rows in the middle of a buffer, write into the columns of a wider one, or run one small GEMM per
// attention head (MLA's W_UK / W_UV: the head's rows of wkv_b against that head's slice of q) in one launch;
// `alpha` scales C (the indexer's Hi^-0.5 Di^-0.5 on its head weights).

// Generated from src/kernels/linear/matmul.ts: the bindings (params, a, b, c), the constants BM, BN, BK,
// TM (= 4, the named accumulators), THREADS, TRANS_B and the workgroup arrays tileA [BK * BM / 4], tileB [BK * BN / 4] of vec4f.

@compute @workgroup_size(BN / 4u, BM / TM)
fn matmul_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let a0 = params.a_off + wg.z * params.a_batch;
  let b0 = params.b_off + wg.z * params.b_batch;
  let c0 = params.c_off + wg.z * params.c_batch;
  // Four named accumulators, not an array: constant register names stay registers on every compiler
  // (SwiftShader spills a dynamically indexed private array to memory).
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < params.K; k0 += BK) {
    // A tile: element e -> (m = e / BK, kk = e % BK): consecutive threads read along a row of A.
    for (var e = li; e < BM * BK; e += THREADS) {
      let m = e / BK;
      let kk = e % BK;
      let gm = row0 + m;
      let gk = k0 + kk;
      var v = 0.0;
      if (gm < params.M && gk < params.K) { v = f32(a[a0 + gm * params.lda + gk]); }
      tileA[kk * (BM / 4u) + m / 4u][m % 4u] = v;
    }
    // B tile [BK][BN]: read along n for [K,N] storage, along k for [N,K] storage.
    for (var e = li; e < BN * BK; e += THREADS) {
      var kk: u32;
      var n: u32;
      if (TRANS_B == 1u) { n = e / BK; kk = e % BK; } else { kk = e / BN; n = e % BN; }
      let gn = col0 + n;
      let gk = k0 + kk;
      var v = 0.0;
      if (gn < params.N && gk < params.K) {
        if (TRANS_B == 1u) { v = f32(b[b0 + gn * params.ldb + gk]); } else { v = f32(b[b0 + gk * params.ldb + gn]); }
      }
      tileB[kk * (BN / 4u) + n / 4u][n % 4u] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = tileA[kk * (BM / 4u) + lid.y];
      let bv = tileB[kk * (BN / 4u) + lid.x];
      acc0 = fma(vec4f(av.x), bv, acc0);
      acc1 = fma(vec4f(av.y), bv, acc1);
      acc2 = fma(vec4f(av.z), bv, acc2);
      acc3 = fma(vec4f(av.w), bv, acc3);
    }
    workgroupBarrier();
  }
  let col = col0 + lid.x * 4u;
  let row = row0 + lid.y * TM;
  store_row(c0, row + 0u, col, acc0);
  store_row(c0, row + 1u, col, acc1);
  store_row(c0, row + 2u, col, acc2);
  store_row(c0, row + 3u, col, acc3);
}

fn store_row(c0: u32, row: u32, col: u32, v: vec4f) {
  if (row >= params.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < params.N) { c[c0 + row * params.ldc + col + j] = elem(params.alpha * v[j]); }
  }
}
