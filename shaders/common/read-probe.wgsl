// Roofline probe 3: achievable read bandwidth. Each thread sums vec4s with a grid stride (the access pattern
// of the decode kernels, which almost only read) and writes its one sum: with >= 64 vec4s read per thread
// the writes are <= 1/64 of the bytes, so bytes moved = the buffer read once. No workgroup barrier: CPU
// emulation makes barriers very slow, and a real GPU does not need one here.
// Bindings (params, src, dst) and WG are generated from src/bench/roofline.ts.

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  var acc = vec4<f32>(0.0);
  for (var i = gid.x; i < params.n; i += stride) {
    acc += src[i];
  }
  // Written unconditionally so the compiler cannot drop the loads.
  dst[gid.x] = acc * params.mul + vec4<f32>(params.add);
}
