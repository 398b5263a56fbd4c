// moe.router logits at decode (few tokens): a coalesced GEMV, logits = x W_g^T. The tiled logits_main of
// shaders/moe/router.wgsl launches ceil(E / 64) x ceil(N / BM) workgroups, 4 for 256 experts, which leaves
// a GPU idle; here a workgroup takes WG / 4 quads x QR expert rows x the MT tokens of a tile x one slice of
// dim (wg = (token tile, expert block, slice)), so the gate's rows are streamed by enough workgroups.
// A quad (4 consecutive invocations: WebGPU's smallest subgroup, so lane_sum needs no barrier where the
// device has subgroups) owns QR = 8 consecutive expert rows, the components of its two vec4 accumulators
// per token (rows e0 .. e0 + 3 and e0 + 4 .. e0 + 7), and its lanes split the slice (lane j takes vec4s j,
// j + 4, ...: per row the quad reads 64 contiguous bytes a step). Every x vec4 a lane loads serves the 8
// rows and every gate vec4 the tile's tokens, all in registers: on CPU emulation each load with a computed
// index is a per-lane gather (~20 instructions), so loads per FMA, not bytes, bound this loop (1 x + 8
// gate vec4s per 32 FMAs at one token, 8 + 8 per 256 at eight; 4 rows per quad were 1.25x slower at eight
// tokens, one row per quad loaded 1 + 1 per 4 and 8 + 1 per 32).
// Slices write separate partial logits, [splits, N, E], which select_main adds up in a fixed order.

// Generated from src/kernels/moe/router.ts: the bindings (params, x [N, dim] and gate_weight [E, dim] as vec4,
// logits [splits, N, E]) and the constants WG (threads), QR (= 8, expert rows per quad), L (= 4, lanes per
// quad, for lane_sum) and MT (tokens per tile, 8).

#include "lib/quad-row-dots.wgsl"

/** 4 of the quad's partial logits of token t, rows e0 .. e0 + 3 (rows past E are never stored). */
fn store_rows(split: u32, t: u32, e0: u32, v: vec4f) {
  let o = (split * params.N + t) * params.E + e0;
  logits[o] = v.x;
  if (e0 + 1u < params.E) { logits[o + 1u] = v.y; }
  if (e0 + 2u < params.E) { logits[o + 2u] = v.z; }
  if (e0 + 3u < params.E) { logits[o + 3u] = v.w; }
}

@compute @workgroup_size(WG)
fn logits_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t0 = wg.x * MT;
  let rows = min(params.N - t0, MT);
  let e0 = (wg.y * (WG / L) + lid / L) * QR; // the quad's expert rows e0 .. e0 + 7
  let k4 = params.dim / 4u;
  let per = (k4 + params.splits - 1u) / params.splits;
  let k_end = min(k4, (wg.z + 1u) * per);
  // Rows past E load the last row and tokens past the tile the last token (finite, never stored), so the
  // loop has no branch per row or token; the branches on the token count are uniform per workgroup.
  let o = min(vec4u(e0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.E - 1u)) * k4;
  let p = min(vec4u(e0) + vec4u(4u, 5u, 6u, 7u), vec4u(params.E - 1u)) * k4;
  let last = t0 + rows - 1u;
  let s_lo = min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
  let s_hi = min(vec4u(t0) + vec4u(4u, 5u, 6u, 7u), vec4u(last)) * k4;
  // Token quads lo (tokens 0-3) and hi (4-7), column t: a_* against expert rows e0 .. e0 + 3, b_* against
  // e0 + 4 .. e0 + 7, summed over the quad's lanes (lane_sum in uniform control flow: the branches on the
  // token count are uniform, and the workgroup-memory variant has barriers). One token (decode) takes a loop
  // of its own that touches column 0 only.
  var a_lo = mat4x4f(); var a_hi = mat4x4f();
  var b_lo = mat4x4f(); var b_hi = mat4x4f();
  if (rows == 1u) {
    var a0 = vec4f(0.0); var b0 = vec4f(0.0);
    for (var kq = wg.z * per + lid % L; kq < k_end; kq += L) {
      let xv = x[s_lo.x + kq];
      a0 += dot_rows(xv, gate_weight[o.x + kq], gate_weight[o.y + kq], gate_weight[o.z + kq], gate_weight[o.w + kq]);
      b0 += dot_rows(xv, gate_weight[p.x + kq], gate_weight[p.y + kq], gate_weight[p.z + kq], gate_weight[p.w + kq]);
    }
    a_lo[0] = lane_sum(a0, lid); b_lo[0] = lane_sum(b0, lid);
  } else {
    for (var kq = wg.z * per + lid % L; kq < k_end; kq += L) {
      let w = mat4x4f(gate_weight[o.x + kq], gate_weight[o.y + kq], gate_weight[o.z + kq], gate_weight[o.w + kq]);
      let v = mat4x4f(gate_weight[p.x + kq], gate_weight[p.y + kq], gate_weight[p.z + kq], gate_weight[p.w + kq]);
      let xl = mat4x4f(x[s_lo.x + kq], x[s_lo.y + kq], x[s_lo.z + kq], x[s_lo.w + kq]);
      a_lo += quad_dots(xl, w); b_lo += quad_dots(xl, v);
      if (rows > 4u) {
        let xh = mat4x4f(x[s_hi.x + kq], x[s_hi.y + kq], x[s_hi.z + kq], x[s_hi.w + kq]);
        a_hi += quad_dots(xh, w); b_hi += quad_dots(xh, v);
      }
    }
    a_lo = lane_sum_cols(a_lo, lid); b_lo = lane_sum_cols(b_lo, lid);
    if (rows > 4u) { a_hi = lane_sum_cols(a_hi, lid); b_hi = lane_sum_cols(b_hi, lid); }
  }
  if (lid % L != 0u || e0 >= params.E) { return; }
  for (var r = 0u; r < rows; r++) {
    store_rows(wg.z, t0 + r, e0, tile_row(a_lo, a_hi, r));
    if (e0 + 4u < params.E) { store_rows(wg.z, t0 + r, e0 + 4u, tile_row(b_lo, b_hi, r)); }
  }
}
