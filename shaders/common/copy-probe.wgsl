// Roofline probe 1: achievable device-memory bandwidth. Each thread copies vec4s with a grid stride, the
// access pattern the bandwidth-bound kernels use; bytes moved = 2 * buffer size (read + write).
@group(0) @binding(0) var<uniform> params: ProbeParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < params.n; i += stride) {
    dst[i] = src[i];
  }
}
