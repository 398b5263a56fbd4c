// Roofline probe 2: f32 fused multiply-add throughput. Eight independent vec4 chains per thread hide FMA
// latency; each iteration is 8 * 4 FMAs = 64 FLOPs. The sum is stored so the compiler cannot drop the loop,
// and the multiplier/addend come from a uniform so nothing folds at compile time.
// Bindings (params, src, dst) and WG are generated from src/bench/roofline.ts.

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = vec4<f32>(params.mul);
  let c = vec4<f32>(params.add);
  let seed = f32(gid.x) * 1e-7;
  var a0 = vec4<f32>(seed, seed + 1.0, seed + 2.0, seed + 3.0);
  var a1 = a0 + 0.1; var a2 = a0 + 0.2; var a3 = a0 + 0.3;
  var a4 = a0 + 0.4; var a5 = a0 + 0.5; var a6 = a0 + 0.6; var a7 = a0 + 0.7;
  for (var i = 0u; i < params.n; i++) {
    a0 = fma(a0, b, c); a1 = fma(a1, b, c); a2 = fma(a2, b, c); a3 = fma(a3, b, c);
    a4 = fma(a4, b, c); a5 = fma(a5, b, c); a6 = fma(a6, b, c); a7 = fma(a7, b, c);
  }
  dst[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + src[0];
}
