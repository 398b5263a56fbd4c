// mla.decode_absorbed: DeepSeek-V3's attn_impl = "absorb", split-K over the latent cache (flash decoding),
// heads as the M dimension of the tile (FlashMLA).
//   1. absorb_main : q_abs[t,h] = scale * log2(e) * [q_nope[t,h] W_UK[h] , q_pe[t,h]]   ([d_c + d_rope] per head)
//                    one invocation per (t, h, column) in ABSORB_WG-invocation workgroups, so W_UK streams in
//                    slices of ABSORB_WG * 4 B * dn (32 KiB at dn = 128) from many workgroups
//   2. split_main  : per (query t, block of 4*HQ heads, key range): scores of every head of the block against
//                    every latent row [c_KV[s], k_pe[s]] of the range, online softmax (base 2), o[h] += p c_KV[s]
//                    (the values are the latent rows themselves); writes the unnormalised o, the max m and the
//                    sum l of its range
//   3. merge_main  : per (t, h, WG latent columns): the log-sum-exp merge of the ranges (lib/lse-merge.wgsl);
//                    the merged latent o[t,h] goes back into q_abs's row, no longer read
//   4. uv_main     : out[t,h] = W_UV[h] o[t,h], a coalesced GEMV (the TPR lanes of a weight row read adjacent
//                    floats of it, summed by row_sum) over tiles of MT queries, W_UV read once per tile
//
// split_main, for one tile of BK keys (3 barriers):
//   a. scores: invocation (head quad hq, key pair kq, slice ks) dots the 4 heads' queries with 2 keys over the
//      columns ks, ks + KS, ... (adjacent invocations read adjacent floats of one latent row and of the query
//      rows: coalesced on a GPU, one vector load per SIMD group on CPU emulation); the KS slices meet in `red`.
//      Every loaded key value serves 4 heads and every query value 2 keys: the heads are the M dimension, so the
//      cache streams from memory once per block of heads (once for H <= 4 * HQ), not once per head.
//   b. invocation (hq, key j) adds the slices into the key's 4 scores (a vec4 over the quad's heads).
//   c. the same invocation takes the tile's max per head, keeps the running max m (every invocation of a quad
//      computes the same value, so it never needs sharing), turns its key's scores into p = 2^(s - m) (one exp2
//      per score), and key 0's invocation publishes alpha = 2^(m_old - m) for the quad.
//   d. P.V: invocation (hq, column group cg) rescales its accumulators (8 latent columns cg + i * CG, each a vec4
//      over the quad's heads, in named registers) and adds p_j * c_KV[j][column] for the tile's keys: one
//      broadcast p per key feeds 32 multiply-adds; the quad's row sums ride along.
//
// Generated from src/kernels/mla/decode-absorbed.ts: the bindings params, q_nope [T, H, dn], q_pe [T, H, dr],
// kv_latent [S, dc], k_pe [S, dr], wkv_b [H*(dn+dv), dc] (per head its W_UK rows, then its W_UV rows),
// q_abs [T*H, dc+dr] (f32), part [T*H, splits, dc] then [T*H, splits, 2] (m, l) (f32) and out [T, H, dv];
// the constants of the layout (SPLIT_WG = HQ * CG, BK = 2 * KQ, KS, ABSORB_WG, WG for merge and uv, TPR, RPW,
// MT) and the workgroup arrays red, scores_ws, probs_ws, alpha_ws, m_ws, weights, reduce_scratch.
// row_sum and its lane variant are appended by the host. `elem` is f32 or f16 storage; arithmetic is f32.
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/online-softmax.wgsl"
#include "lib/lse-merge.wgsl"
#include "lib/workgroup-reduce.wgsl"

// One invocation per (t, h, column of q_abs): adjacent invocations read adjacent floats of W_UK's rows.
@compute @workgroup_size(ABSORB_WG)
fn absorb_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let dk = params.dc + params.dr;
  let i = linear_group(wg, nwg) * ABSORB_WG + lid;
  if (i >= params.T * params.H * dk) { return; }
  let row = i / dk;
  let col = i % dk;
  var v = 0.0;
  if (col < params.dc) {
    let h = row % params.H;
    let w = h * (params.dn + params.dv) * params.dc + col;
    for (var d = 0u; d < params.dn; d++) {
      v += f32(q_nope[row * params.dn + d]) * f32(wkv_b[w + d * params.dc]);
    }
  } else {
    v = f32(q_pe[row * params.dr + col - params.dc]);
  }
  q_abs[i] = v * (params.scale * LOG2E);
}

