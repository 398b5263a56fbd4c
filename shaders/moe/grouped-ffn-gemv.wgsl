// moe.grouped_ffn at decode, the up pass: a coalesced GEMV per expert. At decode an expert gets a handful of
// token rows, so the expert weights are streamed once and nothing is worth staging in workgroup memory; what
// matters is that every load is coalesced, that enough workgroups stream at once, and (on CPU emulation,
// where a barrier parks every invocation) that the hot loop meets no barrier.
//   Workgroup (tile t in x, weight-row block b in y): the tile's <= MT token rows of one expert (found by
//   binary search in the tile table) against WG / L consecutive weight rows. Each weight row gets L = 4
//   consecutive invocations that walk its K in vec4 steps, so a row's lanes read 64 contiguous bytes per
//   step (whole memory sectors), and every weight vec4 is used for all the tile's tokens while it is in
//   registers. L = 4 is WebGPU's smallest subgroup size, so lane_sum is a two-step xor butterfly with no
//   workgroup memory (the workgroup-memory lane_sum serves devices without subgroups).
//   up_gemv    h[p, n] = silu(x[tok p] . w1[e, n]) * (x[tok p] . w3[e, n]), the SwiGLU gate fused.
// The down pass is grouped-ffn-gemv-down.wgsl (it reads h as vec4, so it needs other bindings). Weights are
// stored as `elem` (f32, or f16 where the device has shader-f16); the math is f32.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, x [tokens, dim] as vec4,
// sorted_tokens [rows], tiles, w1 / w3 [E, inter, dim] as vec4<elem>, h [rows, inter] as scalars: lanes
// of one vec4 are written by different invocations) and the constants WG (threads: ffnGemvShapes),
// L (= 4, lanes per weight row), MT (token rows per tile, accumulated as two vec4: rows 0-3, rows 4-7)
// and BM = MT (find_tile's tile height).

struct GemvTile {
  info: TileInfo,
  rows: u32, // token rows of the tile (1..MT)
  n: u32,    // this invocation's weight row
}

fn gemv_tile(wg: vec3u, lid: u32) -> GemvTile {
  let info = find_tile(wg.x);
  return GemvTile(info, min(info.row_end - info.row0, MT), wg.y * (WG / L) + lid / L);
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

@compute @workgroup_size(WG)
fn up_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile = gemv_tile(wg, lid);
  let k4 = params.dim / 4u;
  var g_lo = vec4f(0.0); var g_hi = vec4f(0.0); // x . w1[n], rows 0-3 and 4-7
  var u_lo = vec4f(0.0); var u_hi = vec4f(0.0); // x . w3[n]
  if (tile.n < params.inter) {
    let o = (tile.info.expert * params.inter + tile.n) * k4;
    let s_lo = x_rows(tile, 0u, k4);
    // Branches on the tile's row count are uniform per workgroup: decode's single rows do one dot each.
    if (tile.rows == 1u) {
      var g = vec4f(0.0);
      var u = vec4f(0.0);
      for (var kq = lid % L; kq < k4; kq += L) {
        let xv = x[s_lo.x + kq];
        g += xv * vec4f(w1[o + kq]);
        u += xv * vec4f(w3[o + kq]);
      }
      g_lo.x = g.x + g.y + g.z + g.w;
      u_lo.x = u.x + u.y + u.z + u.w;
    } else {
      let s_hi = x_rows(tile, 4u, k4);
      for (var kq = lid % L; kq < k4; kq += L) {
        let a = vec4f(w1[o + kq]);
        let b = vec4f(w3[o + kq]);
        g_lo += dot4(s_lo, kq, a);
        u_lo += dot4(s_lo, kq, b);
        if (tile.rows > 4u) {
          g_hi += dot4(s_hi, kq, a);
          u_hi += dot4(s_hi, kq, b);
        }
      }
    }
  }
  let g0 = lane_sum(g_lo, lid);
  let g1 = lane_sum(g_hi, lid);
  let u0 = lane_sum(u_lo, lid);
  let u1 = lane_sum(u_hi, lid);
  if (lid % L != 0u || tile.n >= params.inter) { return; }
  let lo = silu(g0) * u0;
  let hi = silu(g1) * u1;
  for (var r = 0u; r < tile.rows; r++) {
    h[(tile.info.row0 + r) * params.inter + tile.n] = select(hi[r % 4u], lo[r % 4u], r < 4u);
  }
}
