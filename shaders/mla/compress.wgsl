// mla.compress: write T new tokens into the MLA cache, as DeepSeek-V3's MLA.forward does before attending:
//   1. project_main: kv[t, j] = x[t] . wkv_a[j]  for the d_c + d_rope rows of wkv_a (nn.Linear layout [out, in])
//                    one workgroup per row: its threads stream the row (coalesced) and tree-reduce the dot
//                    product, so wkv_a (the big operand) is read once per token at full bandwidth: the decode
//                    path (a few tokens). A prefill chunk runs the projection as a GEMM over its tokens instead
//                    (linear.matmul's stage on the same buffers: every weight loaded serves 64 tokens)
//   2. norm_main   : c_KV = RMSNorm(kv[t, :d_c]) * kv_norm  -> kv_latent[start + t]
//                    k_pe = RoPE(kv[t, d_c:])                 -> k_pe[start + t]
//                    pairs (2i, 2i+1) rotate as complex numbers by the host's float64 cos/sin table
// Rows of the caches other than start..start+T-1 are not touched. `elem` is f32 or f16 storage; math is f32.

// Generated from src/kernels/mla/compress.ts: the bindings params, x [T, dim], wkv_a [dc+dr, dim] (W_DKV
// rows, then W_KR rows), kv_norm [dc], rope [T, dr/2] (cos, sin) at position start + t, kv [T, dc+dr] (the
// projection, in the storage type as a Linear layer's output is), kv_latent [S, dc] and k_pe [S, dr] (the caches); the constant WG and the workgroup array
// reduce_scratch [WG] that workgroup_sum reduces through.
#include "lib/grid.wgsl"
#include "lib/workgroup-reduce.wgsl"

@compute @workgroup_size(WG)
fn project_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let rows = params.dc + params.dr;
  let j = linear_group(wg, nwg);
  if (j >= rows) { return; } // uniform per workgroup
  let w = j * params.dim;
  for (var t = 0u; t < params.T; t++) {
    var part = 0.0;
    for (var k = lid; k < params.dim; k += WG) { part += f32(x[t * params.dim + k]) * f32(wkv_a[w + k]); }
    let dot = workgroup_sum(lid, part);
    if (lid == 0u) { kv[t * rows + j] = elem(dot); }
  }
}

@compute @workgroup_size(WG)
fn norm_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = linear_group(wg, nwg);
  if (t >= params.T) { return; } // uniform per workgroup
  let rows = params.dc + params.dr;
  let base = t * rows;
  var sq = 0.0;
  for (var c = lid; c < params.dc; c += WG) {
    let v = f32(kv[base + c]);
    sq += v * v;
  }
  let inv = inverseSqrt(workgroup_sum(lid, sq) / f32(params.dc) + params.eps);
  let row = params.start + t;
  for (var c = lid; c < params.dc; c += WG) {
    kv_latent[row * params.dc + c] = elem(f32(kv[base + c]) * inv * f32(kv_norm[c]));
  }
  let pairs = params.dr / 2u;
  for (var i = lid; i < pairs; i += WG) {
    let cs = rope[t * pairs + i];
    let a = f32(kv[base + params.dc + 2u * i]);
    let b = f32(kv[base + params.dc + 2u * i + 1u]);
    k_pe[row * params.dr + 2u * i] = elem(a * cs.x - b * cs.y);
    k_pe[row * params.dr + 2u * i + 1u] = elem(a * cs.y + b * cs.x);
  }
}