// 2^(s - m) per head of a quad, exactly 0 for a masked score.
fn quad_exp2(s: vec4f, m: vec4f) -> vec4f {
  return vec4f(masked_exp2(s.x, m.x), masked_exp2(s.y, m.y), masked_exp2(s.z, m.z), masked_exp2(s.w, m.w));
}

// Column c of the 4 query rows at offsets qr (a quad's heads).
fn quad_q(qr: vec4u, c: u32) -> vec4f {
  return vec4f(q_abs[qr.x + c], q_abs[qr.y + c], q_abs[qr.z + c], q_abs[qr.w + c]);
}

@compute @workgroup_size(SPLIT_WG)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.T * params.blocks * params.splits) { return; } // uniform per workgroup: the barriers are safe
  let split = g % params.splits;
  let block = (g / params.splits) % params.blocks;
  let t = g / (params.splits * params.blocks);
  let dc = params.dc;
  let dr = params.dr;
  let dk = dc + dr;
  let head0 = block * 4u * HQ; // first head of the block

  // Keys of this workgroup: its split's range, cut at the causal horizon of query t (may be empty).
  let horizon = select(params.S, min(params.S, params.S - params.T + t + 1u), params.causal != 0u);
  let s_begin = split * params.keys_per_split;
  let s_end = min(s_begin + params.keys_per_split, horizon);

  // Roles. a: (hq, kq, ks); b, c: (hq, j); d: (hq, cg). A head past H reads head H-1 and is never stored.
  let a_hq = lid / CG;
  let a_kq = (lid % CG) / KS;
  let a_ks = lid % KS;
  let a_on = a_kq < KQ;
  let last_row = t * params.H + params.H - 1u;
  let qrow = t * params.H + head0 + 4u * a_hq;
  let qr = min(vec4u(qrow) + vec4u(0u, 1u, 2u, 3u), vec4u(last_row)) * dk;
  let b_hq = lid / BK;
  let b_j = lid % BK;
  let b_on = lid < HQ * BK;
  let d_hq = lid / CG;
  let d_cg = lid % CG;
  // Role d's 8 latent columns cg + i * CG; one past d_c reads column dc - 1 and is never stored.
  let col = min(vec4u(d_cg) + vec4u(0u, 1u, 2u, 3u) * CG, vec4u(dc - 1u));
  let col4 = min(vec4u(d_cg + 4u * CG) + vec4u(0u, 1u, 2u, 3u) * CG, vec4u(dc - 1u));

  var m_run = vec4f(NEG_INF); // role c: the quad's running max (the same in every invocation of the quad)
  var l_run = vec4f(0.0); // role d: the quad's running sum
  // Role d: o_i = the quad's 4 heads at latent column cg + i * CG (a vec4 over heads, named: an array indexed
  // in a loop lives in memory on CPU emulation).
  var o0 = vec4f(0.0);
  var o1 = vec4f(0.0);
  var o2 = vec4f(0.0);
  var o3 = vec4f(0.0);
  var o4 = vec4f(0.0);
  var o5 = vec4f(0.0);
  var o6 = vec4f(0.0);
  var o7 = vec4f(0.0);

  for (var s0 = s_begin; s0 < s_end; s0 += BK) {
    let n = min(BK, s_end - s0);
    // a. Partial scores of keys ka, kb over this slice's columns (a key past the range reads row s_end - 1
    //    and is masked in b): adjacent invocations read adjacent floats of one latent row.
    if (a_on) {
      let ka = min(s0 + 2u * a_kq, s_end - 1u);
      let kb = min(s0 + 2u * a_kq + 1u, s_end - 1u);
      var sa = vec4f(0.0);
      var sb = vec4f(0.0);
      for (var c = a_ks; c < dc; c += KS) {
        let q = quad_q(qr, c);
        sa += q * f32(kv_latent[ka * dc + c]);
        sb += q * f32(kv_latent[kb * dc + c]);
      }
      for (var c = a_ks; c < dr; c += KS) {
        let q = quad_q(qr, dc + c);
        sa += q * f32(k_pe[ka * dr + c]);
        sb += q * f32(k_pe[kb * dr + c]);
      }
      red[2u * lid] = sa;
      red[2u * lid + 1u] = sb;
    }
    workgroupBarrier();
    // b. The key's 4 scores, NEG_INF past the range.
    var sc = vec4f(NEG_INF);
    if (b_on) {
      let first = b_hq * CG + (b_j / 2u) * KS;
      var sum = vec4f(0.0);
      for (var x = 0u; x < KS; x++) { sum += red[2u * (first + x) + b_j % 2u]; }
      if (b_j < n) { sc = sum; }
      scores_ws[lid] = sc;
    }
    workgroupBarrier();
    // c. Tile max, running max, probabilities.
    if (b_on) {
      var tmax = vec4f(NEG_INF);
      for (var j = 0u; j < n; j++) { tmax = max(tmax, scores_ws[b_hq * BK + j]); }
      let mx = online_max(m_run.x, tmax.x);
      let my = online_max(m_run.y, tmax.y);
      let mz = online_max(m_run.z, tmax.z);
      let mw = online_max(m_run.w, tmax.w);
      m_run = vec4f(mx.m, my.m, mz.m, mw.m);
      probs_ws[lid] = quad_exp2(sc, m_run);
      if (b_j == 0u) { alpha_ws[b_hq] = vec4f(mx.alpha, my.alpha, mz.alpha, mw.alpha); }
    }
    workgroupBarrier();
    // d. P.V: o_i += p_j * c_KV[j][column i], a vec4 over the quad's heads.
    let alpha = alpha_ws[d_hq];
    o0 *= alpha;
    o1 *= alpha;
    o2 *= alpha;
    o3 *= alpha;
    o4 *= alpha;
    o5 *= alpha;
    o6 *= alpha;
    o7 *= alpha;
    l_run *= alpha;
    for (var j = 0u; j < n; j++) {
      let p = probs_ws[d_hq * BK + j];
      let v = (s0 + j) * dc;
      o0 += p * f32(kv_latent[v + col.x]);
      o1 += p * f32(kv_latent[v + col.y]);
      o2 += p * f32(kv_latent[v + col.z]);
      o3 += p * f32(kv_latent[v + col.w]);
      o4 += p * f32(kv_latent[v + col4.x]);
      o5 += p * f32(kv_latent[v + col4.y]);
      o6 += p * f32(kv_latent[v + col4.z]);
      o7 += p * f32(kv_latent[v + col4.w]);
      l_run += p;
    }
    // The next tile writes red first (read only in b), and scores_ws / probs_ws / alpha_ws only after its
    // first barrier, so no barrier is needed here.
  }

  // The quad's max, from role c to role d (an empty range leaves NEG_INF, l = 0, o = 0).
  if (b_on && b_j == 0u) { m_ws[b_hq] = m_run; }
  workgroupBarrier();
  let h0 = head0 + 4u * d_hq;
  let m = m_ws[d_hq];
  store_partial(t, h0, split, d_cg, m.x, l_run.x, vec4f(o0.x, o1.x, o2.x, o3.x), vec4f(o4.x, o5.x, o6.x, o7.x));
  store_partial(t, h0 + 1u, split, d_cg, m.y, l_run.y, vec4f(o0.y, o1.y, o2.y, o3.y), vec4f(o4.y, o5.y, o6.y, o7.y));
  store_partial(t, h0 + 2u, split, d_cg, m.z, l_run.z, vec4f(o0.z, o1.z, o2.z, o3.z), vec4f(o4.z, o5.z, o6.z, o7.z));
  store_partial(t, h0 + 3u, split, d_cg, m.w, l_run.w, vec4f(o0.w, o1.w, o2.w, o3.w), vec4f(o4.w, o5.w, o6.w, o7.w));
}

