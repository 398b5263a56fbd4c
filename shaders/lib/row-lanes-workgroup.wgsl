// Logical lanes for row_sum (shaders/lib/row-sum.wgsl) without subgroups: lane = invocation index, and every
// lane's value goes to workgroup memory, where the row's first lane adds them up.

// Every lane leaves its own partial sum: WG slots.
override ROW_SLOTS: u32 = WG;

fn lane_setup(lid: u32) -> Lanes {
  return Lanes(lid, 1u);
}

fn partial_sum(v: vec4f, width: u32) -> vec4f {
  return v;
}
