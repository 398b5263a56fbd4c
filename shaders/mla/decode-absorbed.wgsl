// mla.decode_absorbed: DeepSeek-V3's attn_impl = "absorb", split-K over the latent cache (flash decoding),
// heads as the M dimension of the tile (FlashMLA).
//   1. absorb_main : q_abs[t,h] = scale * log2(e) * [q_nope[t,h] W_UK[h] , q_pe[t,h]]   ([d_c + d_rope] per head)
//                    4 columns per invocation in ABSORB_WG-invocation workgroups, so W_UK streams in slices of
//                    4 * ABSORB_WG * 4 B * dn (64 KiB at dn = 128) from many workgroups
//   2. split_main  : per (query t, block of 8*HO heads, key range): scores of every head of the block against
//                    every latent row [c_KV[s], k_pe[s]] of the range, online softmax (base 2), o[h] += p c_KV[s]
//                    (the values are the latent rows themselves); writes the unnormalised o, the max m and the
//                    sum l of its range
//   3. merge_main  : per (t, h, WG latent columns): the log-sum-exp merge of the ranges (lib/lse-merge.wgsl);
//                    the merged latent o[t,h] goes back into q_abs's row, no longer read
//   4. uv_main     : out[t,h] = W_UV[h] o[t,h], a coalesced GEMV (the TPR lanes of 4 weight rows read adjacent
//                    floats of them, summed by row_sum2) over tiles of MT queries, W_UV read once per tile
//
// split_main, for one tile of BK keys (4 barriers). On CPU emulation every load is one per invocation, so what
// counts is the multiply-adds each loaded value feeds; on a GPU the same register tiles keep the loads few.
//   a. scores: invocation (head octet ho, key quad kq, slice ks) dots 8 heads' queries with 4 keys over the
//      columns ks, ks + KS, ... (adjacent invocations read adjacent floats of each row: coalesced): 12 values
//      loaded per 32 multiply-adds; the KS slices meet in `red`. The heads are the M dimension of the tile, so
//      the cache streams from memory once per block of 8 * HO heads, not once per head.
//   b. invocation (head quad q, key j) adds the slices into the key's 4 scores (a vec4 over the quad's heads).
//   c. key 0's invocation of each quad: the tile's max, the running max m and alpha = 2^(m_old - m); then every
//      (q, j) turns its scores into p = 2^(s - m) (one exp2 per score).
//   d. P.V: invocation (octet, column group cg) rescales its accumulators (8 latent columns cg + i * CG for 8
//      heads, named vec4s over a quad's heads: an array indexed in a loop lives in memory on CPU emulation) and
//      adds p_j * c_KV[j][column] for the tile's keys: 16 values loaded per 64 multiply-adds. Key 0's
//      invocation of each quad keeps the running sum l.

// Generated from src/kernels/mla/decode-absorbed.ts: the bindings params, q_nope [T, H, dn], q_pe [T, H, dr],
// kv_latent [S, dc], k_pe [S, dr], wkv_b [H*(dn+dv), dc] (per head its W_UK rows, then its W_UV rows),
// q_abs [T*H, dc+dr] (f32), part [T*H, splits, dc] then [T*H, splits, 2] (m, l) (f32) and out [T, H, dv];
// the constants of the layout (SPLIT_WG = HO * CG, BK = 4 * KQ, KS, ABSORB_WG, WG for merge and uv, TPR, RPW,
// MT) and the workgroup arrays red, scores_ws, probs_ws, alpha_ws, m_ws, l_ws, weights, reduce_scratch.
// row_sum and its lane variant are appended by the host. `elem` is f32 or f16 storage; arithmetic is f32.
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/online-softmax.wgsl"
#include "lib/lse-merge.wgsl"
#include "lib/workgroup-reduce.wgsl"

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

// 2^(s - m) per head of a quad, exactly 0 for a masked score.
fn quad_exp2(s: vec4f, m: vec4f) -> vec4f {
  return vec4f(masked_exp2(s.x, m.x), masked_exp2(s.y, m.y), masked_exp2(s.z, m.z), masked_exp2(s.w, m.w));
}

// Column c of the 4 query rows at offsets qr (a quad's heads).
fn quad_q(qr: vec4u, c: u32) -> vec4f {
  return vec4f(q_abs[qr.x + c], q_abs[qr.y + c], q_abs[qr.z + c], q_abs[qr.w + c]);
}

// Offsets of the query rows of heads h .. h+3 of query t (a head past H reads head H-1).
fn quad_rows(t: u32, h: u32, dk: u32) -> vec4u {
  return (t * params.H + min(vec4u(h) + vec4u(0u, 1u, 2u, 3u), vec4u(params.H - 1u))) * dk;
}

