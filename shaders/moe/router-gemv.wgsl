// moe.router logits at decode (few tokens): a coalesced GEMV, logits = x W_g^T. The tiled logits_main of
// shaders/moe/router.wgsl launches ceil(E / 64) x ceil(N / BM) workgroups, 4 for 256 experts, which leaves
// a GPU idle; here a workgroup takes RPW expert rows x the MT tokens of a tile x one slice of dim
// (wg = (token tile, expert block, slice)), so the gate's rows are streamed by hundreds of workgroups. Each
// expert row gets TPR lanes walking its slice in vec4 steps (TPR * 16 contiguous bytes per step); the
// lanes meet through row_sum. Slices write separate partial logits, [splits, N, E], which select_main adds
// up in a fixed order.

@group(0) @binding(0) var<uniform> params: RouterParams;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;           // [N, dim]
@group(0) @binding(2) var<storage, read> gate_weight: array<vec4<f32>>; // [E, dim]
@group(0) @binding(3) var<storage, read_write> logits: array<f32>;      // [splits, N, E]

const WG = 256u;
const TPR = 64u;      // logical lanes per expert row
const RPW = WG / TPR; // expert rows per workgroup
const MT = 8u;        // tokens per tile

@compute @workgroup_size(WG)
fn logits_gemv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let t0 = wg.x * MT;
  let rows = min(params.N - t0, MT);
  let e = wg.y * RPW + lanes.p / TPR;
  let k4 = params.dim / 4u;
  let per = (k4 + params.splits - 1u) / params.splits;
  let k_end = min(k4, (wg.z + 1u) * per);
  var c: array<f32, MT>;
  if (e < params.E) {
    for (var kq = wg.z * per + lanes.p % TPR; kq < k_end; kq += TPR) {
      let w = gate_weight[e * k4 + kq];
      for (var r = 0u; r < MT; r++) {
        if (r < rows) { c[r] += dot(x[(t0 + r) * k4 + kq], w); }
      }
    }
  }
  let cs = rows_sum(c, lanes);
  if (lanes.p % TPR == 0u && e < params.E) {
    for (var r = 0u; r < rows; r++) { logits[(wg.z * params.N + t0 + r) * params.E + e] = cs[r]; }
  }
}
