// moe.grouped_ffn: every expert's SwiGLU FFN, y = w2(silu(w1 x) * w3 x), over its rows of the permuted
// token copies, in one launch per matmul and no per-expert loop on the CPU: the tiled matmuls for
// prefill-sized row groups (decode takes shaders/moe/grouped-ffn-gemv.wgsl), on the shared barrier-free quad
// GEMM core (lib/gemm-quad.wgsl: 16 quads per workgroup, each a register tile of GQ_R rows x GQ_C columns
// whose 4 lanes split K). The tile pass (shaders/moe/expert-tiles.wgsl) numbers the BM-row tiles of all
// experts (BM = GQ_BM) and writes the indirect sizes; a workgroup finds its expert by binary search in the
// tile table.
//   up_main     the GEMM's B is w1 and w3 of the expert interleaved by 4 rows: virtual columns 8j .. 8j+3
//               are w1 rows 4j .. 4j+3, columns 8j+4 .. 8j+7 the w3 rows of the same outputs, so a quad's
//               column vec4 2j holds the gate and 2j + 1 the up value of the same 4 output columns (GQ_C is
//               a multiple of 8) and the epilogue writes h = silu(x w1^T) * (x w3^T) as one vec4 per row,
//               with no exchange between quads. Rows of x are gathered through the dispatch permutation
//               inside the A loader (no permuted copy of x).
//   down_main   y = h w2^T for the same expert.
//   ffn_main    both for one row tile, where inter is small (at most two up column blocks): the up blocks,
//               then the down blocks of all dim columns, h passing through memory only this workgroup
//               wrote (in cache). A down pass over K = inter that shallow does too little per workgroup to
//               pay for its own launch, and the row tile's x rows and h stay hot between the two.
// Weights are `elem` storage (f32, or f16 where the device has shader-f16); the math is f32.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, x, sorted_tokens, tiles, w1, w3, w2,
// h and y as vec4: dim and inter are multiples of 4), the GEMM core's constants, lane_sum (appended, with its
// workgroup array where it has one) and BM (= GQ_BM, find_tile's tile height).

#include "lib/gemm-quad.wgsl"

// This workgroup's tile and its expert's weight slice, in vec4 (set before gemm_quad).
var<private> tile: TileInfo;
var<private> wbase: u32;

fn silu(z: vec4f) -> vec4f {
  return z / (1.0 + exp(-z));
}

// The loaders are branch-free where they can be (indices clamped into the matrix, k past the depth zeroed
// by a select: dim and inter are multiples of 4, so a vec4 of k is in or out whole) and return once: an
// early return per load, inlined 32 times into the core's written-out step, made SwiftShader's compile of
// these pipelines run for minutes. Rows past the tile or the expert are clamped, never stored.

// Up: A row m is the x row of the token copy tile.row0 + m (a tile is never empty: row_end > row0).
fn up_load_a(m: u32, k: u32) -> vec4f {
  let p = min(tile.row0 + m, tile.row_end - 1u);
  let src = select(p, u32(sorted_tokens[p]), params.gather == 1u);
  return select(vec4f(0.0), x[(src * params.dim + min(k, params.dim - 4u)) / 4u], k < params.dim);
}

// Up: virtual column n -> w1 (n % 8 < 4) or w3, row 4 (n / 8) + n % 4 of the expert.
fn up_load_b(n: u32, k: u32) -> vec4f {
  let r = min(4u * (n / 8u) + n % 4u, params.inter - 1u);
  let o = wbase + (r * params.dim + min(k, params.dim - 4u)) / 4u;
  var v: vec4f;
  if (n % 8u < 4u) { v = vec4f(w1[o]); } else { v = vec4f(w3[o]); }
  return select(vec4f(0.0), v, k < params.dim);
}

// Down: A row m is h row tile.row0 + m of the expert.
fn down_load_a(m: u32, k: u32) -> vec4f {
  let p = min(tile.row0 + m, tile.row_end - 1u);
  return select(vec4f(0.0), h[(p * params.inter + min(k, params.inter - 4u)) / 4u], k < params.inter);
}

fn down_load_b(n: u32, k: u32) -> vec4f {
  let v = w2[wbase + (min(n, params.dim - 1u) * params.inter + min(k, params.inter - 4u)) / 4u];
  return select(vec4f(0.0), vec4f(v), k < params.inter);
}

// The matmul in flight picks its loaders (uniform: set by the entry point between the GEMMs).
var<private> down_pass: bool;

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  var v: vec4f;
  if (down_pass) { v = down_load_a(m, k); } else { v = up_load_a(m, k); }
  return v;
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  var v: vec4f;
  if (down_pass) { v = down_load_b(n, k); } else { v = up_load_b(n, k); }
  return v;
}

// Up over column block cb: h of the quad's GQ_R rows x GQ_C / 2 output columns; lane i stores rows i, i + 4, ..
fn up_block(cb: u32, li: u32) {
  wbase = tile.expert * params.inter * (params.dim / 4u);
  down_pass = false;
  let t = gemm_quad(0u, cb * GQ_BN, params.dim, li);
  for (var r = li % 4u; r < GQ_R; r += 4u) {
    let p = tile.row0 + t.x + r;
    if (p >= tile.row_end) { break; }
    for (var j = 0u; j < GQ_CQ / 2u; j++) {
      let c = t.y / 2u + 4u * j; // first of 4 output columns (inter % 4 == 0)
      if (c < params.inter) { h[(p * params.inter + c) / 4u] = silu(gq_c(r, 2u * j)) * gq_c(r, 2u * j + 1u); }
    }
  }
}

// Down over column block cb: y of the quad's GQ_R rows x GQ_C columns.
fn down_block(cb: u32, li: u32) {
  wbase = tile.expert * params.dim * (params.inter / 4u);
  down_pass = true;
  let t = gemm_quad(0u, cb * GQ_BN, params.inter, li);
  for (var r = li % 4u; r < GQ_R; r += 4u) {
    let p = tile.row0 + t.x + r;
    if (p >= tile.row_end) { break; }
    for (var c = 0u; c < GQ_CQ; c++) {
      let col = t.y + 4u * c; // dim % 4 == 0: a vec4 is in or out whole
      if (col < params.dim) { y[(p * params.dim + col) / 4u] = gq_c(r, c); }
    }
  }
}

@compute @workgroup_size(GQ_WG)
fn up_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  up_block(wg.x, li);
}

@compute @workgroup_size(GQ_WG)
fn down_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  down_block(wg.x, li);
}

@compute @workgroup_size(GQ_WG)
fn ffn_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  for (var cb = 0u; cb < params.col_tiles_up; cb++) { up_block(cb, li); }
  // The down GEMM reads h rows other quads wrote: make their stores visible first.
  storageBarrier();
  for (var cb = 0u; cb < params.col_tiles_down; cb++) { down_block(cb, li); }
}
