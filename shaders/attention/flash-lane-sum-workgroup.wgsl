// lane_sum for the flash kernels, workgroup-memory version (devices without subgroups): every invocation
// publishes its vec4, then sums the L slots of its aligned lane group. Two barriers per call, so it must be
// called in uniform control flow by the whole workgroup; the second barrier lets the next call reuse the slots.
var<workgroup> lane_red: array<vec4f, WG>;

fn lane_sum(x: vec4f, tid: u32) -> vec4f {
  lane_red[tid] = x;
  workgroupBarrier();
  let base = tid - tid % L;
  var s = vec4f(0.0);
  for (var i = 0u; i < L; i++) {
    s += lane_red[base + i];
  }
  workgroupBarrier();
  return s;
}
