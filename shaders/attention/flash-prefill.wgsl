// attention.flash_prefill: FlashAttention (Dao et al. 2022) with FlashAttention-2's split of the query rows
// over workgroups, in one dispatch. Nothing but `out` is written to memory.
//
// A workgroup owns BR = 4 * RQ rows of ONE KV head. Row rr = t * G + g is query t through the g-th query
// head of the GQA group (G = Hq / Hkv), so every K/V tile the workgroup stages serves all G heads of about
// BR / G queries: K and V are read once per row block, not once per query head. Rows go in quads: a quad's
// 4 scores (or probabilities) of one key travel as one vec4. Per K/V tile of BK keys (four barriers):
//   1. stage K (rows padded by one vec4 against bank conflicts) and V in workgroup memory (vec4 loads,
//      coalesced along D; keys past S are zeros);
//   2. S = Q K^T in register micro-tiles of 4 rows x 4 keys: per vec4 chunk of D, 4 q and 4 k loads feed
//      16 dot products; the tile of scores (log2 units: q is pre-scaled by scale * log2 e) goes to
//      workgroup memory, masked keys as NEG_INF;
//   3. one invocation per row quad: the tile's row maxima, the running max m and alpha = 2^(m_old - m); then each
//      score becomes p = 2^(s - m), computed once per (row, key);
//   4. O += P V: invocation (quad rq, vec4 column col, key lane kl) keeps the quad's 4 accumulators of its
//      column in registers, rescales them by alpha, and adds p_j * v_j over its keys of the tile (p_j is one
//      broadcast vec4, v_j one vec4), summing p_j into the 4 row sums as it goes.
// All per-invocation state is named vec4s (no arrays indexed in loops: on CPU emulation those become memory).
// Causal: a block stops at the last key its last row can see (tiles above the diagonal are never loaded),
// and blocks are scheduled longest first so the last wave is short ones.
// The output is acc / l (0 for a row that saw no key, like the reference).
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic is f32.

