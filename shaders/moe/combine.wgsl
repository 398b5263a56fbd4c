// moe.combine: un-permute and weight the expert outputs back into token order, plus the shared experts:
//   out[t] = shared[t] + sum_k weights[t,k] * y[slot_of[t,k]]      (slot -1: dropped by capacity, adds 0)
// A gather through the inverse map, not a scatter-add: each output element is written by one thread, in a
// fixed order, with no atomics (float atomics do not exist in WGSL and would make the sum order random).
// One thread per 4 output columns (vec4 loads and stores), in small workgroups (WG from the host) so even a
// decode step's few thousand columns spread over many SMs.

// Generated from src/kernels/moe/combine.ts: the bindings (params, y [rows, dim], weights [N, topk],
// slot_of [N, topk], shared_out [N, dim] (read only when has_shared), out [N, dim]; the tensors as vec4
// columns) and the constant WG (threads per workgroup).

#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn combine_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i >= params.N * params.dim4) { return; }
  let t = i / params.dim4;
  let q = i - t * params.dim4; // the vec4 column: a multiply-subtract instead of a second integer division
  var acc = vec4f(0.0);
  if (params.has_shared == 1u) { acc = shared_out[i]; }
  for (var k = 0u; k < params.topk; k++) {
    let s = slot_of[t * params.topk + k];
    if (s >= 0) { acc += weights[t * params.topk + k] * y[u32(s) * params.dim4 + q]; }
  }
  out[i] = acc;
}