// Partial scores of role a: 2 head quads (A, B) x 4 keys, each a vec4 over a quad's heads.
struct Scores8x4 {
  a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f,
  b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f,
}

// Adds column c (query values qa, qb; key values k) to the partial scores.
fn score_column(s: ptr<function, Scores8x4>, qa: vec4f, qb: vec4f, k: vec4f) {
  (*s).a0 += qa * k.x;
  (*s).a1 += qa * k.y;
  (*s).a2 += qa * k.z;
  (*s).a3 += qa * k.w;
  (*s).b0 += qb * k.x;
  (*s).b1 += qb * k.y;
  (*s).b2 += qb * k.z;
  (*s).b3 += qb * k.w;
}

// P.V accumulators of role d: 8 latent columns for head quad A and for head quad B, each a vec4 over 4 heads.
struct Acc8x8 {
  a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f,
  b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f, b4: vec4f, b5: vec4f, b6: vec4f, b7: vec4f,
}

fn acc_scale(o: ptr<function, Acc8x8>, fa: vec4f, fb: vec4f) {
  (*o).a0 *= fa; (*o).a1 *= fa; (*o).a2 *= fa; (*o).a3 *= fa; (*o).a4 *= fa; (*o).a5 *= fa; (*o).a6 *= fa; (*o).a7 *= fa;
  (*o).b0 *= fb; (*o).b1 *= fb; (*o).b2 *= fb; (*o).b3 *= fb; (*o).b4 *= fb; (*o).b5 *= fb; (*o).b6 *= fb; (*o).b7 *= fb;
}

// o += p x v for one key: p the 8 heads' probabilities (pa, pb), v = (v0, v1) its 8 latent values.
fn acc_add(o: ptr<function, Acc8x8>, pa: vec4f, pb: vec4f, v0: vec4f, v1: vec4f) {
  (*o).a0 += pa * v0.x; (*o).a1 += pa * v0.y; (*o).a2 += pa * v0.z; (*o).a3 += pa * v0.w;
  (*o).a4 += pa * v1.x; (*o).a5 += pa * v1.y; (*o).a6 += pa * v1.z; (*o).a7 += pa * v1.w;
  (*o).b0 += pb * v0.x; (*o).b1 += pb * v0.y; (*o).b2 += pb * v0.z; (*o).b3 += pb * v0.w;
  (*o).b4 += pb * v1.x; (*o).b5 += pb * v1.y; (*o).b6 += pb * v1.z; (*o).b7 += pb * v1.w;
}

// 4 values of the latent cache (c_KV) and of the RoPE key cache, at element indices i.
fn latent_at(i: vec4u) -> vec4f {
  return vec4f(f32(kv_latent[i.x]), f32(kv_latent[i.y]), f32(kv_latent[i.z]), f32(kv_latent[i.w]));
}

