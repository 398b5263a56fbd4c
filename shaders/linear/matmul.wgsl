// linear.matmul: C[M,N] = alpha · A[M,K] · B, B stored [K,N] (GEMM_B_NK = 0) or [N,K] (GEMM_B_NK = 1, PyTorch's
// nn.Linear weight layout, y = x W^T), on the shared register-tiled GEMM core (lib/gemm.wgsl: 64 x 64
// blocks, 8 x 8 per thread). The loaders read scalars with zero fill past the edges, so any M, N, K and
// either storage type work; all arithmetic is f32.
// Each operand is a strided view (element offset, row stride, batch stride; wg.z = batch), so a composite
// can read rows in the middle of a buffer, write into the columns of a wider one, or run one small GEMM per
// attention head (MLA's W_UK / W_UV: the head's rows of wkv_b against that head's slice of q) in one launch;
// `alpha` scales C (the indexer's Hi^-0.5 Di^-0.5 on its head weights).

// Generated from src/kernels/linear/matmul.ts: the bindings (params, a, b, c), the GEMM core's constants and tiles.

#include "lib/gemm.wgsl"

// This workgroup's batch entry: the start of its A and B views (set once before gemm_block).
var<private> a0: u32;
var<private> b0: u32;

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  var v = vec4f(0.0);
  if (m < params.M) {
    let o = a0 + m * params.lda + k;
    if (k + 3u < params.K) { return vec4f(f32(a[o]), f32(a[o + 1u]), f32(a[o + 2u]), f32(a[o + 3u])); }
    for (var j = 0u; j < 4u; j++) {
      if (k + j < params.K) { v[j] = f32(a[o + j]); }
    }
  }
  return v;
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  var v = vec4f(0.0);
  if (GEMM_B_NK == 1u) { // B^T[n, k .. k+3]
    if (n < params.N) {
      let o = b0 + n * params.ldb + k;
      if (k + 3u < params.K) { return vec4f(f32(b[o]), f32(b[o + 1u]), f32(b[o + 2u]), f32(b[o + 3u])); }
      for (var j = 0u; j < 4u; j++) {
        if (k + j < params.K) { v[j] = f32(b[o + j]); }
      }
    }
  } else if (k < params.K) { // B[k, n .. n+3]
    let o = b0 + k * params.ldb + n;
    if (n + 3u < params.N) { return vec4f(f32(b[o]), f32(b[o + 1u]), f32(b[o + 2u]), f32(b[o + 3u])); }
    for (var j = 0u; j < 4u; j++) {
      if (n + j < params.N) { v[j] = f32(b[o + j]); }
    }
  }
  return v;
}

@compute @workgroup_size(GEMM_BN / 8u, GEMM_BM / 8u)
fn matmul_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * GEMM_BM;
  let col0 = wg.x * GEMM_BN;
  a0 = params.a_off + wg.z * params.a_batch;
  b0 = params.b_off + wg.z * params.b_batch;
  let c0 = params.c_off + wg.z * params.c_batch;
  let acc = gemm_block8(row0, col0, params.K, lid.xy, li);
  let row = row0 + lid.y * 8u;
  let col = col0 + lid.x * 8u;
  for (var i = 0u; i < 8u; i++) {
    store_row(c0, row + i, col, gemm8_lo(acc, i));
    store_row(c0, row + i, col + 4u, gemm8_hi(acc, i));
  }
}

fn store_row(c0: u32, row: u32, col: u32, v: vec4f) {
  if (row >= params.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < params.N) { c[c0 + row * params.ldc + col + j] = elem(params.alpha * v[j]); }
  }
}
