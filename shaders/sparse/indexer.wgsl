// sparse.indexer: DeepSeek-V3.2-Exp's lightning indexer, I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]).
// It is a GEMM with a fused epilogue: rows are the (query, index head) pairs of q_index [T*Hi, Di] (its
// natural layout, so the heads of a query are the M dimension as in DeepGEMM's fp8_mqa_logits), columns the
// keys of k_index [S, Di]. A workgroup owns a 64-row x 64-key tile: all heads of one query (Hi >= 64: 64 at
// a time, summed over head blocks) or floor(64/Hi) whole queries, and a block of 64 keys, so decode spreads
// the keys over S/64 workgroups. The product is the shared GEMM core (lib/gemm.wgsl: 32-dim slices staged
// in workgroup memory, a 4-row x 4-key register block per thread); this file supplies its loaders and the
// epilogue, which applies ReLU and the head weight and sums each query's heads: in registers over a
// thread's 4 rows when they are heads of one query (Hi % 4 == 0), then across threads through workgroup
// memory. More than 64 heads: each head block adds to the partial sums in the output. Causal tiles entirely
// after the last query's position only write -inf.

// Generated from src/kernels/sparse/indexer.ts: the bindings params, q_index, k_index (vec4f), w_index,
// index_scores (f32); the constants WG (256), TR / TK (tile rows and keys, 64: the threads are 16 x 16),
// KPW and L (keys_main: keys per workgroup, lanes per key) and the GEMM core's; the workgroup arrays of the
// core, red [TR * 16] (epilogue partial sums, 4 keys per vec4: red[row * 16 + kq] per row, or red[rq * 16 +
// kq] per 4-row block), and lane_red where lane_sum needs it.
#include "lib/gemm.wgsl"
#include "lib/grid.wgsl"
#include "lib/infinity.wgsl"

// Tile row -> (query t, head j) in head block hb; z = 1 inside the tile's queries and heads.
fn row_query(t0: u32, hb: u32, row: u32) -> vec3<u32> {
  let qi = row / params.hpb;
  let t = t0 + qi;
  let j = hb * params.hpb + row % params.hpb;
  let ok = qi < params.qpt && t < params.T && j < params.Hi;
  return vec3<u32>(t, j, select(0u, 1u, ok));
}

// The GEMM core's loaders: A rows are the tile's (query, head) pairs of head block tile_hb, B rows (B^T:
// k_index is [S, Di]) the keys; zeros past Di, past S and for padding rows.
var<private> tile_t0: u32;
var<private> tile_hb: u32;

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  let rq = row_query(tile_t0, tile_hb, m);
  if (rq.z == 0u || k >= 4u * params.Di4) { return vec4f(0.0); }
  return q_index[(rq.x * params.Hi + rq.y) * params.Di4 + k / 4u];
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  if (n >= params.S || k >= 4u * params.Di4) { return vec4f(0.0); }
  return k_index[n * params.Di4 + k / 4u];
}

// Row i (< 4) of a thread's accumulators.
fn acc_row(a: GemmAcc, i: u32) -> vec4f {
  return select(select(a.r3, a.r2, i == 2u), select(a.r1, a.r0, i == 0u), i < 2u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  let qt = g / params.key_tiles;
  let t0 = qt * params.qpt;
  if (t0 >= params.T) { return; }
  let s0 = (g % params.key_tiles) * TK;
  let p_last = params.S - params.T + min(params.T, t0 + params.qpt) - 1u;
  let tx = lid % 16u;
  let ty = lid / 16u;
  let n_out = params.qpt * TK;
  // A whole tile after the last query's position is only -inf (written below).
  let live = params.causal == 0u || s0 <= p_last;
  let rows4 = params.hpb % 4u == 0u;

  if (live) {
    for (var hb = 0u; hb < params.head_blocks; hb++) {
      tile_t0 = t0;
      tile_hb = hb;
      let acc = gemm_block(0u, s0, 4u * params.Di4, vec2u(tx, ty), lid);
      // ReLU before the (possibly negative) head weight; padding rows weigh 0.
      var part = vec4<f32>(0.0);
      for (var i = 0u; i < 4u; i++) {
        let rq = row_query(t0, hb, ty * 4u + i);
        var w = 0.0;
        if (rq.z != 0u) { w = w_index[rq.x * params.Hi + rq.y]; }
        let v = w * max(acc_row(acc, i), vec4<f32>(0.0));
        if (rows4) { part += v; } else { red[(ty * 4u + i) * 16u + tx] = v; }
      }
      if (rows4) { red[ty * 16u + tx] = part; }
      workgroupBarrier();
      // Sum each query's heads (its hpb rows, or hpb / 4 row blocks); head blocks after the first add to what
      // the thread itself wrote before.
      for (var o = lid; o < n_out; o += WG) {
        let t = t0 + o / TK;
        let s = s0 + o % TK;
        if (t < params.T && s < params.S) {
          var sum = 0.0;
          if (rows4) {
            let base = (o / TK) * (params.hpb / 4u);
            for (var jj = 0u; jj < params.hpb / 4u; jj++) { sum += red[(base + jj) * 16u + (o % TK) / 4u][o % 4u]; }
          } else {
            let base = (o / TK) * params.hpb;
            for (var jj = 0u; jj < params.hpb; jj++) { sum += red[(base + jj) * 16u + (o % TK) / 4u][o % 4u]; }
          }
          if (hb > 0u) { sum += index_scores[t * params.S + s]; }
          index_scores[t * params.S + s] = sum;
        }
      }
      workgroupBarrier();
    }
  }

  if (params.causal != 0u) {
    for (var o = lid; o < n_out; o += WG) {
      let t = t0 + o / TK;
      let s = s0 + o % TK;
      if (t < params.T && s < params.S && s > params.S - params.T + t) { index_scores[t * params.S + s] = neg_inf(); }
    }
  }
}

// keys_main, the few-query path (decode, speculative decode, T <= 4): a GEMM tile would hold only T * Hi of its
// 64 rows per query tile and, on CPU-emulated GPUs, its staging and barriers cost more than they save. Here a
// workgroup owns KPW keys and each key is scored by L = 4 consecutive threads, each over every 4th head (its
// q row and head weight are cached reads), streaming the key's k row from global memory; lane_sum
// (shaders/lib/lane-sum-*.wgsl: a subgroup butterfly, or workgroup memory without subgroups, appended by the
// host) adds the 4 partial sums. The keys are spread over S / KPW workgroups, KPW * Di * 4 bytes of index keys each.

@compute @workgroup_size(WG)
fn keys_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = linear_group(wg, nwg) * KPW + lid / L;
  let lane = lid % L;
  for (var t = 0u; t < params.T; t++) {
    let visible = s < params.S && (params.causal == 0u || s <= params.S - params.T + t);
    var score = 0.0;
    if (visible) {
      for (var j = lane; j < params.Hi; j += L) {
        let qrow = (t * params.Hi + j) * params.Di4;
        var dot = vec4<f32>(0.0);
        for (var d4 = 0u; d4 < params.Di4; d4++) { dot += q_index[qrow + d4] * k_index[s * params.Di4 + d4]; }
        // ReLU before the (possibly negative) head weight.
        score += w_index[t * params.Hi + j] * max(dot.x + dot.y + dot.z + dot.w, 0.0);
      }
    }
    let total = lane_sum(vec4<f32>(score, 0.0, 0.0, 0.0), lid).x;
    if (lane == 0u && s < params.S) { index_scores[t * params.S + s] = select(neg_inf(), total, visible); }
  }
}
