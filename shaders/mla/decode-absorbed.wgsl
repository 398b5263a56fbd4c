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
//   4. uv_main     : out[t,h] = W_UV[h] o[t,h], a coalesced GEMV: a 4-lane walker per <= 64 KiB block of W_UV
//                    rows, its lanes owning adjacent latent columns, summed by lane_sum

// Generated from src/kernels/mla/decode-absorbed.ts: the bindings params, q_nope [T, H, dn], q_pe [T, H, dr],
// kv_latent [S, dc], k_pe [S, dr], wkv_b [H*(dn+dv), dc] (per head its W_UK rows, then its W_UV rows),
// q_abs [T*H, dc+dr] (f32), part [T*H, splits, dc] then [T*H, splits, 2] (m, l) (f32) and out [T, H, dv];
// the constants of the latent core (L, HB, DC, DR, QC, VQ) and of the other passes (ABSORB_WG, WG for merge,
// UV_ROWS) and the workgroup array of the lane sum's workgroup-memory version. lane_sum (lib/lane-sum-*.wgsl) is
// appended by the host. `elem` is f32 or f16 storage;
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

// uv_main: a 4-lane walker per (head h, block of UV_ROWS rows d of W_UV[h], <= 64 KiB of them): out[t, h, d] =
// W_UV[h][d] . o[t, h]. Lane i owns the latent columns 4 cq + i (adjacent lanes read adjacent floats of a row:
// coalesced) and keeps o[t, h]'s in a private array, read at constant indices in the written-out row sweep;
// 4 rows at a time, lane_sum adds the lanes. No workgroup memory (with subgroups, no barrier).
var<private> uv_o: array<f32, VQ>;
var<private> uv_acc: vec4f;
var<private> uv_w: vec4u;

fn uv_quad(cq: u32) {
  if (cq >= VQ) { return; }
  let c = min(4u * cq + lane, params.dc - 1u);
  let w = vec4f(f32(wkv_b[uv_w.x + c]), f32(wkv_b[uv_w.y + c]), f32(wkv_b[uv_w.z + c]), f32(wkv_b[uv_w.w + c]));
  uv_acc += uv_o[cq] * w;
}

fn uv_32(c: u32) {
  uv_quad(c); uv_quad(c + 1u); uv_quad(c + 2u); uv_quad(c + 3u); uv_quad(c + 4u); uv_quad(c + 5u); uv_quad(c + 6u); uv_quad(c + 7u);
  uv_quad(c + 8u); uv_quad(c + 9u); uv_quad(c + 10u); uv_quad(c + 11u); uv_quad(c + 12u); uv_quad(c + 13u); uv_quad(c + 14u); uv_quad(c + 15u);
  uv_quad(c + 16u); uv_quad(c + 17u); uv_quad(c + 18u); uv_quad(c + 19u); uv_quad(c + 20u); uv_quad(c + 21u); uv_quad(c + 22u); uv_quad(c + 23u);
  uv_quad(c + 24u); uv_quad(c + 25u); uv_quad(c + 26u); uv_quad(c + 27u); uv_quad(c + 28u); uv_quad(c + 29u); uv_quad(c + 30u); uv_quad(c + 31u);
}

// Constant guards: the blocks past the latent are dropped before inlining.
fn uv_row() {
  if (VQ > 0u) { uv_32(0u); } if (VQ > 32u) { uv_32(32u); } if (VQ > 64u) { uv_32(64u); } if (VQ > 96u) { uv_32(96u); }
  if (VQ > 128u) { uv_32(128u); } if (VQ > 160u) { uv_32(160u); } if (VQ > 192u) { uv_32(192u); } if (VQ > 224u) { uv_32(224u); }
}

@compute @workgroup_size(L)
fn uv_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let blocks = (params.dv + UV_ROWS - 1u) / UV_ROWS;
  let g = linear_group(wg, nwg);
  if (g >= params.H * blocks) { return; } // uniform per workgroup
  lane = lid;
  let h = g / blocks;
  let d0 = (g % blocks) * UV_ROWS;
  let d1 = min(d0 + UV_ROWS, params.dv);
  let dk = params.dc + params.dr;
  for (var t = 0u; t < params.T; t++) {
    let orow = (t * params.H + h) * dk;
    for (var cq = 0u; cq < VQ; cq++) {
      let c = 4u * cq + lid;
      uv_o[cq] = select(0.0, q_abs[orow + min(c, params.dc - 1u)], c < params.dc);
    }
    for (var d = d0; d < d1; d += 4u) {
      // Rows d .. d + 3 of W_UV[h] (past the block: its last row again, computed and not stored).
      let rows = min(vec4u(d) + vec4u(0u, 1u, 2u, 3u), vec4u(d1 - 1u));
      uv_w = (h * (params.dn + params.dv) + params.dn + rows) * params.dc;
      uv_acc = vec4f(0.0);
      uv_row();
      let v = lane_sum(uv_acc, lid);
      if (lid == 0u) {
        let base = (t * params.H + h) * params.dv;
        for (var i = 0u; i < 4u; i++) {
          if (d + i < d1) { out[base + d + i] = elem(v[i]); }
        }
      }
    }
  }
}
