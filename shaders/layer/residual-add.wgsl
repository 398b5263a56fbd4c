// layer.residual_add: y = a + b over n values, each operand at its own element offset (the decoder layer adds
// the attention output to the last T rows of x, which start at (S - T) * dim). One thread per value.
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn add_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i < params.n) { y[params.y_off + i] = elem(f32(a[params.a_off + i]) + f32(b[params.b_off + i])); }
}
