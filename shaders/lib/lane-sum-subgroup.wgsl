// lane_sum, subgroup version (needs `enable subgroups`): a row's (or key's) L lanes are L consecutive
// invocations, L a power of two <= 4, the smallest subgroup size WebGPU allows, so they always share a
// subgroup and an xor butterfly leaves the full sum in every lane, with no workgroup memory and no barrier.
// The includer declares L. Call in uniform control flow. `tid` is unused here; the workgroup-memory version
// (lane-sum-workgroup.wgsl, same signature) needs it. The host picks one of the two (laneSumSource in src/kernels/attention/flash-lanes.ts).
fn lane_sum(x: vec4f, tid: u32) -> vec4f {
  var s = x;
  for (var m = 1u; m < L; m <<= 1u) {
    s += subgroupShuffleXor(s, m);
  }
  return s;
}
