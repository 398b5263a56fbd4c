// Roofline probe 1: achievable device-memory bandwidth. Each thread copies vec4s with a grid stride, the
// access pattern the bandwidth-bound kernels use; bytes moved = 2 * buffer size (read + write).
// Bindings (params, src, dst) and WG are generated from src/bench/roofline.ts.

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < params.n; i += stride) {
    dst[i] = src[i];
  }
}
