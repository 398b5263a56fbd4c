// mla.decode_absorbed: DeepSeek-V3's attn_impl = "absorb", split-K over the latent cache (flash decoding),
// heads as the M dimension of the tile (FlashMLA).
//   1. absorb_main : q_abs[t,h] = scale * log2(e) * [q_nope[t,h] W_UK[h] , q_pe[t,h]]   ([d_c + d_rope] per head)
//                    4 columns per invocation in ABSORB_WG-invocation workgroups, so W_UK streams in slices of
//                    4 * ABSORB_WG * 4 B * dn (64 KiB at dn = 128) from many workgroups
//   2. split_main  : a 4-invocation walker per (query t, block of HB heads, key range): the heads-as-M latent
//                    core (lib/latent-split.wgsl): scores of every head of the block against every latent row
//                    [c_KV[s], k_pe[s]] of the range, online softmax (base 2), o[h] += p c_KV[s] (the values are
//                    the latent rows themselves); writes the unnormalised o, the max m and the sum l of its range
//   3. merge_main  : an invocation per (t, h, latent column quad): the log-sum-exp merge of the ranges
//                    (latent_merge, no barrier); the merged latent o[t,h] goes back into q_abs's row, no longer read
//   4. uv_main     : out[t,h] = W_UV[h] o[t,h], a coalesced GEMV (the TPR lanes of 4 weight rows read adjacent
//                    floats of them, summed by row_sum2) over tiles of MT queries, W_UV read once per tile

// Generated from src/kernels/mla/decode-absorbed.ts: the bindings params, q_nope [T, H, dn], q_pe [T, H, dr],
// kv_latent [S, dc], k_pe [S, dr], wkv_b [H*(dn+dv), dc] (per head its W_UK rows, then its W_UV rows),
// q_abs [T*H, dc+dr] (f32), part [T*H, splits, dc] then [T*H, splits, 2] (m, l) (f32) and out [T, H, dv];
// the constants of the latent core (L, HB, DC, DR, QC, VQ) and of the other passes (ABSORB_WG, WG for merge
// and uv, TPR, RPW, MT) and the workgroup arrays of the lane sums' workgroup-memory versions. row_sum with its
// lane variant and lane_sum (lib/lane-sum-*.wgsl) are appended by the host. `elem` is f32 or f16 storage;
// arithmetic is f32.
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/latent-split.wgsl"

// One workgroup per (t, h, 4 * ABSORB_WG columns of q_abs), an invocation per 4 columns ABSORB_WG apart: each
// q_nope value loaded feeds 4 multiply-adds, and adjacent invocations read adjacent floats of W_UK's rows.
@compute @workgroup_size(ABSORB_WG)
fn absorb_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let dc = params.dc;
  let dk = dc + params.dr;
  let chunks = (dk + 4u * ABSORB_WG - 1u) / (4u * ABSORB_WG);
  let g = linear_group(wg, nwg);
  if (g >= params.T * params.H * chunks) { return; }
  let row = g / chunks;
  let c = vec4u((g % chunks) * 4u * ABSORB_WG + lid) + vec4u(0u, 1u, 2u, 3u) * ABSORB_WG;
  // W_UK column of each (a RoPE or past-the-row column reads column dc - 1 and is replaced below).
  let w = (row % params.H) * (params.dn + params.dv) * dc + min(c, vec4u(dc - 1u));
  var v = vec4f(0.0);
  for (var d = 0u; d < params.dn; d++) {
    let wd = w + d * dc;
    v += f32(q_nope[row * params.dn + d]) * vec4f(f32(wkv_b[wd.x]), f32(wkv_b[wd.y]), f32(wkv_b[wd.z]), f32(wkv_b[wd.w]));
  }
  absorb_store(row, c.x, v.x);
  absorb_store(row, c.y, v.y);
  absorb_store(row, c.z, v.z);
  absorb_store(row, c.w, v.w);
}

// Column c of q_abs's row: the absorbed value, q_pe for a RoPE column, nothing past the row; pre-scaled.
fn absorb_store(row: u32, c: u32, absorbed: f32) {
  let dc = params.dc;
  if (c >= dc + params.dr) { return; }
  let x = select(f32(q_pe[row * params.dr + c - dc]), absorbed, c < dc);
  q_abs[row * (dc + params.dr) + c] = x * (params.scale * LOG2E);
}

