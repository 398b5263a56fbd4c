// moe.router logits at decode (few tokens): a coalesced GEMV, logits = x W_g^T. The tiled logits_main of
// shaders/moe/router.wgsl launches ceil(E / 64) x ceil(N / BM) workgroups, 4 for 256 experts, which leaves
// a GPU idle; here a workgroup takes WG / 4 quads x QR expert rows x the MT tokens of a tile x one slice of
// dim (wg = (token tile, expert block, slice)), so the gate's rows are streamed by enough workgroups.
// A quad (4 consecutive invocations: WebGPU's smallest subgroup, so lane_sum needs no barrier where the
// device has subgroups) owns QR = 4 consecutive expert rows, the components of its vec4 accumulators, and
// its lanes split the slice (lane j takes vec4s j, j + 4, ...: per row the quad reads 64 contiguous bytes a
// step). Every x vec4 a lane loads serves the QR rows and every gate vec4 the tile's tokens, all in
// registers: on CPU emulation each load with a computed index is a per-lane gather (~20 instructions), so
// loads per FMA, not bytes, bound this loop (1 x + 4 gate vec4s per 16 FMAs at one token, 8 + 4 per 128
// at eight; the one-row-per-lane layout this replaces loaded 1 + 1 per 4 and 8 + 1 per 32).
// Slices write separate partial logits, [splits, N, E], which select_main adds up in a fixed order.

// Generated from src/kernels/moe/router.ts: the bindings (params, x [N, dim] and gate_weight [E, dim] as vec4,
// logits [splits, N, E]) and the constants WG (threads), QR (= 4, expert rows per quad), L (= 4, lanes per
// quad, for lane_sum) and MT (tokens per tile, 8: accumulated one vec4 per token).

#include "lib/quad-row-dots.wgsl"

/** The quad's 4 partial logits of token t (rows past E are never stored). */
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
  let e0 = (wg.y * (WG / L) + lid / L) * QR; // the quad's expert rows e0 .. e0 + 3
  let k4 = params.dim / 4u;
  let per = (k4 + params.splits - 1u) / params.splits;
  let k_end = min(k4, (wg.z + 1u) * per);
  // Rows past E load the last row and tokens past the tile the last token (finite, never stored), so the
  // loop has no branch per row or token; the branch on the token count is uniform per workgroup.
  let o = min(vec4u(e0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.E - 1u)) * k4;
  let last = t0 + rows - 1u;
  let s_lo = min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
  let s_hi = min(vec4u(t0) + vec4u(4u, 5u, 6u, 7u), vec4u(last)) * k4;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  // One token (decode): a loop of its own; the 8-token loop's accumulators and branches, even skipped,
  // cost it half its speed on CPU emulation.
  if (rows == 1u) {
    for (var kq = wg.z * per + lid % L; kq < k_end; kq += L) {
      a0 += dot_rows(x[s_lo.x + kq], gate_weight[o.x + kq], gate_weight[o.y + kq], gate_weight[o.z + kq], gate_weight[o.w + kq]);
    }
  } else {
    for (var kq = wg.z * per + lid % L; kq < k_end; kq += L) {
      let w0 = gate_weight[o.x + kq]; let w1 = gate_weight[o.y + kq]; let w2 = gate_weight[o.z + kq]; let w3 = gate_weight[o.w + kq];
      a0 += dot_rows(x[s_lo.x + kq], w0, w1, w2, w3);
      if (rows > 1u) {
        a1 += dot_rows(x[s_lo.y + kq], w0, w1, w2, w3);
        a2 += dot_rows(x[s_lo.z + kq], w0, w1, w2, w3);
        a3 += dot_rows(x[s_lo.w + kq], w0, w1, w2, w3);
      }
      if (rows > 4u) {
        a4 += dot_rows(x[s_hi.x + kq], w0, w1, w2, w3);
        a5 += dot_rows(x[s_hi.y + kq], w0, w1, w2, w3);
        a6 += dot_rows(x[s_hi.z + kq], w0, w1, w2, w3);
        a7 += dot_rows(x[s_hi.w + kq], w0, w1, w2, w3);
      }
    }
  }
  // lane_sum in uniform control flow (the workgroup-memory variant has barriers); a tile's missing tokens
  // add zeros and are not stored.
  let c0 = lane_sum(a0, lid); let c1 = lane_sum(a1, lid); let c2 = lane_sum(a2, lid); let c3 = lane_sum(a3, lid);
  var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  if (rows > 4u) { c4 = lane_sum(a4, lid); c5 = lane_sum(a5, lid); c6 = lane_sum(a6, lid); c7 = lane_sum(a7, lid); }
  if (lid % L != 0u || e0 >= params.E) { return; }
  let c = array<vec4f, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
  for (var r = 0u; r < rows; r++) { store_rows(wg.z, t0 + r, e0, c[r]); }
}
