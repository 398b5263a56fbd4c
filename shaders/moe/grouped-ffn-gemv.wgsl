// moe.grouped_ffn at decode, the up pass: a coalesced GEMV per expert. At decode an expert gets a handful of
// token rows, so the expert weights are streamed once and nothing is worth staging in workgroup memory; what
// matters is that every load is coalesced, that enough workgroups stream at once, and (on CPU emulation,
// where a barrier parks every invocation and every load with a computed index is a per-lane gather of ~20
// instructions) that the hot loop meets no barrier and loads as few values per FMA as it can.
//   Workgroup (tile t in x, weight-row block b in y): the tile's <= MT token rows of one expert (found by
//   binary search in the tile table) against WG / 4 * QR consecutive weight rows. A quad (4 consecutive
//   invocations, WebGPU's smallest subgroup) owns QR = 4 consecutive weight rows of w1 and of w3, packed as
//   the components of its vec4 accumulators (QR = 1 where a launch of such quads would be too few
//   workgroups to fill a GPU: one tile of a deep matrix), and its lanes split K: lane j takes vec4s j,
//   j + 4, ..., so per row the quad reads 64 contiguous bytes a step (whole memory sectors). Each x vec4 a
//   lane loads serves 2 x QR weight rows and each weight vec4 the tile's token rows, all in registers
//   (per step 2 QR weight vec4s and one x vec4 per token row: 8 + 8 loads for 256 FMAs at 8 rows, 8 + 1 for
//   32 at one; one row per quad loaded 2 + 8 for 64 and 2 + 1 for 8). lane_sum then adds the 4 lanes'
//   partial dots: a two-step xor butterfly with no workgroup memory (the workgroup-memory lane_sum serves
//   devices without subgroups).
//   up_gemv    h[p, n] = silu(x[tok p] . w1[e, n]) * (x[tok p] . w3[e, n]), the SwiGLU gate fused.
// The down pass is grouped-ffn-gemv-down.wgsl (it reads h, which this pass writes). Weights are stored as
// `elem` (f32, or f16 where the device has shader-f16); the math is f32.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, x [tokens, dim] as vec4,
// sorted_tokens [rows], tiles, w1 / w3 [E, inter, dim] as vec4<elem>, h [rows, inter] as scalars: with
// QR = 1 the 4 columns of a vec4 come from 4 quads) and the constants WG (threads), QR (1 or 4:
// ffnGemvShapes), L = 4 (lanes per quad, for lane_sum), MT (token rows per tile, 8: one vec4 accumulator
// per row and matrix) and BM = MT (find_tile's tile height).

fn silu(z: vec4f) -> vec4f {
  return z / (1.0 + exp(-z));
}

#include "lib/quad-row-dots.wgsl"

/** x offsets (in vec4) of tile rows r0 .. r0 + 3; rows past the tile repeat its last one (computed, never stored). */
fn x_rows(info: TileInfo, rows: u32, r0: u32, k4: u32) -> vec4u {
  var s: vec4u;
  for (var j = 0u; j < 4u; j++) {
    let p = info.row0 + min(r0 + j, rows - 1u);
    s[j] = select(p, u32(sorted_tokens[p]), params.gather == 1u) * k4;
  }
  return s;
}

/** The QR columns n0 .. of row p of h (component c is column n0 + c; inter is a multiple of 4). */
fn store_cols(p: u32, n0: u32, v: vec4f) {
  let i = p * params.inter + n0;
  h[i] = v.x;
  if (QR > 1u) { h[i + 1u] = v.y; h[i + 2u] = v.z; h[i + 3u] = v.w; }
}

/** silu(g) * u, column by column (a token quad's rows). */
fn gated(g: mat4x4f, u: mat4x4f) -> mat4x4f {
  return mat4x4f(silu(g[0]) * u[0], silu(g[1]) * u[1], silu(g[2]) * u[2], silu(g[3]) * u[3]);
}

