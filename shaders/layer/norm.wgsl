// layer.norm: one workgroup per row of d values, a strided view in and out (x[x_off + r * x_ld + i] ->
// y[y_off + r * y_ld + i]), so a composite can normalise the first d_c columns of a wider row in place of a copy.
//   rms_main  : y = x / sqrt(mean(x^2) + eps) * weight                     (RMSNorm; DeepSeek's attn/q/kv/ffn norms)
//   layer_main: y = (x - mean) / sqrt(mean((x - mean)^2) + eps) * weight + bias  (LayerNorm, biased variance: the indexer's k_norm)
// LayerNorm takes two passes over the row (mean, then the centred squares): the one-pass E[x^2] - mean^2 cancels
// catastrophically when |mean| >> std. The row is read from device memory each pass (d is a few thousand at most:
// it stays in cache); arithmetic is f32, storage `elem`.
#include "lib/workgroup-reduce.wgsl"
#include "lib/grid.wgsl"

fn row_sum_sq(r: u32, lid: u32, centre: f32) -> f32 {
  var part = 0.0;
  for (var i = lid; i < params.d; i += WG) {
    let v = f32(x[params.x_off + r * params.x_ld + i]) - centre;
    part += v * v;
  }
  return workgroup_sum(lid, part);
}

@compute @workgroup_size(WG)
fn rms_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = linear_group(wg, nwg);
  if (r >= params.rows) { return; } // uniform per workgroup
  let inv = inverseSqrt(row_sum_sq(r, lid, 0.0) / f32(params.d) + params.eps);
  for (var i = lid; i < params.d; i += WG) {
    y[params.y_off + r * params.y_ld + i] = elem(f32(x[params.x_off + r * params.x_ld + i]) * inv * f32(weight[i]));
  }
}

@compute @workgroup_size(WG)
fn layer_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = linear_group(wg, nwg);
  if (r >= params.rows) { return; } // uniform per workgroup
  var part = 0.0;
  for (var i = lid; i < params.d; i += WG) { part += f32(x[params.x_off + r * params.x_ld + i]); }
  let mean = workgroup_sum(lid, part) / f32(params.d);
  let inv = inverseSqrt(row_sum_sq(r, lid, mean) / f32(params.d) + params.eps);
  for (var i = lid; i < params.d; i += WG) {
    let v = (f32(x[params.x_off + r * params.x_ld + i]) - mean) * inv;
    y[params.y_off + r * params.y_ld + i] = elem(v * f32(weight[i]) + f32(bias[i]));
  }
}
