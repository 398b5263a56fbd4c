// sparse.dsa_attention (appended to masked-flash.wgsl): each query attends only to the keys listed in its
// row of topk_indices [T, top] (-1 = empty; entries >= S or, when causal, after the query are skipped).
// DSA selects once per token for all heads, so a workgroup takes BR heads of one query that share a KV
// head and gathers each listed K/V row once for all of them: with MQA / MLA (one KV head, 128 query heads
// in DeepSeek-V3.2) a gathered row serves every head. MLA latent mode binds the latent rows [c_KV ; k_pe]
// as k and reads V as their first DV4 vec4s (V_FROM_K), so nothing is gathered twice. With 16 heads the
// latent rows are read by one row block (heads as the tile's M dimension, as FlashMLA does) where workgroup
// memory holds the 16 queries; split-K cuts the list itself across workgroups (its positions are the row
// block's key sequence).

// Its own binding (generated): topk_indices [T, top]; workgroup arrays live_count (atomic) and live_end, one
// element each.

// The listed keys were filtered for the whole query when the tile was gathered.
fn visible(r: u32, key: u32) -> bool {
  return true;
}

#include "lib/key-list.wgsl"

// Grid: T * Hkv * row_blocks * splits workgroups; row block rb holds heads rb*BR .. of KV head kvh's group.
@compute @workgroup_size(WG)
fn attend_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = split_item(linear_group(wg, nwg));
  let g = item.x;
  let split = item.y;
  if (g >= params.T * params.Hkv * params.row_blocks) { return; }
  let rb = g % params.row_blocks;
  kvh = (g / params.row_blocks) % params.Hkv;
  let t = g / (params.row_blocks * params.Hkv);
  if (lid < BR) {
    let gi = rb * BR + lid;
    row_q[lid] = select(-1, i32(t * params.Hq + kvh * params.group + gi), gi < params.group);
    row_pos[lid] = params.S - params.T + t;
  }
  if (lid == 0u) { atomicStore(&live_count[0], 0u); }
  workgroupBarrier();
  // This split's list positions; tiles after its last usable entry are skipped (top-k pads with -1 at the
  // end of short rows, so the splits past a short list do no tile at all).
  let lo = min(params.top, split * params.chunk);
  let hi = min(params.top, lo + params.chunk);
  for (var i = lo + lid; i < hi; i += WG) {
    if (listed_key(t, i) >= 0) { atomicMax(&live_count[0], i + 1u); }
  }
  workgroupBarrier();
  if (lid == 0u) { live_end[0] = atomicLoad(&live_count[0]); }
  let n = workgroupUniformLoad(&live_end[0]);
  flash_begin(lid);
  for (var i0 = lo; i0 < n; i0 += BK) {
    if (lid < BK) {
      var key = -1;
      if (i0 + lid < n) { key = listed_key(t, i0 + lid); }
      tile_keys[lid] = key;
    }
    workgroupBarrier();
    flash_tile(lid);
  }
  flash_end(lid, split);
}
