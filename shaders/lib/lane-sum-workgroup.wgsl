// lane_sum, workgroup-memory version (devices without subgroups): every invocation publishes its vec4, then
// sums the L slots of its aligned lane group. The includer declares L, WG and `lane_red: array<vec4f, WG>`
// (the host generates it with the module's other workgroup arrays, so its bytes are counted with theirs).
// Two barriers per call, so it must be called in uniform control flow by the whole workgroup; the second
// barrier lets the next call reuse the slots.
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
