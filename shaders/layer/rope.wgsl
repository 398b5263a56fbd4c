// layer.rope: rotary position embedding on strided head views, out of place, one thread per output value.
// Row r (a token) has `heads` vectors; each writes its first `width` dims, the first `rot` of them rotated by
// the angles of position positions[pos_off + r], the rest copied (the indexer's q/k rotate only their first
// qk_rope_head_dim dims). Pair i of the rotated dims turns by pos * theta^(-2i/rot):
//   HALF == 0: pairs (2i, 2i+1)        (MLA's q_pe / k_pe: torch.view_as_complex on adjacent values)
//   HALF == 1: pairs (i, i + rot/2)    (the indexer's rotate_half layout, interleaved=False)
// cos/sin come from a float64 table on the host ([positions, rot/2] of (cos, sin), as precompute_freqs_cis
// does once per model): pos * freq in f32 on the GPU would lose the angle at long positions.
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn rope_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = linear_group(wg, nwg) * WG + lid;
  let per_row = params.heads * params.width;
  if (e >= params.rows * per_row) { return; }
  let r = e / per_row;
  let h = (e % per_row) / params.width;
  let j = e % params.width;
  let src = params.x_off + r * params.x_ld + h * params.x_hs;
  let dst = params.y_off + r * params.y_ld + h * params.y_hs + j;
  if (j >= params.rot) {
    y[dst] = x[src + j];
    return;
  }
  let half = params.rot / 2u;
  var i: u32;   // pair index
  var ia: u32;  // first value of the pair
  var ib: u32;  // second value
  if (HALF == 1u) { i = j % half; ia = i; ib = i + half; } else { i = j / 2u; ia = 2u * i; ib = 2u * i + 1u; }
  let cs = cos_sin[u32(positions[params.pos_off + r]) * half + i];
  let a = f32(x[src + ia]);
  let b = f32(x[src + ib]);
  if (j == ia) { y[dst] = elem(a * cs.x - b * cs.y); } else { y[dst] = elem(a * cs.y + b * cs.x); }
}
