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
  if (QR == 1u) { return; }
  y[i + 1u] = v.y;
  y[i + 2u] = v.z;
  y[i + 3u] = v.w;
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
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  var d4 = vec4f(0.0); var d5 = vec4f(0.0); var d6 = vec4f(0.0); var d7 = vec4f(0.0);
  // One token row (decode): a loop of its own (see the up pass). The branches on QR are constant.
  if (rows == 1u) {
    for (var kq = lid % L; kq < k4; kq += L) {
      let hv = h[s_lo.x + kq];
      if (QR == 1u) {
        a0.x += dot(hv, vec4f(w2[o.x + kq]));
      } else {
        a0 += dot_rows(hv, vec4f(w2[o.x + kq]), vec4f(w2[o.y + kq]), vec4f(w2[o.z + kq]), vec4f(w2[o.w + kq]));
      }
      if (QR == 8u) { d0 += dot_rows(hv, vec4f(w2[q.x + kq]), vec4f(w2[q.y + kq]), vec4f(w2[q.z + kq]), vec4f(w2[q.w + kq])); }
    }
  } else {
    var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0); // zero with QR = 1
    var v0 = vec4f(0.0); var v1 = vec4f(0.0); var v2 = vec4f(0.0); var v3 = vec4f(0.0); // zero below QR = 8
    for (var kq = lid % L; kq < k4; kq += L) {
      let b0 = vec4f(w2[o.x + kq]);
      if (QR > 1u) { b1 = vec4f(w2[o.y + kq]); b2 = vec4f(w2[o.z + kq]); b3 = vec4f(w2[o.w + kq]); }
      if (QR == 8u) { v0 = vec4f(w2[q.x + kq]); v1 = vec4f(w2[q.y + kq]); v2 = vec4f(w2[q.z + kq]); v3 = vec4f(w2[q.w + kq]); }
      var hv = h[s_lo.x + kq]; a0 += dot_rows(hv, b0, b1, b2, b3); d0 += dot_rows(hv, v0, v1, v2, v3);
      if (rows > 1u) {
        hv = h[s_lo.y + kq]; a1 += dot_rows(hv, b0, b1, b2, b3); d1 += dot_rows(hv, v0, v1, v2, v3);
        hv = h[s_lo.z + kq]; a2 += dot_rows(hv, b0, b1, b2, b3); d2 += dot_rows(hv, v0, v1, v2, v3);
        hv = h[s_lo.w + kq]; a3 += dot_rows(hv, b0, b1, b2, b3); d3 += dot_rows(hv, v0, v1, v2, v3);
      }
      if (rows > 4u) {
        hv = h[s_hi.x + kq]; a4 += dot_rows(hv, b0, b1, b2, b3); d4 += dot_rows(hv, v0, v1, v2, v3);
        hv = h[s_hi.y + kq]; a5 += dot_rows(hv, b0, b1, b2, b3); d5 += dot_rows(hv, v0, v1, v2, v3);
        hv = h[s_hi.z + kq]; a6 += dot_rows(hv, b0, b1, b2, b3); d6 += dot_rows(hv, v0, v1, v2, v3);
        hv = h[s_hi.w + kq]; a7 += dot_rows(hv, b0, b1, b2, b3); d7 += dot_rows(hv, v0, v1, v2, v3);
      }
    }
  }
  var c = array<vec4f, 8>();
  var e = array<vec4f, 8>();
  c[0] = lane_sum(a0, lid);
  if (rows > 1u) { c[1] = lane_sum(a1, lid); c[2] = lane_sum(a2, lid); c[3] = lane_sum(a3, lid); }
  if (rows > 4u) { c[4] = lane_sum(a4, lid); c[5] = lane_sum(a5, lid); c[6] = lane_sum(a6, lid); c[7] = lane_sum(a7, lid); }
  if (QR == 8u) {
    e[0] = lane_sum(d0, lid);
    if (rows > 1u) { e[1] = lane_sum(d1, lid); e[2] = lane_sum(d2, lid); e[3] = lane_sum(d3, lid); }
    if (rows > 4u) { e[4] = lane_sum(d4, lid); e[5] = lane_sum(d5, lid); e[6] = lane_sum(d6, lid); e[7] = lane_sum(d7, lid); }
  }
  if (lid % L != 0u || n0 >= params.dim) { return; }
  for (var r = 0u; r < rows; r++) {
    store_cols(info.row0 + r, n0, c[r]);
    if (QR == 8u && n0 + 4u < params.dim) { store_cols(info.row0 + r, n0 + 4u, e[r]); }
  }
}
