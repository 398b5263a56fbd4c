// moe.grouped_ffn: every expert's SwiGLU FFN, y = w2(silu(w1 x) * w3 x), over its rows of the permuted
// token copies, in one launch per matmul and no per-expert loop on the CPU: the tiled matmuls for
// prefill-sized row groups (decode takes shaders/moe/grouped-ffn-gemv.wgsl), both on the shared GEMM core
// (lib/gemm.wgsl). The tile pass (shaders/moe/expert-tiles.wgsl) numbers the GEMM_BM-row tiles of all
// experts and writes the indirect sizes; a workgroup finds its expert by binary search in the tile table.
//   up_main     the GEMM's B is w1 and w3 of the expert interleaved by pairs of rows: block columns
//               4j .. 4j+3 are w1 rows 2j, 2j+1 then w3 rows 2j, 2j+1, so each thread's 4 accumulators of a
//               row hold both gate and up of 2 output columns and the epilogue writes
//               h = silu(x w1^T) * (x w3^T) with no exchange between threads. Rows of x are gathered
//               through the dispatch permutation inside the A loader (no permuted copy of x).
//   down_main   y = h w2^T for the same expert.
// Weights are `elem` storage (f32, or f16 where the device has shader-f16); the math is f32.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, x, sorted_tokens, tiles, w1, w3, w2,
// h, y), the GEMM core's constants and tiles, BM (= GEMM_BM, find_tile's tile height) and row_src [GEMM_BM].

#include "lib/gemm.wgsl"

const NO_ROW = 0xffffffffu;

// This workgroup's tile and its expert's weight slice, in vec4 (set before gemm_block).
var<private> tile: TileInfo;
var<private> wbase: u32;

fn silu(z: vec2f) -> vec2f {
  return z / (1.0 + exp(-z));
}

// Up: A row m is the x row of tile row m (row_src, filled before the loop).
fn up_load_a(m: u32, k: u32) -> vec4f {
  let src = row_src[m];
  if (src == NO_ROW || k >= params.dim) { return vec4f(0.0); }
  return x[(src * params.dim + k) / 4u];
}

// Up: virtual column n -> w1 (n % 4 < 2) or w3 row 2 (n / 4) + n % 2 of the expert.
fn up_load_b(n: u32, k: u32) -> vec4f {
  let r = 2u * (n / 4u) + n % 2u;
  if (r >= params.inter || k >= params.dim) { return vec4f(0.0); }
  let o = wbase + (r * params.dim + k) / 4u;
  if (n % 4u < 2u) { return vec4f(w1[o]); }
  return vec4f(w3[o]);
}

// Down: A row m is h row tile.row0 + m of the expert.
fn down_load_a(m: u32, k: u32) -> vec4f {
  let p = tile.row0 + m;
  if (p >= tile.row_end || k >= params.inter) { return vec4f(0.0); }
  let o = p * params.inter + k;
  return vec4f(h[o], h[o + 1u], h[o + 2u], h[o + 3u]);
}

fn down_load_b(n: u32, k: u32) -> vec4f {
  if (n >= params.dim || k >= params.inter) { return vec4f(0.0); }
  return vec4f(w2[wbase + (n * params.inter + k) / 4u]);
}

// One module, two GEMMs: the pass in flight picks its loaders (uniform: set per entry point).
var<private> down_pass: bool;

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  if (down_pass) { return down_load_a(m, k); }
  return up_load_a(m, k);
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  if (down_pass) { return down_load_b(n, k); }
  return up_load_b(n, k);
}

// Gate / up of output columns c, c+1 from one accumulator row (g, g', u, u'), stored if the row is the expert's.
fn store_h(p: u32, c: u32, v: vec4f) {
  if (p >= tile.row_end || c >= params.inter) { return; }
  let hv = silu(v.xy) * v.zw;
  h[p * params.inter + c] = hv.x;
  h[p * params.inter + c + 1u] = hv.y;
}

fn store_y(p: u32, c: u32, v: vec4f) {
  if (p >= tile.row_end || c >= params.dim) { return; }
  let o = p * params.dim + c;
  y[o] = v.x;
  y[o + 1u] = v.y;
  y[o + 2u] = v.z;
  y[o + 3u] = v.w;
}

@compute @workgroup_size(GEMM_BN / 4u, GEMM_BM / 4u)
fn up_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  wbase = tile.expert * params.inter * (params.dim / 4u);
  down_pass = false;
  for (var r = li; r < GEMM_BM; r += GEMM_THREADS) {
    let p = tile.row0 + r;
    var src = NO_ROW;
    if (p < tile.row_end) { src = select(p, u32(sorted_tokens[p]), params.gather == 1u); }
    row_src[r] = src;
  }
  workgroupBarrier();
  let acc = gemm_block(0u, wg.x * GEMM_BN, params.dim, lid.xy, li);
  let p = tile.row0 + 4u * lid.y;
  let c = (wg.x * GEMM_BN) / 2u + 2u * lid.x;
  store_h(p, c, acc.r0);
  store_h(p + 1u, c, acc.r1);
  store_h(p + 2u, c, acc.r2);
  store_h(p + 3u, c, acc.r3);
}

@compute @workgroup_size(GEMM_BN / 4u, GEMM_BM / 4u)
fn down_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  tile = find_tile(wg.y);
  wbase = tile.expert * params.dim * (params.inter / 4u);
  down_pass = true;
  let acc = gemm_block(0u, wg.x * GEMM_BN, params.inter, lid.xy, li);
  let p = tile.row0 + 4u * lid.y;
  let c = wg.x * GEMM_BN + 4u * lid.x;
  store_y(p, c, acc.r0);
  store_y(p + 1u, c, acc.r1);
  store_y(p + 2u, c, acc.r2);
  store_y(p + 3u, c, acc.r3);
}