fn rope_at(i: vec4u) -> vec4f {
  return vec4f(f32(k_pe[i.x]), f32(k_pe[i.y]), f32(k_pe[i.z]), f32(k_pe[i.w]));
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
  let head0 = block * 8u * HO; // first head of the block

  // Keys of this workgroup: its split's range, cut at the causal horizon of query t (may be empty).
  let horizon = select(params.S, min(params.S, params.S - params.T + t + 1u), params.causal != 0u);
  let s_begin = split * params.keys_per_split;
  let s_end = min(s_begin + params.keys_per_split, horizon);

  // Roles. a: (octet ao, key quad kq, slice ks); b, c: (quad, key j); d: (octet, column group cg).
  let a_ho = lid / (KQ * KS);
  let a_kq = (lid / KS) % KQ;
  let a_ks = lid % KS;
  let a_on = lid < HO * KQ * KS;
  let qa = quad_rows(t, head0 + 8u * a_ho, dk);
  let qb = quad_rows(t, head0 + 8u * a_ho + 4u, dk);
  let b_q = lid / BK;
  let b_j = lid % BK;
  let b_on = lid < 2u * HO * BK;
  let d_ho = lid / CG;
  let d_cg = lid % CG;
  // Role d's 8 latent columns cg + i * CG; one past d_c reads column dc - 1 and is never stored.
  let col = min(vec4u(d_cg) + vec4u(0u, 1u, 2u, 3u) * CG, vec4u(dc - 1u));
  let col4 = min(vec4u(d_cg + 4u * CG) + vec4u(0u, 1u, 2u, 3u) * CG, vec4u(dc - 1u));

  var sc = vec4f(NEG_INF); // role b: the key's 4 scores
  var m_run = vec4f(NEG_INF); // role c (key 0): the quad's running max
  var l_run = vec4f(0.0); // role c (key 0): the quad's running sum
  var o: Acc8x8;

  for (var s0 = s_begin; s0 < s_end; s0 += BK) {
    let n = min(BK, s_end - s0);
    // a. Partial scores of 8 heads x keys s0 + 4 kq .. + 3 over this slice's columns (a key past the range
    //    reads row s_end - 1 and is masked in b): adjacent invocations read adjacent floats of each row.
    if (a_on) {
      let keys = min(vec4u(s0 + 4u * a_kq) + vec4u(0u, 1u, 2u, 3u), vec4u(s_end - 1u));
      // Zeroed explicitly: a `var s: Scores8x4;` in the loop body kept the last tile's sums on SwiftShader.
      var s = Scores8x4(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
      let rk = keys * dc;
      for (var c = a_ks; c < dc; c += KS) { score_column(&s, quad_q(qa, c), quad_q(qb, c), latent_at(rk + c)); }
      let rp = keys * dr;
      for (var c = a_ks; c < dr; c += KS) { score_column(&s, quad_q(qa, dc + c), quad_q(qb, dc + c), rope_at(rp + c)); }
      let r = 8u * lid;
      red[r] = s.a0;
      red[r + 1u] = s.a1;
      red[r + 2u] = s.a2;
      red[r + 3u] = s.a3;
      red[r + 4u] = s.b0;
      red[r + 5u] = s.b1;
      red[r + 6u] = s.b2;
      red[r + 7u] = s.b3;
    }
    workgroupBarrier();
    // b. The key's 4 scores (quad b_q of the block), NEG_INF past the range.
    if (b_on) {
      let first = ((b_q / 2u) * KQ + b_j / 4u) * KS;
      let slot = (b_q % 2u) * 4u + b_j % 4u;
      var sum = vec4f(0.0);
      for (var x = 0u; x < KS; x++) { sum += red[8u * (first + x) + slot]; }
      sc = select(vec4f(NEG_INF), sum, b_j < n);
      scores_ws[lid] = sc;
    }
    workgroupBarrier();
    // c. Key 0 of each quad: the tile max, the running max and sum's rescale alpha.
    if (b_on && b_j == 0u) {
      var tmax = vec4f(NEG_INF);
      for (var j = 0u; j < n; j++) { tmax = max(tmax, scores_ws[b_q * BK + j]); }
      let mx = online_max(m_run.x, tmax.x);
      let my = online_max(m_run.y, tmax.y);
      let mz = online_max(m_run.z, tmax.z);
      let mw = online_max(m_run.w, tmax.w);
      m_run = vec4f(mx.m, my.m, mz.m, mw.m);
      m_ws[b_q] = m_run;
      alpha_ws[b_q] = vec4f(mx.alpha, my.alpha, mz.alpha, mw.alpha);
    }
    workgroupBarrier();
    // The key's probabilities, one exp2 per score.
    if (b_on) { probs_ws[lid] = quad_exp2(sc, m_ws[b_q]); }
    workgroupBarrier();
    // d. P.V: o += p_j x c_KV[j][columns] for the octet's 8 heads.
    acc_scale(&o, alpha_ws[2u * d_ho], alpha_ws[2u * d_ho + 1u]);
    for (var j = 0u; j < n; j++) {
      let v = (s0 + j) * dc;
      let pa = probs_ws[2u * d_ho * BK + j];
      let pb = probs_ws[(2u * d_ho + 1u) * BK + j];
      acc_add(&o, pa, pb, latent_at(col + v), latent_at(col4 + v));
    }
    if (b_on && b_j == 0u) {
      var tsum = vec4f(0.0);
      for (var j = 0u; j < n; j++) { tsum += probs_ws[lid + j]; }
      l_run = l_run * alpha_ws[b_q] + tsum; // alpha_ws is rewritten only after the next tile's second barrier
    }
    // The next tile writes red first (read only in b) and the other arrays only after its first barrier.
  }

  // Each quad's (m, l), from role c to role d (an empty range leaves NEG_INF, l = 0, o = 0).
  if (b_on && b_j == 0u) {
    m_ws[b_q] = m_run;
    l_ws[b_q] = l_run;
  }
  workgroupBarrier();
  let h0 = head0 + 8u * d_ho;
  let ma = m_ws[2u * d_ho];
  let la = l_ws[2u * d_ho];
  let mb = m_ws[2u * d_ho + 1u];
  let lb = l_ws[2u * d_ho + 1u];
  store_partial(t, h0, split, d_cg, ma.x, la.x, vec4f(o.a0.x, o.a1.x, o.a2.x, o.a3.x), vec4f(o.a4.x, o.a5.x, o.a6.x, o.a7.x));
  store_partial(t, h0 + 1u, split, d_cg, ma.y, la.y, vec4f(o.a0.y, o.a1.y, o.a2.y, o.a3.y), vec4f(o.a4.y, o.a5.y, o.a6.y, o.a7.y));
  store_partial(t, h0 + 2u, split, d_cg, ma.z, la.z, vec4f(o.a0.z, o.a1.z, o.a2.z, o.a3.z), vec4f(o.a4.z, o.a5.z, o.a6.z, o.a7.z));
  store_partial(t, h0 + 3u, split, d_cg, ma.w, la.w, vec4f(o.a0.w, o.a1.w, o.a2.w, o.a3.w), vec4f(o.a4.w, o.a5.w, o.a6.w, o.a7.w));
  store_partial(t, h0 + 4u, split, d_cg, mb.x, lb.x, vec4f(o.b0.x, o.b1.x, o.b2.x, o.b3.x), vec4f(o.b4.x, o.b5.x, o.b6.x, o.b7.x));
  store_partial(t, h0 + 5u, split, d_cg, mb.y, lb.y, vec4f(o.b0.y, o.b1.y, o.b2.y, o.b3.y), vec4f(o.b4.y, o.b5.y, o.b6.y, o.b7.y));
  store_partial(t, h0 + 6u, split, d_cg, mb.z, lb.z, vec4f(o.b0.z, o.b1.z, o.b2.z, o.b3.z), vec4f(o.b4.z, o.b5.z, o.b6.z, o.b7.z));
  store_partial(t, h0 + 7u, split, d_cg, mb.w, lb.w, vec4f(o.b0.w, o.b1.w, o.b2.w, o.b3.w), vec4f(o.b4.w, o.b5.w, o.b6.w, o.b7.w));
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

// Workgroup (query tile, head h, block of RPW of its W_UV rows d): out[t, h, d] = W_UV[h][d] . o[t, h]. The TPR
// lanes of an invocation group share 4 rows, so each o value loaded feeds 4 multiply-adds per query.
@compute @workgroup_size(WG)
fn uv_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let t0 = wg.x * MT;
  let rows = min(params.T - t0, MT);
  let blocks = (params.dv + RPW - 1u) / RPW;
  let h = wg.y / blocks;
  let d0 = (wg.y % blocks) * RPW + 4u * (lanes.p / TPR);
  let dk = params.dc + params.dr;
  // W_UV rows d0 .. d0+3 (past dv: row dv - 1 again, computed and not stored); o rows of queries t0 .. t0+3
  // (past the tile: its last query again).
  let w = (h * (params.dn + params.dv) + params.dn + min(vec4u(d0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.dv - 1u))) * params.dc;
  let o = (min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(t0 + rows - 1u)) * params.H + h) * dk;
  var a0 = vec4f(0.0); // query t0 + x: the 4 rows' partial dot products
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = lanes.p % TPR; k < params.dc; k += TPR) {
    let wv = vec4f(f32(wkv_b[w.x + k]), f32(wkv_b[w.y + k]), f32(wkv_b[w.z + k]), f32(wkv_b[w.w + k]));
    a0 += wv * q_abs[o.x + k];
    if (rows > 1u) {
      a1 += wv * q_abs[o.y + k];
      a2 += wv * q_abs[o.z + k];
      a3 += wv * q_abs[o.w + k];
    }
  }
  let s01 = row_sum2(a0, a1, lanes);
  var s23 = array<vec4f, 2>(vec4f(0.0), vec4f(0.0));
  if (rows > 2u) { s23 = row_sum2(a2, a3, lanes); } // uniform per workgroup
  if (lanes.p % TPR == 0u) {
    uv_store(t0, h, d0, s01[0]);
    if (rows > 1u) { uv_store(t0 + 1u, h, d0, s01[1]); }
    if (rows > 2u) { uv_store(t0 + 2u, h, d0, s23[0]); }
    if (rows > 3u) { uv_store(t0 + 3u, h, d0, s23[1]); }
  }
}

// Rows d0 .. d0+3 of out[t, h] (those inside dv).
fn uv_store(t: u32, h: u32, d0: u32, v: vec4f) {
  let base = (t * params.H + h) * params.dv;
  if (d0 < params.dv) { out[base + d0] = elem(v.x); }
  if (d0 + 1u < params.dv) { out[base + d0 + 1u] = elem(v.y); }
  if (d0 + 2u < params.dv) { out[base + d0 + 2u] = elem(v.z); }
  if (d0 + 3u < params.dv) { out[base + d0 + 3u] = elem(v.w); }
}
