// moe.grouped_ffn at decode: a coalesced GEMV per expert. At decode an expert gets a handful of token rows,
// so the expert weights are streamed once and nothing is worth staging in workgroup memory; what matters is
// that every load is coalesced and that enough workgroups stream at once.
//   Workgroup (tile t in x, weight-row block b in y): the tile's <= MT token rows of one expert (found by
//   binary search in the tile table) against RPW consecutive weight rows (rows b*RPW ..); each weight row
//   gets TPR logical lanes that walk its K in vec4 steps, so a row's lanes read TPR * 16 contiguous bytes
//   per step, and every weight vec4 is used for all the tile's tokens while it is in registers.
//   up_gemv    h[p, n] = silu(x[tok p] . w1[e, n]) * (x[tok p] . w3[e, n]), the SwiGLU gate fused.
//   down_gemv  y[p, n] = h[p] . w2[e, n].
// The lanes' partial dots meet through row_sum (subgroup shuffles, or workgroup memory). Weights are stored
// as `elem` (f32, or f16 where the device has shader-f16); the math is f32.

@group(0) @binding(0) var<uniform> params: FfnParams;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;        // [tokens, dim]
@group(0) @binding(2) var<storage, read> sorted_tokens: array<i32>;  // [rows]
@group(0) @binding(3) var<storage, read> tiles: array<u32>;          // tile table
@group(0) @binding(4) var<storage, read> w1: array<vec4<elem>>;      // [E, inter, dim]
@group(0) @binding(5) var<storage, read> w3: array<vec4<elem>>;      // [E, inter, dim]
@group(0) @binding(6) var<storage, read> w2: array<vec4<elem>>;      // [E, dim, inter]
@group(0) @binding(7) var<storage, read_write> h: array<f32>;        // [rows, inter] (scalar: lanes of one vec4 are written by different invocations)
@group(0) @binding(8) var<storage, read_write> y: array<f32>;        // [rows, dim]

const WG = 256u;
const TPR = 64u;         // logical lanes per weight row
const RPW = WG / TPR;    // weight rows per workgroup
const MT = 8u;           // token rows per tile (a multiple of 4)
override BM: u32 = MT;   // find_tile's tile height

fn silu(z: f32) -> f32 {
  return z / (1.0 + exp(-z));
}

@compute @workgroup_size(WG)
fn up_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let info = find_tile(wg.x);
  let rows = min(info.row_end - info.row0, MT);
  let n = wg.y * RPW + lanes.p / TPR;
  let k4 = params.dim / 4u;
  var src: array<u32, MT>; // x row of each tile row
  for (var r = 0u; r < MT; r++) {
    let p = info.row0 + min(r, rows - 1u);
    src[r] = select(p, u32(sorted_tokens[p]), params.gather == 1u);
  }
  var g: array<f32, MT>;
  var u: array<f32, MT>;
  if (n < params.inter) {
    let o = (info.expert * params.inter + n) * k4;
    for (var kq = lanes.p % TPR; kq < k4; kq += TPR) {
      let a = vec4f(w1[o + kq]);
      let b = vec4f(w3[o + kq]);
      for (var r = 0u; r < MT; r++) {
        if (r < rows) {
          let xv = x[src[r] * k4 + kq];
          g[r] += dot(xv, a);
          u[r] += dot(xv, b);
        }
      }
    }
  }
  let gs = rows_sum(g, lanes);
  let us = rows_sum(u, lanes);
  if (lanes.p % TPR == 0u && n < params.inter) {
    for (var r = 0u; r < rows; r++) { h[(info.row0 + r) * params.inter + n] = silu(gs[r]) * us[r]; }
  }
}

@compute @workgroup_size(WG)
fn down_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let info = find_tile(wg.x);
  let rows = min(info.row_end - info.row0, MT);
  let n = wg.y * RPW + lanes.p / TPR;
  let k4 = params.inter / 4u;
  var c: array<f32, MT>;
  if (n < params.dim) {
    let o = (info.expert * params.dim + n) * k4;
    for (var kq = lanes.p % TPR; kq < k4; kq += TPR) {
      let b = vec4f(w2[o + kq]);
      for (var r = 0u; r < MT; r++) {
        if (r < rows) {
          let j = (info.row0 + r) * params.inter + 4u * kq;
          c[r] += dot(vec4f(h[j], h[j + 1u], h[j + 2u], h[j + 3u]), b);
        }
      }
    }
  }
  let cs = rows_sum(c, lanes);
  if (lanes.p % TPR == 0u && n < params.dim) {
    for (var r = 0u; r < rows; r++) { y[(info.row0 + r) * params.dim + n] = cs[r]; }
  }
}
