// moe.grouped_ffn at decode: a coalesced GEMV per expert. At decode an expert gets a handful of token rows,
// so the expert weights are streamed once and nothing is worth staging in workgroup memory; what matters is
// that every load is coalesced and that enough workgroups stream at once.
//   Workgroup (tile t in x, weight-row block b in y): the tile's <= MT token rows of one expert (found by
//   binary search in the tile table) against WG / TPR consecutive weight rows; each weight row
//   gets TPR logical lanes that walk its K in vec4 steps, so a row's lanes read TPR * 16 contiguous bytes
//   per step, and every weight vec4 is used for all the tile's tokens while it is in registers.
//   up_gemv    h[p, n] = silu(x[tok p] . w1[e, n]) * (x[tok p] . w3[e, n]), the SwiGLU gate fused.
//   down_gemv  y[p, n] = h[p] . w2[e, n].
// The lanes' partial dots meet through row_sum (subgroup shuffles, or workgroup memory). Weights are stored
// as `elem` (f32, or f16 where the device has shader-f16); the math is f32.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, x [tokens, dim] as vec4, sorted_tokens
// [rows], tiles, w1 / w3 [E, inter, dim] and w2 [E, dim, inter] as vec4<elem>, h [rows, inter] and
// y [rows, dim] as scalars: lanes of one vec4 are written by different invocations) and the constants
// WG (threads, 64 or 256: moe-config.ts gemvShape), TPR (logical lanes per weight row, a power of two
// dividing WG), MT (token rows per tile, accumulated as two vec4: rows 0-3, rows 4-7) and BM = MT
// (find_tile's tile height).

struct GemvTile {
  info: TileInfo,
  rows: u32, // token rows of the tile (1..MT)
  n: u32,    // this lane's weight row
}

fn gemv_tile(wg: vec3u, lanes: Lanes) -> GemvTile {
  let info = find_tile(wg.x);
  return GemvTile(info, min(info.row_end - info.row0, MT), wg.y * (WG / TPR) + lanes.p / TPR);
}

fn silu(z: vec4f) -> vec4f {
  return z / (1.0 + exp(-z));
}

// The dots of one weight vec4 with 4 token rows whose vec4 index at this K position is s + kq.
fn dot4(s: vec4u, kq: u32, w: vec4f) -> vec4f {
  return vec4f(dot(x[s.x + kq], w), dot(x[s.y + kq], w), dot(x[s.z + kq], w), dot(x[s.w + kq], w));
}

// x row offsets (in vec4) of tile rows r0 .. r0+3; rows past the tile repeat its last row (their sums are
// computed and never stored, so no branch per row in the K loop).
fn x_rows(tile: GemvTile, r0: u32, k4: u32) -> vec4u {
  var s: vec4u;
  for (var j = 0u; j < 4u; j++) {
    let p = tile.info.row0 + min(r0 + j, tile.rows - 1u);
    s[j] = select(p, u32(sorted_tokens[p]), params.gather == 1u) * k4;
  }
  return s;
}

// The dot of one weight vec4 with h's vec4 kq of the row starting at float s.
fn hdot(s: u32, kq: u32, w: vec4f) -> f32 {
  let j = s + 4u * kq;
  return dot(vec4f(h[j], h[j + 1u], h[j + 2u], h[j + 3u]), w);
}

// Stores rows r < tile.rows of a tile's results (lo: rows 0-3, hi: rows 4-7) at out[(row0 + r) * width + n].
fn store_rows(tile: GemvTile, lo: vec4f, hi: vec4f, width: u32, is_h: bool) {
  for (var r = 0u; r < tile.rows; r++) {
    let v = select(hi[r % 4u], lo[r % 4u], r < 4u);
    let i = (tile.info.row0 + r) * width + tile.n;
    if (is_h) { h[i] = v; } else { y[i] = v; }
  }
}

@compute @workgroup_size(WG)
fn up_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let tile = gemv_tile(wg, lanes);
  let k4 = params.dim / 4u;
  let s_lo = x_rows(tile, 0u, k4);
  let s_hi = x_rows(tile, 4u, k4);
  var g_lo = vec4f(0.0); var g_hi = vec4f(0.0); // x . w1[n], rows 0-3 and 4-7
  var u_lo = vec4f(0.0); var u_hi = vec4f(0.0); // x . w3[n]
  if (tile.n < params.inter) {
    let o = (tile.info.expert * params.inter + tile.n) * k4;
    // Branches on the tile's row count are uniform per workgroup: decode's single rows do one dot each.
    for (var kq = lanes.p % TPR; kq < k4; kq += TPR) {
      let a = vec4f(w1[o + kq]);
      let b = vec4f(w3[o + kq]);
      if (tile.rows == 1u) {
        let xv = x[s_lo.x + kq];
        g_lo.x += dot(xv, a);
        u_lo.x += dot(xv, b);
      } else {
        g_lo += dot4(s_lo, kq, a);
        u_lo += dot4(s_lo, kq, b);
        if (tile.rows > 4u) {
          g_hi += dot4(s_hi, kq, a);
          u_hi += dot4(s_hi, kq, b);
        }
      }
    }
  }
  let g = row_sum2(g_lo, g_hi, lanes);
  let u = row_sum2(u_lo, u_hi, lanes);
  if (lanes.p % TPR == 0u && tile.n < params.inter) {
    store_rows(tile, silu(g[0]) * u[0], silu(g[1]) * u[1], params.inter, true);
  }
}

@compute @workgroup_size(WG)
fn down_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let tile = gemv_tile(wg, lanes);
  let k4 = params.inter / 4u;
  let last = tile.info.row0 + tile.rows - 1u;
  let s_lo = min(vec4u(tile.info.row0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * params.inter;
  let s_hi = min(vec4u(tile.info.row0) + vec4u(4u, 5u, 6u, 7u), vec4u(last)) * params.inter;
  var lo = vec4f(0.0);
  var hi = vec4f(0.0);
  if (tile.n < params.dim) {
    let o = (tile.info.expert * params.dim + tile.n) * k4;
    for (var kq = lanes.p % TPR; kq < k4; kq += TPR) {
      let b = vec4f(w2[o + kq]);
      if (tile.rows == 1u) {
        lo.x += hdot(s_lo.x, kq, b);
      } else {
        lo += vec4f(hdot(s_lo.x, kq, b), hdot(s_lo.y, kq, b), hdot(s_lo.z, kq, b), hdot(s_lo.w, kq, b));
        if (tile.rows > 4u) { hi += vec4f(hdot(s_hi.x, kq, b), hdot(s_hi.y, kq, b), hdot(s_hi.z, kq, b), hdot(s_hi.w, kq, b)); }
      }
    }
  }
  let c = row_sum2(lo, hi, lanes);
  if (lanes.p % TPR == 0u && tile.n < params.dim) { store_rows(tile, c[0], c[1], params.dim, false); }
}
