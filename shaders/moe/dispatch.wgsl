// moe.dispatch: a stable counting sort of the N*topk token copies by expert, in three passes.
//   rank_main    one workgroup per block of TB tokens: the block's choices become a bitmap in workgroup
//                memory (atomicOr), then thread e walks the block's tokens in order reading one word per
//                token and numbers its copies 0, 1, 2, ... (the rank of the copy within its expert and
//                block) and writes the block's count for e. Deterministic: ranks follow token order.
//   scan_main    one workgroup: per expert an exclusive scan over the blocks (block bases), the counts,
//                capacity (first come by token index), a workgroup scan over experts (offsets) and the
//                dropped total.
//   scatter_main one thread per copy: row = offsets[e] + block base + rank; writes the permutation
//                (sorted_tokens) and its inverse (slot_of), or -1 when over capacity.
// No ordering depends on atomics' timing, so the result is reproducible run to run.

// Generated from src/kernels/moe/dispatch.ts: the bindings (params, indices [N, topk], counts [E], offsets [E + 1],
// sorted_tokens [N * topk], slot_of [N, topk] (holds the block rank between passes), dropped [1],
// block_base [blocks, E]: block counts, then bases) and the constants WG (threads), TB (tokens per rank
// block), MAX_WORDS (bitmap words of one token: E <= 32 * MAX_WORDS).

#include "lib/workgroup-scan.wgsl"

var<workgroup> bits: array<atomic<u32>, TB * MAX_WORDS>; // [word][token]: a warp of experts reads one word

fn expert_ok(e: i32) -> bool {
  return e >= 0 && u32(e) < params.E;
}

@compute @workgroup_size(WG)
fn rank_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x + wg.y * nwg.x;
  if (b >= params.blocks) { return; } // uniform per workgroup
  let k = params.topk;
  let t0 = b * TB;
  let nt = min(TB, params.N - t0);
  for (var i = lid; i < TB * params.words; i += WG) { atomicStore(&bits[i], 0u); }
  workgroupBarrier();
  for (var c = lid; c < nt * k; c += WG) {
    let e = indices[t0 * k + c];
    if (expert_ok(e)) { atomicOr(&bits[(u32(e) >> 5u) * TB + c / k], 1u << (u32(e) & 31u)); }
  }
  workgroupBarrier();
  for (var e = lid; e < params.E; e += WG) {
    let w = (e >> 5u) * TB;
    let bit = 1u << (e & 31u);
    var run = 0u;
    for (var tl = 0u; tl < nt; tl++) {
      if ((atomicLoad(&bits[w + tl]) & bit) == 0u) { continue; }
      let base = (t0 + tl) * k;
      for (var j = 0u; j < k; j++) {
        if (indices[base + j] == i32(e)) {
          slot_of[base + j] = i32(run);
          run++;
        }
      }
    }
    block_base[b * params.E + e] = run;
  }
}

@compute @workgroup_size(WG)
fn scan_main(@builtin(local_invocation_index) lid: u32) {
  let E = params.E;
  let mine = thread_span(lid, E);
  var kept_sum = 0u;
  var drop_sum = 0u;
  for (var e = mine.x; e < mine.y; e++) {
    var run = 0u;
    for (var b = 0u; b < params.blocks; b++) {
      let c = block_base[b * E + e];
      block_base[b * E + e] = run;
      run += c;
    }
    counts[e] = i32(run);
    let kept = min(run, params.capacity);
    kept_sum += kept;
    drop_sum += run - kept;
  }
  // Kept counts scanned over the threads (offsets), drops summed.
  let scan = workgroup_scan(lid, vec2u(kept_sum, drop_sum));
  var row = scan.x - kept_sum;
  for (var e = mine.x; e < mine.y; e++) {
    offsets[e] = i32(row);
    row += min(u32(counts[e]), params.capacity);
  }
  if (lid == WG - 1u) {
    offsets[E] = i32(scan.x);
    dropped[0] = i32(scan.y);
  }
}

@compute @workgroup_size(WG)
fn scatter_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = (wg.x + wg.y * nwg.x) * WG + lid;
  let total = params.N * params.topk;
  if (c >= total) { return; }
  let t = c / params.topk;
  let e = indices[c];
  var slot = -1;
  if (expert_ok(e)) {
    let r = block_base[(t / TB) * params.E + u32(e)] + u32(slot_of[c]);
    if (r < params.capacity) {
      let row = u32(offsets[u32(e)]) + r;
      sorted_tokens[row] = i32(t);
      slot = i32(row);
    }
  }
  slot_of[c] = slot;
  // Rows past the kept total belong to no copy; each is cleared by exactly one thread.
  if (c >= u32(offsets[params.E])) { sorted_tokens[c] = -1; }
}
