// mla.compress: write T new tokens into the MLA cache, as DeepSeek-V3's MLA.forward does before attending:
//   1. project_main: kv[t, j] = x[t] . wkv_a[j]  for the d_c + d_rope rows of wkv_a (nn.Linear layout [out, in])
//                    one workgroup per row: its threads stream the row (coalesced) and tree-reduce the dot
//                    product, so wkv_a (the big operand) is read once per token at full bandwidth
//   2. norm_main   : c_KV = RMSNorm(kv[t, :d_c]) * kv_norm  -> kv_latent[start + t]
//                    k_pe = RoPE(kv[t, d_c:])                 -> k_pe[start + t]
//                    pairs (2i, 2i+1) rotate as complex numbers by the host's float64 cos/sin table
// Rows of the caches other than start..start+T-1 are not touched. `elem` is f32 or f16 storage; math is f32.

@group(0) @binding(0) var<uniform> params: MlaCompressParams;
@group(0) @binding(1) var<storage, read> x: array<elem>;              // [T, dim]
@group(0) @binding(2) var<storage, read> wkv_a: array<elem>;          // [dc+dr, dim]: W_DKV rows, then W_KR rows
@group(0) @binding(3) var<storage, read> kv_norm: array<elem>;        // [dc] RMSNorm weight
@group(0) @binding(4) var<storage, read> rope: array<vec2<f32>>;      // [T, dr/2] (cos, sin) at position start + t
@group(0) @binding(5) var<storage, read_write> kv: array<f32>;        // [T, dc+dr] projection
@group(0) @binding(6) var<storage, read_write> kv_latent: array<elem>; // [S, dc] latent cache
@group(0) @binding(7) var<storage, read_write> k_pe: array<elem>;      // [S, dr] RoPE key cache

const WG = 256u;

var<workgroup> red: array<f32, WG>;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { red[lid] += red[lid + span]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier(); // red is reused by the next reduction
  return total;
}

@compute @workgroup_size(WG)
fn project_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let rows = params.dc + params.dr;
  let j = linear_group(wg, nwg);
  if (j >= rows) { return; } // uniform per workgroup
  let w = j * params.dim;
  for (var t = 0u; t < params.T; t++) {
    var part = 0.0;
    for (var k = lid; k < params.dim; k += WG) { part += f32(x[t * params.dim + k]) * f32(wkv_a[w + k]); }
    let dot = reduce_sum(lid, part);
    if (lid == 0u) { kv[t * rows + j] = dot; }
  }
}

@compute @workgroup_size(WG)
fn norm_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = linear_group(wg, nwg);
  if (t >= params.T) { return; } // uniform per workgroup
  let rows = params.dc + params.dr;
  let base = t * rows;
  var sq = 0.0;
  for (var c = lid; c < params.dc; c += WG) { sq += kv[base + c] * kv[base + c]; }
  let inv = inverseSqrt(reduce_sum(lid, sq) / f32(params.dc) + params.eps);
  let row = params.start + t;
  for (var c = lid; c < params.dc; c += WG) {
    kv_latent[row * params.dc + c] = elem(kv[base + c] * inv * f32(kv_norm[c]));
  }
  let pairs = params.dr / 2u;
  for (var i = lid; i < pairs; i += WG) {
    let cs = rope[t * pairs + i];
    let a = kv[base + params.dc + 2u * i];
    let b = kv[base + params.dc + 2u * i + 1u];
    k_pe[row * params.dr + 2u * i] = elem(a * cs.x - b * cs.y);
    k_pe[row * params.dr + 2u * i + 1u] = elem(a * cs.y + b * cs.x);
  }
}
