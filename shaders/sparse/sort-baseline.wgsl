// sparse.sort_baseline: the full sort top-k replaces. Each row becomes (order key, index) pairs padded to a
// power of two P, a bitonic network sorts them by key descending then index ascending (the same tie rule as
// sparse.topk), and the first k pairs are the answer. O(P log^2 P) compare-exchanges against top-k's few
// streaming passes. Stages whose partner distance j fits in a workgroup block of L pairs run in workgroup
// memory (local_sort_main: all stages up to size L; local_merge_main: the tail j < L of a larger stage);
// wider ones run one global compare-exchange per thread (global_step_main).

// Generated from src/kernels/sparse/sort-baseline.ts: the bindings params, scores, out_idx, out_val and
// pairs ((order key, index) per padded position, vec2<u32>); the constants WG and L (pairs per workgroup
// block, a power of two, at most P); the workgroup array block [L].
#include "lib/grid.wgsl"
#include "lib/order-key.wgsl"

// Causal rows see only their first cols - rows + r + 1 entries (as in sparse.topk).
fn row_len(row: u32) -> u32 {
  if (params.causal != 0u) { return min(params.cols, params.cols - params.rows + row + 1u); }
  return params.cols;
}

// a goes before b: larger key, or equal key and lower index. Invalid entries have key 0, below every valid key.
fn before(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.x > b.x || (a.x == b.x && a.y < b.y);
}

// Positions i < l = i + j inside a stage of size k: runs with (i & k) == 0 end in "before" order, the
// others in the reverse, so each stage merges bitonic runs of size k. True when a and b must swap.
fn out_of_order(a: vec2<u32>, b: vec2<u32>, i: u32, k: u32) -> bool {
  return select(before(a, b), before(b, a), (i & k) == 0u);
}

fn pair_of(row: u32, i: u32) -> vec2<u32> {
  if (i < row_len(row)) {
    let v = scores[row * params.cols + i];
    if (is_valid(v)) { return vec2<u32>(order_key(v), i); }
  }
  return vec2<u32>(0u, i);
}

// Compare-exchange all pairs of the block for stage (k, j); `offset` is the block's first position in the row
// (the direction depends on the absolute position).
fn block_step(lid: u32, offset: u32, k: u32, j: u32) {
  for (var t = lid; t < L / 2u; t += WG) {
    // t-th pair: i has bit j clear.
    let i = (t / j) * 2u * j + (t % j);
    let l = i + j;
    let a = block[i];
    let b = block[l];
    if (out_of_order(a, b, offset + i, k)) {
      block[i] = b;
      block[l] = a;
    }
  }
  workgroupBarrier();
}

// Workgroup g of a block dispatch: (row, first position of its block in the row); g < rows * P / L.
fn block_at(g: u32) -> vec2<u32> {
  let blocks = params.P / L;
  return vec2<u32>(g / blocks, (g % blocks) * L);
}

@compute @workgroup_size(WG)
fn local_sort_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * (params.P / L)) { return; }
  let row = block_at(g).x;
  let offset = block_at(g).y;
  for (var t = lid; t < L; t += WG) { block[t] = pair_of(row, offset + t); }
  workgroupBarrier();
  for (var k = 2u; k <= L; k *= 2u) {
    for (var j = k / 2u; j > 0u; j /= 2u) { block_step(lid, offset, k, j); }
  }
  for (var t = lid; t < L; t += WG) { pairs[row * params.P + offset + t] = block[t]; }
}

@compute @workgroup_size(WG)
fn local_merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * (params.P / L)) { return; }
  let offset = block_at(g).y;
  let base = block_at(g).x * params.P + offset;
  for (var t = lid; t < L; t += WG) { block[t] = pairs[base + t]; }
  workgroupBarrier();
  for (var j = L / 2u; j > 0u; j /= 2u) { block_step(lid, offset, params.stage_k, j); }
  for (var t = lid; t < L; t += WG) { pairs[base + t] = block[t]; }
}

@compute @workgroup_size(WG)
fn global_step_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = linear_group(wg, nwg) * WG + lid;
  let half = params.P / 2u;
  if (t >= params.rows * half) { return; }
  let row = t / half;
  let u = t % half;
  let j = params.stage_j;
  let i = (u / j) * 2u * j + (u % j);
  let base = row * params.P;
  let a = pairs[base + i];
  let b = pairs[base + i + j];
  if (out_of_order(a, b, i, params.stage_k)) {
    pairs[base + i] = b;
    pairs[base + i + j] = a;
  }
}

// The first k sorted pairs of each row; invalid or padding pairs (key 0) become index -1, value -inf.
@compute @workgroup_size(WG)
fn emit_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = linear_group(wg, nwg) * WG + lid;
  if (t >= params.rows * params.k) { return; }
  let row = t / params.k;
  let slot = t % params.k;
  var idx = -1;
  var val = neg_inf();
  if (slot < params.P) {
    let p = pairs[row * params.P + slot];
    if (p.x != 0u) {
      idx = i32(p.y);
      val = scores[row * params.cols + p.y];
    }
  }
  out_idx[t] = idx;
  if (params.write_values != 0u) { out_val[t] = val; }
}
