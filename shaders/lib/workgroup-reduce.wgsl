// Tree reductions of one f32 per thread over a workgroup of WG threads. The including module declares WG (a
// power of two) and `reduce_scratch: array<f32, WG>` (in its TS workgroup record, so its bytes are counted).
// Call from uniform control flow: every thread must reach the barriers. The result is returned to every
// thread, and reduce_scratch may be reused as soon as the call returns.

fn workgroup_max(lid: u32, x: f32) -> f32 {
  reduce_scratch[lid] = x;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { reduce_scratch[lid] = max(reduce_scratch[lid], reduce_scratch[lid + span]); }
    workgroupBarrier();
  }
  let r = reduce_scratch[0];
  workgroupBarrier();
  return r;
}

fn workgroup_sum(lid: u32, x: f32) -> f32 {
  reduce_scratch[lid] = x;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { reduce_scratch[lid] += reduce_scratch[lid + span]; }
    workgroupBarrier();
  }
  let r = reduce_scratch[0];
  workgroupBarrier();
  return r;
}
