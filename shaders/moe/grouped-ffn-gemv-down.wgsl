// moe.grouped_ffn at decode, the down pass: y[p, n] = h[p] . w2[e, n], laid out like the up pass
// (grouped-ffn-gemv.wgsl, whose header explains the tile, the L = 4 lanes per weight row and lane_sum).
// h is read here as vec4 (the up pass writes it as scalars, hence the separate module).

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, tiles, w2 [E, dim, inter] as
// vec4<elem>, h [rows, inter] as vec4, y [rows, dim] as scalars) and the constants WG, L, MT and BM.

@compute @workgroup_size(WG)
fn down_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let info = find_tile(wg.x);
  let rows = min(info.row_end - info.row0, MT);
  let n = wg.y * (WG / L) + lid / L;
  let k4 = params.inter / 4u;
  let last = info.row0 + rows - 1u;
  let s_lo = min(vec4u(info.row0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
  let s_hi = min(vec4u(info.row0) + vec4u(4u, 5u, 6u, 7u), vec4u(last)) * k4;
  var lo = vec4f(0.0);
  var hi = vec4f(0.0);
  if (n < params.dim) {
    let o = (info.expert * params.dim + n) * k4;
    if (rows == 1u) {
      var acc = vec4f(0.0);
      for (var kq = lid % L; kq < k4; kq += L) { acc += h[s_lo.x + kq] * vec4f(w2[o + kq]); }
      lo.x = acc.x + acc.y + acc.z + acc.w;
    } else {
      for (var kq = lid % L; kq < k4; kq += L) {
        let b = vec4f(w2[o + kq]);
        lo += vec4f(dot(h[s_lo.x + kq], b), dot(h[s_lo.y + kq], b), dot(h[s_lo.z + kq], b), dot(h[s_lo.w + kq], b));
        if (rows > 4u) { hi += vec4f(dot(h[s_hi.x + kq], b), dot(h[s_hi.y + kq], b), dot(h[s_hi.z + kq], b), dot(h[s_hi.w + kq], b)); }
      }
    }
  }
  let c0 = lane_sum(lo, lid);
  let c1 = lane_sum(hi, lid);
  if (lid % L != 0u || n >= params.dim) { return; }
  for (var r = 0u; r < rows; r++) { y[(info.row0 + r) * params.dim + n] = select(c1[r % 4u], c0[r % 4u], r < 4u); }
}
