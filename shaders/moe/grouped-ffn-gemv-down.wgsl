// moe.grouped_ffn at decode, the down pass: y[p, n] = h[p] . w2[e, n], laid out like the up pass
// (grouped-ffn-gemv.wgsl, whose header explains the tile, the quad of QR weight rows whose lanes split K,
// and lane_sum). One matrix, so a quad takes QR = 8 rows where that fills a GPU (two vec4 accumulators per
// token row: rows n0 .. n0 + 3 and n0 + 4 .. n0 + 7): per step 8 weight vec4s and one h vec4 per token row,
// 8 + 8 loads for 256 FMAs at 8 rows, as many per FMA as the up pass's 4 rows of w1 and w3.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, tiles, w2 [E, dim, inter] as
// vec4<elem>, h [rows, inter] as vec4, y [rows, dim] as scalars) and the constants WG, QR, L, MT and BM.

#include "lib/quad-row-dots.wgsl"

/** Up to 4 of the quad's columns, n0 .. n0 + 3, of row p of y (dim is a multiple of 4). */
fn store_cols(p: u32, n0: u32, v: vec4f) {
  let i = p * params.dim + n0;
  y[i] = v.x;
  if (QR > 1u) { y[i + 1u] = v.y; y[i + 2u] = v.z; y[i + 3u] = v.w; }
}

@compute @workgroup_size(WG)
fn down_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let info = find_tile(wg.x);
  let rows = min(info.row_end - info.row0, MT);
  let k4 = params.inter / 4u;
  let n0 = (wg.y * (WG / L) + lid / L) * QR;
  let base = vec4u(info.expert * params.dim);
  let o = (base + min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.dim - 1u))) * k4;
  let q = (base + min(vec4u(n0) + vec4u(4u, 5u, 6u, 7u), vec4u(params.dim - 1u))) * k4; // QR = 8 only
  // h rows of the tile (rows past it repeat its last one: computed, never stored)
  let last = info.row0 + rows - 1u;
  let s_lo = min(vec4u(info.row0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
  let s_hi = min(vec4u(info.row0) + vec4u(4u, 5u, 6u, 7u), vec4u(last)) * k4;
  // Per token row: a_* the dots with weight rows n0 .. n0 + 3, d_* with n0 + 4 .. n0 + 7 (QR = 8 only), for
  // token quads lo (rows 0-3) and hi (4-7), column r. The branches on the tile's row count are uniform per
  // workgroup (lane_sum, whose workgroup-memory variant has barriers, runs inside them); the ones on QR are
  // constant.
  var a_lo = mat4x4f(); var a_hi = mat4x4f(); var d_lo = mat4x4f(); var d_hi = mat4x4f();
  // One token row (decode): a loop of its own (see the up pass).
  if (rows == 1u) {
    var a0 = vec4f(0.0); var d0 = vec4f(0.0);
    for (var kq = lid % L; kq < k4; kq += L) {
      let hv = h[s_lo.x + kq];
      if (QR == 1u) { a0.x += dot(hv, vec4f(w2[o.x + kq])); }
      else { a0 += dot_rows(hv, vec4f(w2[o.x + kq]), vec4f(w2[o.y + kq]), vec4f(w2[o.z + kq]), vec4f(w2[o.w + kq])); }
      if (QR == 8u) { d0 += dot_rows(hv, vec4f(w2[q.x + kq]), vec4f(w2[q.y + kq]), vec4f(w2[q.z + kq]), vec4f(w2[q.w + kq])); }
    }
    a_lo[0] = lane_sum(a0, lid);
    if (QR == 8u) { d_lo[0] = lane_sum(d0, lid); }
  } else {
    // Weight rows stay zero past QR (1: rows 1-3; 4: the second quad). Rows past the tile repeat its last one.
    var wa = mat4x4f(); var wd = mat4x4f();
    for (var kq = lid % L; kq < k4; kq += L) {
      wa[0] = vec4f(w2[o.x + kq]);
      if (QR > 1u) { wa[1] = vec4f(w2[o.y + kq]); wa[2] = vec4f(w2[o.z + kq]); wa[3] = vec4f(w2[o.w + kq]); }
      if (QR == 8u) { wd = mat4x4f(vec4f(w2[q.x + kq]), vec4f(w2[q.y + kq]), vec4f(w2[q.z + kq]), vec4f(w2[q.w + kq])); }
      let hl = mat4x4f(h[s_lo.x + kq], h[s_lo.y + kq], h[s_lo.z + kq], h[s_lo.w + kq]);
      a_lo += quad_dots(hl, wa);
      if (QR == 8u) { d_lo += quad_dots(hl, wd); }
      if (rows > 4u) {
        let hh = mat4x4f(h[s_hi.x + kq], h[s_hi.y + kq], h[s_hi.z + kq], h[s_hi.w + kq]);
        a_hi += quad_dots(hh, wa);
        if (QR == 8u) { d_hi += quad_dots(hh, wd); }
      }
    }
    a_lo = lane_sum_cols(a_lo, lid);
    if (rows > 4u) { a_hi = lane_sum_cols(a_hi, lid); }
    if (QR == 8u) {
      d_lo = lane_sum_cols(d_lo, lid);
      if (rows > 4u) { d_hi = lane_sum_cols(d_hi, lid); }
    }
  }
  if (lid % L != 0u || n0 >= params.dim) { return; }
  for (var r = 0u; r < rows; r++) {
    store_cols(info.row0 + r, n0, tile_row(a_lo, a_hi, r));
    if (QR == 8u && n0 + 4u < params.dim) { store_cols(info.row0 + r, n0 + 4u, tile_row(d_lo, d_hi, r)); }
  }
}
