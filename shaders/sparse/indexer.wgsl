// sparse.indexer: DeepSeek-V3.2-Exp's lightning indexer, I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]).
// A GEMM with a fused epilogue: the rows are the (query, index head) pairs of q_index [T*Hi, Di] (the heads of a
// query are the M dimension, as in DeepGEMM's fp8_mqa_logits, so each index key is read once for all heads), the
// columns the keys of k_index [S, Di]. Heads are padded per query to hp (1, 2, 4, or a multiple of 8; padding
// heads weigh 0), so a thread's 8 rows are either one query's heads or whole queries. The epilogue applies ReLU
// and the head weight and sums each query's heads in registers; a query whose heads span several threads adds
// their sums once through workgroup memory. Causal: keys after a query's position score -inf.
//
//   main  (prefill, T > 4): the shared GEMM core (lib/gemm.wgsl gemm_block8): a workgroup owns a
//         64-row x 64-key tile, 8 x 8 per thread; 64 / hpb queries per tile (all heads of one query, 64 at a
//         time, when hp >= 64, the head blocks summed in the output). Tiles after the last query's position
//         only write -inf.
// Decode (T <= 4) is shaders/sparse/indexer-decode.wgsl, a barrier-free walker per key range.

// Generated from src/kernels/sparse/indexer.ts: the bindings params, q_index, k_index (vec4<elem>), w_index
// (elem), index_scores (f32); the GEMM core's constants (64 x 64 blocks, BK 32, B as
// [N, K] rows); the core's tiles and red [64 * 2] (vec4: the 8 key sums of each thread).
#include "lib/gemm.wgsl"
#include "lib/grid.wgsl"
#include "lib/infinity.wgsl"

// Tile row -> (query t, head j) in head block hb; z = 1 for a real (query, head) row of the tile, 0 for padding.
fn row_query(t0: u32, hb: u32, row: u32) -> vec3<u32> {
  let qi = row / params.hpb;
  let t = t0 + qi;
  let j = hb * params.hpb + row % params.hpb;
  let ok = qi < params.qpt && t < params.T && j < params.Hi;
  return vec3<u32>(t, j, select(0u, 1u, ok));
}

// Scores of query t at keys col .. col+7 (lo: the first 4); -inf where causal masking hides the key. Nothing
// past T or S (a tile's padding rows and columns). add: sum onto what this thread stored for an earlier head block.
fn store_scores(t: u32, col: u32, lo: vec4f, hi: vec4f, add: bool) {
  if (t >= params.T) { return; }
  let last = params.S - params.T + t;
  for (var j = 0u; j < 8u; j++) {
    let s = col + j;
    if (s < params.S) {
      let o = t * params.S + s;
      var v = select(hi[j % 4u], lo[j % 4u], j < 4u);
      if (add) { v += index_scores[o]; }
      index_scores[o] = select(v, neg_inf(), params.causal != 0u && s > last);
    }
  }
}

fn weight(t: u32, j: u32) -> f32 {
  return f32(w_index[t * params.Hi + j]);
}

// The GEMM core's loaders: A rows are the tile's (query, head) pairs of head block tile_hb, B rows (B^T:
// k_index is [S, Di]) the keys; zeros past Di, past S and for padding rows.
var<private> tile_t0: u32;
var<private> tile_hb: u32;

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  let rq = row_query(tile_t0, tile_hb, m);
  if (rq.z == 0u || k >= 4u * params.Di4) { return vec4f(0.0); }
  return vec4f(q_index[(rq.x * params.Hi + rq.y) * params.Di4 + k / 4u]);
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  if (n >= params.S || k >= 4u * params.Di4) { return vec4f(0.0); }
  return vec4f(k_index[n * params.Di4 + k / 4u]);
}

@compute @workgroup_size(GEMM_BN / 8u, GEMM_BM / 8u)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = linear_group(wg, nwg);
  let t0 = (g / params.key_tiles) * params.qpt;
  if (t0 >= params.T) { return; }
  let s0 = (g % params.key_tiles) * GEMM_BN;
  let col = s0 + 8u * lid.x;
  if (params.causal != 0u && s0 > params.S - params.T + min(params.T, t0 + params.qpt) - 1u) {
    // Every key of the tile is after every query's position.
    for (var o = li; o < params.qpt * GEMM_BN; o += GEMM_THREADS) {
      let t = t0 + o / GEMM_BN;
      let s = s0 + o % GEMM_BN;
      if (t < params.T && s < params.S) { index_scores[t * params.S + s] = neg_inf(); }
    }
    return;
  }
  // Threads (rows 8y .. 8y+7) per query when a query's heads span several threads.
  let spread = params.hpb / 8u;
  for (var hb = 0u; hb < params.head_blocks; hb++) {
    tile_t0 = t0;
    tile_hb = hb;
    let acc = gemm_block8(0u, s0, 4u * params.Di4, lid.xy, li);
    // ReLU before the (possibly negative) head weight; padding rows weigh 0.
    var lo = vec4f(0.0);
    var hi = vec4f(0.0);
    for (var i = 0u; i < 8u; i++) {
      let r = 8u * lid.y + i;
      let rq = row_query(t0, hb, r);
      var w = 0.0;
      if (rq.z != 0u) { w = weight(rq.x, rq.y); }
      lo += w * max(gemm8_lo(acc, i), vec4f(0.0));
      hi += w * max(gemm8_hi(acc, i), vec4f(0.0));
      // hp < 8: the rows so far complete a query.
      if (params.hpb < 8u && (i + 1u) % params.hpb == 0u) {
        store_scores(t0 + r / params.hpb, col, lo, hi, false);
        lo = vec4f(0.0);
        hi = vec4f(0.0);
      }
    }
    if (params.hpb == 8u) {
      store_scores(t0 + lid.y, col, lo, hi, hb > 0u);
    } else if (spread > 1u) {
      red[2u * li] = lo;
      red[2u * li + 1u] = hi;
      workgroupBarrier();
      let qi = lid.y / spread;
      if (lid.y % spread == 0u && qi < params.qpt) {
        for (var j = 1u; j < spread; j++) {
          lo += red[2u * (li + 8u * j)];
          hi += red[2u * (li + 8u * j) + 1u];
        }
        store_scores(t0 + qi, col, lo, hi, hb > 0u);
      }
    }
  }
}