fn ml_base() -> u32 {
  return params.T * params.H * params.splits * params.dc;
}

// Head h's partial of one split from column group cg: its columns cg + i * CG inside d_c (a holds i < 4, b
// i >= 4), and from group 0 the (m, l) pair.
fn store_partial(t: u32, h: u32, split: u32, cg: u32, m: f32, l: f32, a: vec4f, b: vec4f) {
  let dc = params.dc;
  if (h >= params.H) { return; }
  let pr = (t * params.H + h) * params.splits + split;
  let o = pr * dc + cg;
  if (cg < dc) { part[o] = a.x; }
  if (cg + CG < dc) { part[o + CG] = a.y; }
  if (cg + 2u * CG < dc) { part[o + 2u * CG] = a.z; }
  if (cg + 3u * CG < dc) { part[o + 3u * CG] = a.w; }
  if (cg + 4u * CG < dc) { part[o + 4u * CG] = b.x; }
  if (cg + 5u * CG < dc) { part[o + 5u * CG] = b.y; }
  if (cg + 6u * CG < dc) { part[o + 6u * CG] = b.z; }
  if (cg + 7u * CG < dc) { part[o + 7u * CG] = b.w; }
  if (cg == 0u) {
    part[ml_base() + 2u * pr] = m;
    part[ml_base() + 2u * pr + 1u] = l;
  }
}