// Generated from src/kernels/attention/flash-prefill.ts: the bindings params, q, k, v, out (vec4<elem>); the
// constants WG (invocations per workgroup), RQ (row quads per workgroup, RQ * D / 4 <= WG) and BK (keys per
// K/V tile, a multiple of 4); the workgroup arrays q_tile (BR q rows, row stride D / 4; at the end, the
// key-lane sums), k_tile (row stride D / 4 + 1) and v_tile (vec4<elem>, BK rows), probs ([quad][key]: 4
// scores, then 4 probabilities), row_m, row_alpha (BR each) and lane_l (per key lane and quad: its 4 row sums).
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/flash-quad.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let G = params.group;
  let rows = params.T * G; // rows of one KV head
  let BR = 4u * RQ;
  let blocks = (rows + BR - 1u) / BR;
  let wid = linear_group(wg, nwg);
  if (wid >= blocks * params.Hkv) { return; } // the whole workgroup leaves: barriers below stay uniform
  let kvh = wid % params.Hkv;
  // Longest first: under the causal mask the last row blocks see the most keys.
  let row0 = (blocks - 1u - wid / params.Hkv) * BR;
  let D4 = params.D / 4u;
  let DP = D4 + 1u; // padded k_tile row
  let stride = params.Hkv * D4; // vec4s from one key to the next in k and v

  // Keys the whole block may see (uniform): the causal diagonal of its last row.
  let last_t = (min(row0 + BR, rows) - 1u) / G;
  let block_end = select(params.S, params.S - params.T + last_t + 1u, params.causal != 0u);

  // Stage the block's q rows (dead rows past the last query are zeros).
  let qscale = params.scale * LOG2E;
  for (var idx = tid; idx < BR * D4; idx += WG) {
    let rr = row0 + idx / D4;
    var qq = vec4f(0.0);
    if (rr < rows) {
      qq = vec4f(q[((rr / G) * params.Hq + kvh * G + rr % G) * D4 + idx % D4]) * qscale;
    }
    q_tile[idx] = qq;
  }
  if (tid < BR) {
    row_m[tid] = NEG_INF;
  }

  // P.V roles: quad pq, column col, key lane kl of KL (invocations past KL * RQ * D4 only score).
  let KL = WG / (RQ * D4);
  let col = tid % D4;
  let pq = (tid / D4) % RQ;
  let kl = tid / (D4 * RQ);
  var acc = QuadAcc();

  for (var kb = 0u; kb < block_end; kb += BK) {
    let n = min(BK, block_end - kb);
    // 1. Stage the tile (the previous tile's readers passed the barrier at the end of the loop).
    for (var idx = tid; idx < BK * D4; idx += WG) {
      let j = idx / D4;
      let c = idx % D4;
      var kk = vec4<elem>(0.0);
      var vv = vec4<elem>(0.0);
      if (j < n) {
        let g = (kb + j) * stride + kvh * D4 + c;
        kk = k[g];
        vv = v[g];
      }
      k_tile[j * DP + c] = kk;
      v_tile[idx] = vv;
    }
    workgroupBarrier();

    // 2. Scores, micro-tile (quad sq, keys 4 kq .. 4 kq + 3) per task.
    for (var task = tid; task < RQ * (BK / 4u); task += WG) {
      let sq = task % RQ;
      let kq = task / RQ;
      var s0 = vec4f(0.0);
      var s1 = vec4f(0.0);
      var s2 = vec4f(0.0);
      var s3 = vec4f(0.0);
      if (4u * kq < n) {
        let qb = 4u * sq * D4;
        let kbase = 4u * kq * DP;
        for (var c = 0u; c < D4; c++) {
          let q0 = q_tile[qb + c];
          let q1 = q_tile[qb + D4 + c];
          let q2 = q_tile[qb + 2u * D4 + c];
          let q3 = q_tile[qb + 3u * D4 + c];
          s0 += quad_score(q0, q1, q2, q3, vec4f(k_tile[kbase + c]));
          s1 += quad_score(q0, q1, q2, q3, vec4f(k_tile[kbase + DP + c]));
          s2 += quad_score(q0, q1, q2, q3, vec4f(k_tile[kbase + 2u * DP + c]));
          s3 += quad_score(q0, q1, q2, q3, vec4f(k_tile[kbase + 3u * DP + c]));
        }
      }
      // Visible: key < block_end (covers S) and, causally, key <= the row's position S - T + t.
      var last = vec4i(-1);
      for (var x = 0u; x < 4u; x++) {
        let rr = row0 + 4u * sq + x;
        if (rr < rows) {
          last[x] = select(i32(params.S) - 1, i32(params.S - params.T + rr / G), params.causal != 0u);
        }
      }
      let key = i32(kb + 4u * kq);
      let lim = i32(kb + n) - 1;
      let o = sq * BK + 4u * kq;
      probs[o] = select(vec4f(NEG_INF), s0, vec4i(key) <= min(last, vec4i(lim)));
      probs[o + 1u] = select(vec4f(NEG_INF), s1, vec4i(key + 1) <= min(last, vec4i(lim)));
      probs[o + 2u] = select(vec4f(NEG_INF), s2, vec4i(key + 2) <= min(last, vec4i(lim)));
      probs[o + 3u] = select(vec4f(NEG_INF), s3, vec4i(key + 3) <= min(last, vec4i(lim)));
    }
    workgroupBarrier();

    // 3. One invocation per quad (whole vec4s: no lane-varying component index): the tile's row maxima,
    //    the running maxima, alpha, then p in place.
    if (tid < RQ) {
      var mx = vec4f(NEG_INF);
      for (var j = 0u; j < n; j++) {
        mx = max(mx, probs[tid * BK + j]);
      }
      let qb = 4u * tid;
      let m_old = vec4f(row_m[qb], row_m[qb + 1u], row_m[qb + 2u], row_m[qb + 3u]);
      let m_new = max(m_old, mx);
      let alpha = exp2(m_old - m_new);
      for (var x = 0u; x < 4u; x++) {
        row_alpha[qb + x] = alpha[x];
        row_m[qb + x] = m_new[x];
      }
      for (var j = 0u; j < n; j++) {
        let sc = probs[tid * BK + j];
        probs[tid * BK + j] = select(vec4f(0.0), exp2(sc - m_new), sc > vec4f(NEG_INF));
      }
    }
    workgroupBarrier();

    // 4. O += P V for this invocation's quad and column, over its key lane's keys.
    if (kl < KL) {
      let ab = 4u * pq;
      let alpha = vec4f(row_alpha[ab], row_alpha[ab + 1u], row_alpha[ab + 2u], row_alpha[ab + 3u]);
      quad_rescale(&acc, alpha);
      for (var j = kl; j < n; j += KL) {
        let p = probs[pq * BK + j];
        let vv = vec4f(v_tile[j * D4 + col]);
        quad_add(&acc, p, vv);
      }
    }
    workgroupBarrier(); // the next tile overwrites the tiles, probs and row_alpha
  }

  // Add the key lanes (q_tile is free now): lane 0 keeps the total, one lane at a time.
  if (kl < KL && col == 0u) {
    lane_l[kl * RQ + pq] = acc.l;
  }
  let qo = 4u * pq * D4 + col;
  for (var other = 1u; other < KL; other++) {
    if (kl == other) {
      q_tile[qo] = acc.r0;
      q_tile[qo + D4] = acc.r1;
      q_tile[qo + 2u * D4] = acc.r2;
      q_tile[qo + 3u * D4] = acc.r3;
    }
    workgroupBarrier();
    if (kl == 0u) {
      acc.r0 += q_tile[qo];
      acc.r1 += q_tile[qo + D4];
      acc.r2 += q_tile[qo + 2u * D4];
      acc.r3 += q_tile[qo + 3u * D4];
    }
    workgroupBarrier();
  }
  workgroupBarrier(); // lane_l is read below (also when there is a single key lane)
  if (kl == 0u) {
    var l = vec4f(0.0);
    for (var i = 0u; i < KL; i++) {
      l += lane_l[i * RQ + pq];
    }
    for (var x = 0u; x < 4u; x++) {
      let rr = row0 + 4u * pq + x;
      if (rr < rows) {
        let grow = (rr / G) * params.Hq + kvh * G + rr % G; // row of out: t * Hq + h
        let total = quad_row(acc, x);
        out[grow * D4 + col] = vec4<elem>(total * select(0.0, 1.0 / l[x], l[x] > 0.0));
      }
    }
  }
}
