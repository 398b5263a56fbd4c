// Roofline probe 3: achievable read bandwidth. Each thread sums vec4s with a grid stride (the access pattern
// of the decode kernels, which almost only read), the workgroup reduces its sums in workgroup memory, and
// one vec4 per workgroup is written: bytes moved = the buffer size read once (the writes are negligible).
@group(0) @binding(0) var<uniform> params: ProbeParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

override WG: u32 = 256;

var<workgroup> red: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let stride = nwg.x * WG;
  var acc = vec4<f32>(0.0);
  for (var i = gid.x; i < params.n; i += stride) {
    acc += src[i];
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  // Written unconditionally so the compiler cannot drop the loads.
  if (lid == 0u) {
    dst[wg.x] = red[0] * params.mul + vec4<f32>(params.add);
  }
}
