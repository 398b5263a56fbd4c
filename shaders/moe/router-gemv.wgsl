// moe.router logits at decode (few tokens): a coalesced GEMV, logits = x W_g^T. The tiled logits_main of
// shaders/moe/router.wgsl launches ceil(E / 64) x ceil(N / BM) workgroups, 4 for 256 experts, which leaves
// a GPU idle; here a workgroup takes 256 / TPR expert rows x the MT tokens of a tile x one slice of dim
// (wg = (token tile, expert block, slice)), so the gate's rows are streamed by hundreds of workgroups. Each
// expert row gets TPR lanes walking its slice in vec4 steps (TPR * 16 contiguous bytes per step); the
// lanes meet through row_sum. Slices write separate partial logits, [splits, N, E], which select_main adds
// up in a fixed order.

// Generated from src/kernels/moe/router.ts: the bindings (params, x [N, dim] and gate_weight [E, dim] as vec4,
// logits [splits, N, E]) and the constants WG (threads, 64 or 256: moe-config.ts gemvShape), TPR (logical
// lanes per expert row, a power of two dividing WG) and MT (tokens per tile, accumulated as two vec4:
// tokens 0-3, 4-7).

// x offsets (in vec4) of tokens t0 + j, j < 4; tokens past the tile repeat its last one (computed, not stored).
fn x_rows(t0: u32, last: u32, k4: u32) -> vec4u {
  return min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
}

fn dot4(s: vec4u, kq: u32, w: vec4f) -> vec4f {
  return vec4f(dot(x[s.x + kq], w), dot(x[s.y + kq], w), dot(x[s.z + kq], w), dot(x[s.w + kq], w));
}

@compute @workgroup_size(WG)
fn logits_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let t0 = wg.x * MT;
  let rows = min(params.N - t0, MT);
  let e = wg.y * (WG / TPR) + lanes.p / TPR;
  let k4 = params.dim / 4u;
  let per = (k4 + params.splits - 1u) / params.splits;
  let k_end = min(k4, (wg.z + 1u) * per);
  let s_lo = x_rows(t0, t0 + rows - 1u, k4);
  let s_hi = x_rows(t0 + 4u, t0 + rows - 1u, k4);
  var lo = vec4f(0.0);
  var hi = vec4f(0.0);
  if (e < params.E) {
    // Branches on the tile's token count are uniform per workgroup: a single token does one dot.
    for (var kq = wg.z * per + lanes.p % TPR; kq < k_end; kq += TPR) {
      let w = gate_weight[e * k4 + kq];
      if (rows == 1u) {
        lo.x += dot(x[s_lo.x + kq], w);
      } else {
        lo += dot4(s_lo, kq, w);
        if (rows > 4u) { hi += dot4(s_hi, kq, w); }
      }
    }
  }
  let c = row_sum2(lo, hi, lanes);
  if (lanes.p % TPR == 0u && e < params.E) {
    for (var r = 0u; r < rows; r++) { logits[(wg.z * params.N + t0 + r) * params.E + e] = select(c[1][r % 4u], c[0][r % 4u], r < 4u); }
  }
}
