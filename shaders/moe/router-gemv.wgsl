// moe.router logits at decode (few tokens): a coalesced GEMV, logits = x W_g^T. The tiled logits_main of
// shaders/moe/router.wgsl launches ceil(E / 64) x ceil(N / BM) workgroups, 4 for 256 experts, which leaves
// a GPU idle; here a workgroup takes WG / L expert rows x the MT tokens of a tile x one slice of dim
// (wg = (token tile, expert block, slice)), so the gate's rows are streamed by enough workgroups. Each
// expert row gets L = 4 consecutive invocations walking its slice in vec4 steps (64 contiguous bytes per
// step); L is WebGPU's smallest subgroup size, so lane_sum needs no barrier where the device has subgroups.
// Slices write separate partial logits, [splits, N, E], which select_main adds up in a fixed order.

// Generated from src/kernels/moe/router.ts: the bindings (params, x [N, dim] and gate_weight [E, dim] as vec4,
// logits [splits, N, E]) and the constants WG (threads), L (= 4, lanes per expert row) and MT (tokens per
// tile, accumulated as two vec4: tokens 0-3, 4-7).

// x offsets (in vec4) of tokens t0 + j, j < 4; tokens past the tile repeat its last one (computed, not stored).
fn x_rows(t0: u32, last: u32, k4: u32) -> vec4u {
  return min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * k4;
}

fn dot4(s: vec4u, kq: u32, w: vec4f) -> vec4f {
  return vec4f(dot(x[s.x + kq], w), dot(x[s.y + kq], w), dot(x[s.z + kq], w), dot(x[s.w + kq], w));
}

@compute @workgroup_size(WG)
fn logits_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t0 = wg.x * MT;
  let rows = min(params.N - t0, MT);
  let e = wg.y * (WG / L) + lid / L;
  let k4 = params.dim / 4u;
  let per = (k4 + params.splits - 1u) / params.splits;
  let k_end = min(k4, (wg.z + 1u) * per);
  var lo = vec4f(0.0);
  var hi = vec4f(0.0);
  if (e < params.E) {
    let s_lo = x_rows(t0, t0 + rows - 1u, k4);
    let s_hi = x_rows(t0 + 4u, t0 + rows - 1u, k4);
    // Branches on the tile's token count are uniform per workgroup: a single token does one dot.
    if (rows == 1u) {
      var acc = vec4f(0.0);
      for (var kq = wg.z * per + lid % L; kq < k_end; kq += L) { acc += x[s_lo.x + kq] * gate_weight[e * k4 + kq]; }
      lo.x = acc.x + acc.y + acc.z + acc.w;
    } else {
      for (var kq = wg.z * per + lid % L; kq < k_end; kq += L) {
        let w = gate_weight[e * k4 + kq];
        lo += dot4(s_lo, kq, w);
        if (rows > 4u) { hi += dot4(s_hi, kq, w); }
      }
    }
  }
  let c0 = lane_sum(lo, lid);
  let c1 = lane_sum(hi, lid);
  if (lid % L != 0u || e >= params.E) { return; }
  for (var r = 0u; r < rows; r++) { logits[(wg.z * params.N + t0 + r) * params.E + e] = select(c1[r % 4u], c0[r % 4u], r < 4u); }
}
