// moe.grouped_ffn: every expert's SwiGLU FFN, y = w2(silu(w1 x) * w3 x), over its rows of the permuted
// token copies, in one launch per matmul and no per-expert loop on the CPU: the tiled matmuls for
// prefill-sized row groups (decode takes shaders/moe/grouped-ffn-gemv.wgsl), on the shared GEMM core's
// 8 x 8 register micro-tiles (lib/gemm.wgsl gemm_block8). The tile pass (shaders/moe/expert-tiles.wgsl)
// numbers the GEMM_BM-row tiles of all experts and writes the indirect sizes; a workgroup finds its expert
// by binary search in the tile table.
//   up_main     the GEMM's B is w1 and w3 of the expert interleaved by 4 rows: block columns 8j .. 8j+3 are
//               w1 rows 4j .. 4j+3, columns 8j+4 .. 8j+7 the w3 rows of the same outputs, so a thread's lo
//               accumulators hold the gate and its hi ones the up value of the same 4 output columns and
//               the epilogue writes h = silu(x w1^T) * (x w3^T) as one vec4 per row, with no exchange
//               between threads. Rows of x are gathered through the dispatch permutation inside the A
//               loader (no permuted copy of x).
//   down_main   y = h w2^T for the same expert.
//   ffn_main    both for one row tile, where inter <= 64 (at most two up column blocks): the up blocks,
//               then the down blocks of all dim columns, h passing through memory only this workgroup
//               wrote (in cache). A down pass over K = inter <= 64 does too little per workgroup to pay
//               for its own launch (on SwiftShader a workgroup that meets a barrier has a large fixed
//               cost), and the row tile's x rows and h stay hot between the two.
// Weights are `elem` storage (f32, or f16 where the device has shader-f16); the math is f32.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, x, sorted_tokens, tiles, w1, w3, w2,
// h and y as vec4: dim and inter are multiples of 4), the GEMM core's constants and tiles and BM (= GEMM_BM,
// find_tile's tile height).

#include "lib/gemm.wgsl"

// This workgroup's tile and its expert's weight slice, in vec4 (set before gemm_block8).
var<private> tile: TileInfo;
var<private> wbase: u32;

fn silu(z: vec4f) -> vec4f {
  return z / (1.0 + exp(-z));
}

// Up: A row m is the x row of the token copy tile.row0 + m (its sorted_tokens entry is read by the
// GEMM_BK / 4 consecutive invocations that stage the row's quads: one cached load, no staging pass).
fn up_load_a(m: u32, k: u32) -> vec4f {
  let p = tile.row0 + m;
  if (p >= tile.row_end || k >= params.dim) { return vec4f(0.0); }
  let src = select(p, u32(sorted_tokens[p]), params.gather == 1u);
  return x[(src * params.dim + k) / 4u];
}

// Up: virtual column n -> w1 (n % 8 < 4) or w3, row 4 (n / 8) + n % 4 of the expert.
fn up_load_b(n: u32, k: u32) -> vec4f {
  let r = 4u * (n / 8u) + n % 4u;
  if (r >= params.inter || k >= params.dim) { return vec4f(0.0); }
  let o = wbase + (r * params.dim + k) / 4u;
  if (n % 8u < 4u) { return vec4f(w1[o]); }
  return vec4f(w3[o]);
}

// Down: A row m is h row tile.row0 + m of the expert.
fn down_load_a(m: u32, k: u32) -> vec4f {
  let p = tile.row0 + m;
  if (p >= tile.row_end || k >= params.inter) { return vec4f(0.0); }
  return h[(p * params.inter + k) / 4u];
}

fn down_load_b(n: u32, k: u32) -> vec4f {
  if (n >= params.dim || k >= params.inter) { return vec4f(0.0); }
  return vec4f(w2[wbase + (n * params.inter + k) / 4u]);
}

// The matmul in flight picks its loaders (uniform: set by the entry point between the GEMMs).
var<private> down_pass: bool;

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  if (down_pass) { return down_load_a(m, k); }
  return up_load_a(m, k);
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  if (down_pass) { return down_load_b(n, k); }
  return up_load_b(n, k);
}

// Up over column block cb: h of this thread's 8 rows x 4 output columns.
fn up_block(cb: u32, lid: vec2u, li: u32) {
  wbase = tile.expert * params.inter * (params.dim / 4u);
  down_pass = false;
  let acc = gemm_block8(0u, cb * GEMM_BN, params.dim, lid, li);
  let p = tile.row0 + 8u * lid.y;
  let c = (cb * GEMM_BN) / 2u + 4u * lid.x; // first of the thread's 4 output columns (inter % 4 == 0)
  if (c >= params.inter) { return; }
  for (var i = 0u; i < 8u; i++) {
    if (p + i < tile.row_end) { h[((p + i) * params.inter + c) / 4u] = silu(gemm8_lo(acc, i)) * gemm8_hi(acc, i); }
  }
}

// Down over column block cb: y of this thread's 8 rows x 8 columns.
fn down_block(cb: u32, lid: vec2u, li: u32) {
  wbase = tile.expert * params.dim * (params.inter / 4u);
  down_pass = true;
  let acc = gemm_block8(0u, cb * GEMM_BN, params.inter, lid, li);
  let p = tile.row0 + 8u * lid.y;
  let c = cb * GEMM_BN + 8u * lid.x; // columns c .. c+7 (dim % 4 == 0: each half is in or out whole)
  for (var i = 0u; i < 8u; i++) {
    if (p + i >= tile.row_end) { break; }
    let o = ((p + i) * params.dim + c) / 4u;
    if (c < params.dim) { y[o] = gemm8_lo(acc, i); }
    if (c + 4u < params.dim) { y[o + 1u] = gemm8_hi(acc, i); }
  }
}

@compute @workgroup_size(GEMM_BN / 8u, GEMM_BM / 8u)
fn up_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  up_block(wg.x, lid.xy, li);
}

@compute @workgroup_size(GEMM_BN / 8u, GEMM_BM / 8u)
fn down_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  down_block(wg.x, lid.xy, li);
}

@compute @workgroup_size(GEMM_BN / 8u, GEMM_BM / 8u)
fn ffn_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  for (var cb = 0u; cb < params.col_tiles_up; cb++) { up_block(cb, lid.xy, li); }
  // The down GEMM stages h rows other invocations wrote: make their stores visible first.
  storageBarrier();
  for (var cb = 0u; cb < params.col_tiles_down; cb++) { down_block(cb, lid.xy, li); }
}
