// sparse.dsa_attention, MLA latent mode: each query attends to the latent rows listed in its row of
// topk_indices [T, top] (-1 = empty; entries >= S or, when causal, after the query are skipped), on the
// heads-as-M core of lib/latent-split.wgsl that mla.decode_absorbed runs over a contiguous cache. The list is
// cut into ranges of keys_per_split positions (split-K); a 4-invocation walker takes HB heads of one query and
// one range, so every gathered row [c_KV ; k_pe] is read once for all of its heads and serves as the value too
// (its first dc columns). merge_main combines the ranges by log-sum-exp into out [T, H, dc], still in latent
// space (W_UV comes after). No workgroup memory and, with subgroups, no barrier.
//
// Generated from src/kernels/sparse/dsa-mla.ts: the bindings params, q [T, H, dc + dr] (absorbed queries),
// kv_latent and k_pe (the same latent rows [S, dc + dr], read as c_KV and as the RoPE part), topk_indices,
// part (f32 partials) and out; the core's constants (L, HB, DC, DR, QC, VQ) and WG. lane_sum
// (lib/lane-sum-*.wgsl) is appended by the host. `elem` is f32 or f16 storage; arithmetic f32.
#include "lib/grid.wgsl"
#include "lib/latent-split.wgsl"

fn latent_q(i: u32) -> f32 {
  return f32(q[i]);
}

fn latent_key(t: u32, i: u32) -> i32 {
  let s = topk_indices[t * params.top + i];
  let p = params.S - params.T + t;
  if (s < 0 || u32(s) >= params.S || (params.causal != 0u && u32(s) > p)) { return -1; }
  return s;
}

fn latent_shape() -> LatentShape {
  let dk = params.dc + params.dr;
  return LatentShape(params.T, params.H, params.splits, dk, dk, params.dc);
}

// Grid: T * blocks * splits walkers. A range of -1 entries (top-k pads short lists at the end) skips every
// position.
@compute @workgroup_size(L)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = latent_item(linear_group(wg, nwg), params.T, params.blocks, params.splits);
  if (!item.ok) { return; } // uniform per workgroup
  let lo = min(params.top, item.split * params.keys_per_split);
  let hi = min(params.top, lo + params.keys_per_split);
  latent_split(latent_shape(), item.t, item.head0, item.split, lo, hi, params.scale * LOG2E, lid);
}

// One invocation per (t, h, latent column quad): the ranges merged by log-sum-exp (latent_merge).
@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m = latent_merge(latent_shape(), linear_group(wg, nwg) * WG + lid);
  if (!m.ok) { return; }
  let o = m.row * params.dc + 4u * m.col;
  for (var i = 0u; i < 4u; i++) {
    if (4u * m.col + i < params.dc) { out[o + i] = elem(m.v[i]); }
  }
}
