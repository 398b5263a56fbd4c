// slice_sum for lib/latent-split.wgsl, subgroup version (needs `enable subgroups`): the KS slices of a score
// dot product are adjacent invocations, KS a multiple of 4, and 4 aligned consecutive invocations share a
// subgroup (4 is the smallest subgroup size WebGPU allows), so an xor butterfly over 4 lanes leaves each group's
// sum in its first lane: a quarter of the partial scores go through workgroup memory. Uniform control flow.
const SLICE_LANES: u32 = 4u;

fn lanes4(x: vec4f) -> vec4f {
  let y = x + subgroupShuffleXor(x, 1u);
  return y + subgroupShuffleXor(y, 2u);
}

fn slice_sum(s: Scores8x4) -> Scores8x4 {
  return Scores8x4(lanes4(s.a0), lanes4(s.a1), lanes4(s.a2), lanes4(s.a3), lanes4(s.b0), lanes4(s.b1), lanes4(s.b2), lanes4(s.b3));
}