// Query t's key sequence is the cache itself, positions [0, horizon): position i is row i.
fn latent_q(i: u32) -> f32 {
  return q_abs[i];
}

fn latent_key(t: u32, i: u32) -> i32 {
  return i32(i);
}

fn latent_shape() -> LatentShape {
  return LatentShape(params.T, params.H, params.splits, params.dc, params.dr, 0u);
}

// Walker (query t, block of HB heads, key range) on lib/latent-split.wgsl; q_abs is pre-scaled.
@compute @workgroup_size(L)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = latent_item(linear_group(wg, nwg), params.T, params.blocks, params.splits);
  if (!item.ok) { return; } // uniform per workgroup
  // Keys of this walker: its split's range, cut at the causal horizon of query t (may be empty).
  let horizon = select(params.S, min(params.S, params.S - params.T + item.t + 1u), params.causal != 0u);
  let s_begin = item.split * params.keys_per_split;
  let s_end = min(s_begin + params.keys_per_split, horizon);
  latent_split(latent_shape(), item.t, item.head0, item.split, s_begin, s_end, 1.0, lid);
}

// One invocation per (t, h, latent column quad): the log-sum-exp merge of the ranges (latent_merge); the
// merged latent o[t,h] goes back into q_abs's row, no longer read.
@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m = latent_merge(latent_shape(), linear_group(wg, nwg) * WG + lid);
  if (!m.ok) { return; }
  let o = m.row * (params.dc + params.dr) + 4u * m.col;
  for (var i = 0u; i < 4u; i++) {
    if (4u * m.col + i < params.dc) { q_abs[o + i] = m.v[i]; }
  }
}

// Workgroup (query tile, head h, block of RPW of its W_UV rows d): out[t, h, d] = W_UV[h][d] . o[t, h]. The TPR
// lanes of an invocation group share 4 rows, so each o value loaded feeds 4 multiply-adds per query.
@compute @workgroup_size(WG)
fn uv_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let t0 = wg.x * MT;
  let rows = min(params.T - t0, MT);
  let blocks = (params.dv + RPW - 1u) / RPW;
  let h = wg.y / blocks;
  let d0 = (wg.y % blocks) * RPW + 4u * (lanes.p / TPR);
  let dk = params.dc + params.dr;
  // W_UV rows d0 .. d0+3 (past dv: row dv - 1 again, computed and not stored); o rows of queries t0 .. t0+3
  // (past the tile: its last query again).
  let w = (h * (params.dn + params.dv) + params.dn + min(vec4u(d0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.dv - 1u))) * params.dc;
  let o = (min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(t0 + rows - 1u)) * params.H + h) * dk;
  var a0 = vec4f(0.0); // query t0 + x: the 4 rows' partial dot products
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = lanes.p % TPR; k < params.dc; k += TPR) {
    let wv = vec4f(f32(wkv_b[w.x + k]), f32(wkv_b[w.y + k]), f32(wkv_b[w.z + k]), f32(wkv_b[w.w + k]));
    a0 += wv * q_abs[o.x + k];
    if (rows > 1u) {
      a1 += wv * q_abs[o.y + k];
      a2 += wv * q_abs[o.z + k];
      a3 += wv * q_abs[o.w + k];
    }
  }
  let s01 = row_sum2(a0, a1, lanes);
  var s23 = array<vec4f, 2>(vec4f(0.0), vec4f(0.0));
  if (rows > 2u) { s23 = row_sum2(a2, a3, lanes); } // uniform per workgroup
  if (lanes.p % TPR == 0u) {
    uv_store(t0, h, d0, s01[0]);
    if (rows > 1u) { uv_store(t0 + 1u, h, d0, s01[1]); }
    if (rows > 2u) { uv_store(t0 + 2u, h, d0, s23[0]); }
    if (rows > 3u) { uv_store(t0 + 3u, h, d0, s23[1]); }
  }
}

// Rows d0 .. d0+3 of out[t, h] (those inside dv).
fn uv_store(t: u32, h: u32, d0: u32, v: vec4f) {
  let base = (t * params.H + h) * params.dv;
  if (d0 < params.dv) { out[base + d0] = elem(v.x); }
  if (d0 + 1u < params.dv) { out[base + d0 + 1u] = elem(v.y); }
  if (d0 + 2u < params.dv) { out[base + d0 + 2u] = elem(v.z); }
  if (d0 + 3u < params.dv) { out[base + d0 + 3u] = elem(v.w); }
}
