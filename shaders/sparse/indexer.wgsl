// sparse.indexer: DeepSeek-V3.2-Exp's lightning indexer, I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]).
// A GEMM with a fused epilogue: the rows are the (query, index head) pairs of q_index [T*Hi, Di] (the heads of a
// query are the M dimension, as in DeepGEMM's fp8_mqa_logits, so each index key is read once for all heads), the
// columns the keys of k_index [S, Di]. Heads are padded per query to hp (1, 2, 4, or a multiple of 8; padding
// heads weigh 0), so a thread's 8 rows are either one query's heads or whole queries. The epilogue applies ReLU
// and the head weight and sums each query's heads in registers; a query whose heads span several threads adds
// their sums once through workgroup memory. Causal: keys after a query's position score -inf.
//
//   main       (prefill, T > KEYS_MAX_T): the shared GEMM core (lib/gemm.wgsl gemm_block8): a workgroup owns a
//              64-row x 64-key tile, 8 x 8 per thread; 64 / hpb queries per tile (all heads of one query, 64 at
//              a time, when hp >= 64, the head blocks summed in the output). Tiles after the last query's
//              position only write -inf.
//   keys_main  (decode, T <= KEYS_MAX_T): no staging and at most one barrier. Each thread owns 8 keys and 8
//              heads at a time, read straight from global memory (16 vec4 loads per 4 dims feed 64 vec4 FMAs,
//              the same reuse as the GEMM core's shared reads); HG threads split a query's heads (head groups
//              hg, hg + HG, ...) and add their sums in workgroup memory. 64 / HG key groups per workgroup:
//              KPW = 512 / HG keys, so the keys are split over S / KPW workgroups.

// Generated from src/kernels/sparse/indexer.ts: the bindings params, q_index, k_index (vec4<elem>), w_index
// (elem), index_scores (f32); the constants KEYS_MAX_T (4) and the GEMM core's (64 x 64 blocks, BK 32, B as
// [N, K] rows); the core's tiles and red [KEYS_MAX_T * 64 * 2] (vec4: the 8 key sums of each thread, per query).
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

// 8 heads (h0 ..) x 8 keys (s0 ..) of query t from global memory: q · [k0 k1 k2 k3] as a vector-matrix product
// is 4 dot products. Heads past Hi and keys past S are clamped to the last one (their sums are discarded).
fn head_key_tile(t: u32, h0: u32, s0: u32) -> GemmAcc8 {
  let D4 = params.Di4;
  let qa = t * params.Hi;
  let hl = params.Hi - 1u;
  let q0 = (qa + min(h0, hl)) * D4;
  let q1 = (qa + min(h0 + 1u, hl)) * D4;
  let q2 = (qa + min(h0 + 2u, hl)) * D4;
  let q3 = (qa + min(h0 + 3u, hl)) * D4;
  let q4 = (qa + min(h0 + 4u, hl)) * D4;
  let q5 = (qa + min(h0 + 5u, hl)) * D4;
  let q6 = (qa + min(h0 + 6u, hl)) * D4;
  let q7 = (qa + min(h0 + 7u, hl)) * D4;
  let sl = params.S - 1u;
  let k0 = min(s0, sl) * D4;
  let k1 = min(s0 + 1u, sl) * D4;
  let k2 = min(s0 + 2u, sl) * D4;
  let k3 = min(s0 + 3u, sl) * D4;
  let k4 = min(s0 + 4u, sl) * D4;
  let k5 = min(s0 + 5u, sl) * D4;
  let k6 = min(s0 + 6u, sl) * D4;
  let k7 = min(s0 + 7u, sl) * D4;
  var a = GemmAcc8(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0),
                   vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var d = 0u; d < D4; d++) {
    let kl = mat4x4f(vec4f(k_index[k0 + d]), vec4f(k_index[k1 + d]), vec4f(k_index[k2 + d]), vec4f(k_index[k3 + d]));
    let kh = mat4x4f(vec4f(k_index[k4 + d]), vec4f(k_index[k5 + d]), vec4f(k_index[k6 + d]), vec4f(k_index[k7 + d]));
    var q = vec4f(q_index[q0 + d]);
    a.lo0 += q * kl;
    a.hi0 += q * kh;
    q = vec4f(q_index[q1 + d]);
    a.lo1 += q * kl;
    a.hi1 += q * kh;
    q = vec4f(q_index[q2 + d]);
    a.lo2 += q * kl;
    a.hi2 += q * kh;
    q = vec4f(q_index[q3 + d]);
    a.lo3 += q * kl;
    a.hi3 += q * kh;
    q = vec4f(q_index[q4 + d]);
    a.lo4 += q * kl;
    a.hi4 += q * kh;
    q = vec4f(q_index[q5 + d]);
    a.lo5 += q * kl;
    a.hi5 += q * kh;
    q = vec4f(q_index[q6 + d]);
    a.lo6 += q * kl;
    a.hi6 += q * kh;
    q = vec4f(q_index[q7 + d]);
    a.lo7 += q * kl;
    a.hi7 += q * kh;
  }
  return a;
}

@compute @workgroup_size(8, 8)
fn keys_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let HG = params.hg;
  let hg = li % HG;
  let s0 = linear_group(wg, nwg) * (512u / HG) + 8u * (li / HG);
  for (var t = 0u; t < params.T; t++) {
    var lo = vec4f(0.0);
    var hi = vec4f(0.0);
    for (var h0 = 8u * hg; h0 < params.Hi; h0 += 8u * HG) {
      let acc = head_key_tile(t, h0, s0);
      // ReLU before the (possibly negative) head weight; heads past Hi weigh 0.
      for (var i = 0u; i < 8u; i++) {
        let w = select(0.0, weight(t, min(h0 + i, params.Hi - 1u)), h0 + i < params.Hi);
        lo += w * max(gemm8_lo(acc, i), vec4f(0.0));
        hi += w * max(gemm8_hi(acc, i), vec4f(0.0));
      }
    }
    red[2u * (t * 64u + li)] = lo;
    red[2u * (t * 64u + li) + 1u] = hi;
  }
  // The threads of one key group are li .. li + HG - 1 (with HG = 1 each thread reads back its own sums).
  if (HG > 1u) { workgroupBarrier(); }
  if (hg != 0u) { return; }
  for (var t = 0u; t < params.T; t++) {
    var lo = vec4f(0.0);
    var hi = vec4f(0.0);
    for (var j = 0u; j < HG; j++) {
      lo += red[2u * (t * 64u + li + j)];
      hi += red[2u * (t * 64u + li + j) + 1u];
    }
    store_scores(t, s0, lo, hi, false);
  }
}
