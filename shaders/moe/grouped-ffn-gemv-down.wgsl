// moe.grouped_ffn at decode, the down pass: y[p, n] = h[p] . w2[e, n], laid out like the up pass
// (grouped-ffn-gemv.wgsl, whose header explains the tile, the quad of QR weight rows whose lanes split K,
// and lane_sum): per step QR weight vec4s and one h vec4 per token row, 4 + 8 loads for 128 FMAs at 8 rows.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, tiles, w2 [E, dim, inter] as
// vec4<elem>, h [rows, inter] as vec4, y [rows, dim] as scalars) and the constants WG, QR, L, MT and BM.

#include "lib/quad-row-dots.wgsl"

/** The QR columns n0 .. of row p of y (dim is a multiple of 4). */
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
  let o = (vec4u(info.expert * params.dim) + min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.dim - 1u))) * k4;
  // h rows of the tile (rows past it repeat its last one: computed, never stored)
  let last = info.row0 + rows - 1u;
  let s_lo = min(vec4u(info.row0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
  let s_hi = min(vec4u(info.row0) + vec4u(4u, 5u, 6u, 7u), vec4u(last)) * k4;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  // One token row (decode): a loop of its own (see the up pass).
  if (rows == 1u) {
    for (var kq = lid % L; kq < k4; kq += L) {
      let hv = h[s_lo.x + kq];
      if (QR == 1u) {
        a0.x += dot(hv, vec4f(w2[o.x + kq]));
      } else {
        a0 += dot_rows(hv, vec4f(w2[o.x + kq]), vec4f(w2[o.y + kq]), vec4f(w2[o.z + kq]), vec4f(w2[o.w + kq]));
      }
    }
  } else {
    var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0); // zero with QR = 1 (a constant branch)
    for (var kq = lid % L; kq < k4; kq += L) {
      let b0 = vec4f(w2[o.x + kq]);
      if (QR > 1u) { b1 = vec4f(w2[o.y + kq]); b2 = vec4f(w2[o.z + kq]); b3 = vec4f(w2[o.w + kq]); }
      a0 += dot_rows(h[s_lo.x + kq], b0, b1, b2, b3);
      if (rows > 1u) {
        a1 += dot_rows(h[s_lo.y + kq], b0, b1, b2, b3);
        a2 += dot_rows(h[s_lo.z + kq], b0, b1, b2, b3);
        a3 += dot_rows(h[s_lo.w + kq], b0, b1, b2, b3);
      }
      if (rows > 4u) {
        a4 += dot_rows(h[s_hi.x + kq], b0, b1, b2, b3);
        a5 += dot_rows(h[s_hi.y + kq], b0, b1, b2, b3);
        a6 += dot_rows(h[s_hi.z + kq], b0, b1, b2, b3);
        a7 += dot_rows(h[s_hi.w + kq], b0, b1, b2, b3);
      }
    }
  }
  var c = array<vec4f, 8>();
  c[0] = lane_sum(a0, lid);
  if (rows > 1u) { c[1] = lane_sum(a1, lid); c[2] = lane_sum(a2, lid); c[3] = lane_sum(a3, lid); }
  if (rows > 4u) { c[4] = lane_sum(a4, lid); c[5] = lane_sum(a5, lid); c[6] = lane_sum(a6, lid); c[7] = lane_sum(a7, lid); }
  if (lid % L != 0u || n0 >= params.dim) { return; }
  for (var r = 0u; r < rows; r++) { store_cols(info.row0 + r, n0, c[r]); }
}
