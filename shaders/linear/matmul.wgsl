// linear.matmul: C[M,N] = alpha · A[M,K] · B, B stored [K,N] (GEMM_B_NK = 0) or [N,K] (GEMM_B_NK = 1, PyTorch's
// nn.Linear weight layout, y = x W^T), on the barrier-free quad GEMM core (lib/gemm-quad.wgsl: 16 quads per
// workgroup, each a register tile of C whose 4 lanes split K). The loaders clamp their indices into the
// matrix and zero what lies past K, with no branch, so any M, N, K and either storage type work; all
// arithmetic is f32.
// Each operand is a strided view (element offset, row stride, batch stride; wg.z = batch), so a composite
// can read rows in the middle of a buffer, write into the columns of a wider one, or run one small GEMM per
// attention head (MLA's W_UK / W_UV: the head's rows of wkv_b against that head's slice of q) in one launch;
// `alpha` scales C (the indexer's Hi^-0.5 Di^-0.5 on its head weights).

// Generated from src/kernels/linear/matmul.ts: the bindings (params, a, b, c), the GEMM core's constants and
// lane_sum (appended by the host, with its workgroup array where it has one).

#include "lib/gemm-quad.wgsl"

// This workgroup's batch entry: the start of its A and B views (set once before gemm_quad).
var<private> a0: u32;
var<private> b0: u32;

const LANE4 = vec4u(0u, 1u, 2u, 3u);

// Four elements of one row of a view: indices j clamped to the row's last element (a read past the edge
// repeats it; the loaders zero what the product must not see).
fn read4(x0: u32, row: u32, ld: u32, j: vec4u, last: u32, from_b: bool) -> vec4f {
  let o = x0 + row * ld;
  let c = min(j, vec4u(last));
  if (from_b) { return vec4f(f32(b[o + c.x]), f32(b[o + c.y]), f32(b[o + c.z]), f32(b[o + c.w])); }
  return vec4f(f32(a[o + c.x]), f32(a[o + c.y]), f32(a[o + c.z]), f32(a[o + c.w]));
}

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  let ks = vec4u(k) + LANE4;
  return select(vec4f(0.0), read4(a0, min(m, params.M - 1u), params.lda, ks, params.K - 1u, false), ks < vec4u(params.K));
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  if (GEMM_B_NK == 1u) { // B^T[n, k .. k+3]
    let ks = vec4u(k) + LANE4;
    return select(vec4f(0.0), read4(b0, min(n, params.N - 1u), params.ldb, ks, params.K - 1u, true), ks < vec4u(params.K));
  }
  // B[k, n .. n+3]; columns past N are never stored
  return select(vec4f(0.0), read4(b0, min(k, params.K - 1u), params.ldb, vec4u(n) + LANE4, params.N - 1u, true), vec4<bool>(k < params.K));
}

@compute @workgroup_size(GQ_WG)
fn matmul_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  a0 = params.a_off + wg.z * params.a_batch;
  b0 = params.b_off + wg.z * params.b_batch;
  let c0 = params.c_off + wg.z * params.c_batch;
  let t = gemm_quad(wg.y * GQ_BM, wg.x * GQ_BN, params.K, li);
  // Lane i stores rows i, i + 4, ... of the quad's tile.
  for (var r = li % 4u; r < GQ_R; r += 4u) {
    for (var c = 0u; c < GQ_CQ; c++) { store4(c0, t.x + r, t.y + 4u * c, gq_c(r, c)); }
  }
}

fn store4(c0: u32, row: u32, col: u32, v: vec4f) {
  if (row >= params.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < params.N) { c[c0 + row * params.ldc + col + j] = elem(params.alpha * v[j]); }
  }
}
