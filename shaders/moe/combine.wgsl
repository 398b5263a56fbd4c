// moe.combine: un-permute and weight the expert outputs back into token order, plus the shared experts:
//   out[t] = shared[t] + sum_k weights[t,k] * y[slot_of[t,k]]      (slot -1: dropped by capacity, adds 0)
// A gather through the inverse map, not a scatter-add: each output element is written by one thread, in a
// fixed order, with no atomics (float atomics do not exist in WGSL and would make the sum order random).
// One thread per 4 output columns (vec4 loads and stores), in small workgroups (WG from the host) so even a
// decode step's few thousand columns spread over many SMs.

@group(0) @binding(0) var<uniform> params: CombineParams;
@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;       // [rows, dim]
@group(0) @binding(2) var<storage, read> weights: array<f32>;       // [N, topk]
@group(0) @binding(3) var<storage, read> slot_of: array<i32>;       // [N, topk]
@group(0) @binding(4) var<storage, read> shared_out: array<vec4<f32>>; // [N, dim] when has_shared
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;  // [N, dim]

override WG: u32;

@compute @workgroup_size(WG)
fn combine_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid;
  if (i >= params.N * params.dim4) { return; }
  let t = i / params.dim4;
  let q = i % params.dim4;
  var acc = vec4f(0.0);
  if (params.has_shared == 1u) { acc = shared_out[i]; }
  for (var k = 0u; k < params.topk; k++) {
    let s = slot_of[t * params.topk + k];
    if (s >= 0) { acc += weights[t * params.topk + k] * y[u32(s) * params.dim4 + q]; }
  }
  out[i] = acc;
}
