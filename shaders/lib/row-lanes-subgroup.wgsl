// Logical lanes for row_sum (shaders/lib/row-sum.wgsl) on a device with subgroups (needs `enable subgroups`).
// Each subgroup takes a contiguous block of logical lanes from a workgroup counter, so whatever the
// subgroup size (4..128) and however the hardware groups invocations, a row's lanes are whole subgroups
// (size <= TPR) or an aligned part of one (size > TPR), and an xor butterfly sums them with no memory.
// Call first thing in the entry point, in uniform control flow.

var<workgroup> lanes_taken: atomic<u32>;

// A row's lanes leave one partial sum per subgroup (4 lanes at least): WG / 4 slots.
override ROW_SLOTS: u32 = WG / 4u;

fn lane_setup(lid: u32) -> Lanes {
  let lane = subgroupExclusiveAdd(1u); // = subgroup_invocation_id while every invocation is active
  let size = subgroupAdd(1u);
  var first = 0u;
  if (lane == 0u) { first = atomicAdd(&lanes_taken, size); }
  return Lanes(subgroupMax(first) + lane, min(size, TPR));
}

// Sum over `width` aligned lanes. The loop bound is a constant so the shuffles stay in uniform control flow;
// a shuffle past the subgroup's size (m >= width) gives an indeterminate value that is not used.
fn partial_sum(v: vec4f, width: u32) -> vec4f {
  var s = v;
  for (var m = 1u; m < TPR; m <<= 1u) {
    let o = subgroupShuffleXor(s, m);
    if (m < width) { s += o; }
  }
  return s;
}