@compute @workgroup_size(WG)
fn up_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let info = find_tile(wg.x);
  let rows = min(info.row_end - info.row0, MT);
  let k4 = params.dim / 4u;
  let n0 = (wg.y * (WG / L) + lid / L) * QR; // the quad's weight rows n0 .. n0 + QR - 1
  // Rows past inter load the last row (finite, never stored), so the loop has no branch per row.
  let o = (vec4u(info.expert * params.inter) + min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.inter - 1u))) * k4;
  let s_lo = x_rows(info, rows, 0u, k4);
  let s_hi = x_rows(info, rows, 4u, k4);
  // y = silu(x . w1) * (x . w3) per token row: g_* / u_* the dots with w1 / w3 of token quads lo (rows 0-3)
  // and hi (4-7), column r, component c for weight row n0 + c. The branches on the tile's row count are
  // uniform per workgroup (lane_sum, whose workgroup-memory variant has barriers, runs inside them).
  var y_lo = mat4x4f(); var y_hi = mat4x4f();
  // One token row (decode): a loop of its own. The 8-row loop's accumulators and branches, even skipped,
  // cost this one half its speed on CPU emulation.
  if (rows == 1u) {
    var g0 = vec4f(0.0); var u0 = vec4f(0.0);
    for (var kq = lid % L; kq < k4; kq += L) {
      let xv = x[s_lo.x + kq];
      if (QR == 1u) {
        g0.x += dot(xv, vec4f(w1[o.x + kq]));
        u0.x += dot(xv, vec4f(w3[o.x + kq]));
      } else {
        g0 += dot_rows(xv, vec4f(w1[o.x + kq]), vec4f(w1[o.y + kq]), vec4f(w1[o.z + kq]), vec4f(w1[o.w + kq]));
        u0 += dot_rows(xv, vec4f(w3[o.x + kq]), vec4f(w3[o.y + kq]), vec4f(w3[o.z + kq]), vec4f(w3[o.w + kq]));
      }
    }
    y_lo[0] = silu(lane_sum(g0, lid)) * lane_sum(u0, lid);
  } else {
    // Weight rows 1-3 stay zero with QR = 1 (a constant branch). Rows past the tile repeat its last one.
    var wa = mat4x4f(); var wb = mat4x4f();
    var g_lo = mat4x4f(); var g_hi = mat4x4f(); var u_lo = mat4x4f(); var u_hi = mat4x4f();
    for (var kq = lid % L; kq < k4; kq += L) {
      wa[0] = vec4f(w1[o.x + kq]); wb[0] = vec4f(w3[o.x + kq]);
      if (QR > 1u) {
        wa[1] = vec4f(w1[o.y + kq]); wa[2] = vec4f(w1[o.z + kq]); wa[3] = vec4f(w1[o.w + kq]);
        wb[1] = vec4f(w3[o.y + kq]); wb[2] = vec4f(w3[o.z + kq]); wb[3] = vec4f(w3[o.w + kq]);
      }
      let xl = mat4x4f(x[s_lo.x + kq], x[s_lo.y + kq], x[s_lo.z + kq], x[s_lo.w + kq]);
      g_lo += quad_dots(xl, wa); u_lo += quad_dots(xl, wb);
      if (rows > 4u) {
        let xh = mat4x4f(x[s_hi.x + kq], x[s_hi.y + kq], x[s_hi.z + kq], x[s_hi.w + kq]);
        g_hi += quad_dots(xh, wa); u_hi += quad_dots(xh, wb);
      }
    }
    y_lo = gated(lane_sum_cols(g_lo, lid), lane_sum_cols(u_lo, lid));
    if (rows > 4u) { y_hi = gated(lane_sum_cols(g_hi, lid), lane_sum_cols(u_hi, lid)); }
  }
  if (lid % L != 0u || n0 >= params.inter) { return; }
  for (var r = 0u; r < rows; r++) { store_cols(info.row0 + r, n0, tile_row(y_lo, y_hi, r)); }
}