// One workgroup per (t, h, WG latent columns): M = max_i m_i and L = sum_i 2^(m_i - M) l_i over the splits
// (recomputed by each column chunk of a head: 2 floats per split), the weights kept in workgroup memory,
// then each invocation sums its column over the splits.
@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let dc = params.dc;
  let chunks = (dc + WG - 1u) / WG;
  let g = linear_group(wg, nwg);
  if (g >= params.T * params.H * chunks) { return; } // uniform per workgroup
  let row = g / chunks;
  let c = (g % chunks) * WG + lid;
  let base = row * params.splits;
  let ml = ml_base() + 2u * base;

  var mx = NEG_INF;
  for (var i = lid; i < params.splits; i += WG) { mx = max(mx, part[ml + 2u * i]); }
  let big_m = workgroup_max(lid, mx);
  var lsum = 0.0;
  for (var i = lid; i < params.splits; i += WG) {
    let w = lse_weight(part[ml + 2u * i], big_m);
    weights[i] = w;
    lsum += w * part[ml + 2u * i + 1u];
  }
  let inv = safe_reciprocal(workgroup_sum(lid, lsum)); // its barriers also publish `weights`
  if (c < dc) {
    var acc = 0.0;
    for (var i = 0u; i < params.splits; i++) { acc += weights[i] * part[(base + i) * dc + c]; }
    q_abs[row * (dc + params.dr) + c] = acc * inv;
  }
}

// Workgroup (query tile, block of RPW output rows (h, d)): out[t, h, d] = W_UV[h][d] . o[t, h].
@compute @workgroup_size(WG)
fn uv_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let t0 = wg.x * MT;
  let rows = min(params.T - t0, MT);
  let n = wg.y * RPW + lanes.p / TPR; // h * dv + d
  let h = n / params.dv;
  let d = n % params.dv;
  let dk = params.dc + params.dr;
  // o rows of queries t0 .. t0+3 (past the tile: its last query again, computed and not stored)
  let o = (min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(t0 + rows - 1u)) * params.H + h) * dk;
  var acc = vec4f(0.0);
  if (n < params.H * params.dv) {
    let w = (h * (params.dn + params.dv) + params.dn + d) * params.dc;
    for (var k = lanes.p % TPR; k < params.dc; k += TPR) {
      let wv = f32(wkv_b[w + k]);
      if (rows == 1u) {
        acc.x += wv * q_abs[o.x + k];
      } else {
        acc += wv * vec4f(q_abs[o.x + k], q_abs[o.y + k], q_abs[o.z + k], q_abs[o.w + k]);
      }
    }
  }
  let sums = row_sum(acc, lanes);
  if (lanes.p % TPR == 0u && n < params.H * params.dv) {
    for (var r = 0u; r < rows; r++) { out[(t0 + r) * params.H * params.dv + n] = elem(sums[r]); }
  }
}
