// Split-K attention over latent rows with the heads as the M dimension of the tile (FlashMLA's layout), shared
// by mla.decode_absorbed (a contiguous key range of the cache) and sparse.dsa_attention's MLA mode (a range of
// a query's top-k list). A workgroup takes 8 * HO heads of one query and one range of its key sequence: every
// latent row [c_KV ; k_pe] of the range is read once for all of its heads, scored against each head's absorbed
// query, and accumulated as the value (its c_KV part) with an online softmax in base 2. It leaves the
// unnormalised o, the max m and the sum l of its range in `part`; latent_merge combines the ranges by
// log-sum-exp (lib/lse-merge.wgsl).
//
// One tile of BK keys (4 barriers). On CPU emulation every load is one per invocation, so what counts is the
// multiply-adds each loaded value feeds; on a GPU the same register tiles keep the loads few.
//   a. scores: invocation (head octet ho, key quad kq, slice ks) dots 8 heads' queries with 4 keys over the
//      columns ks, ks + KS, ... (adjacent invocations read adjacent floats of each row: coalesced): 12 values
//      loaded per 32 multiply-adds. The SLICE_LANES adjacent slices of a subgroup are summed by slice_sum
//      (lib/latent-slices-*.wgsl) and meet the other slices in `red`.
//   b. invocation (head quad q, key j) adds the slices into the key's 4 scores (a vec4 over the quad's heads);
//      quad 0 also publishes the key's cache row (key_rows), so role d gathers without a lookup.
//   c. key 0's invocation of each quad: the tile's max, the running max m and alpha = 2^(m_old - m); then every
//      (q, j) turns its scores into p = 2^(s - m) (one exp2 per score).
//   d. P.V: invocation (octet, column group cg) rescales its accumulators (8 latent columns cg + i * CG for 8
//      heads, named vec4s over a quad's heads: an array indexed in a loop lives in memory on CPU emulation) and
//      adds p_j * c_KV[j][column] for the tile's keys: 16 values loaded per 64 multiply-adds. Key 0's
//      invocation of each quad keeps the running sum l.
//
// The includer declares the constants HO, CG, BK = 4 * KQ, KS (and SPLIT_WG = HO * CG), the workgroup arrays
// red, scores_ws, probs_ws, alpha_ws, m_ws, l_ws, key_rows, and for latent_merge WG, weights, reduce_scratch;
// the bindings kv_latent and k_pe (`elem`; they may be one buffer holding whole rows) and part (f32); and
//   fn latent_q(i: u32) -> f32       element i of the query rows [T * H, dc + dr]
//   fn latent_key(t: u32, i: u32) -> i32   the cache row at position i of query t's key sequence, -1 for none
#include "lib/constants.wgsl"
#include "lib/online-softmax.wgsl"
#include "lib/lse-merge.wgsl"
#include "lib/workgroup-reduce.wgsl"

// Sizes and the cache layout: latent row s is kv_latent[s * c_stride ..][0 .. dc), its RoPE part
// k_pe[s * r_stride + r_offset ..][0 .. dr).
struct LatentShape {
  T: u32,
  H: u32,
  splits: u32,
  dc: u32,
  dr: u32,
  c_stride: u32,
  r_stride: u32,
  r_offset: u32,
}

// 2^(s - m) per head of a quad, exactly 0 for a masked score.
fn quad_exp2(s: vec4f, m: vec4f) -> vec4f {
  return vec4f(masked_exp2(s.x, m.x), masked_exp2(s.y, m.y), masked_exp2(s.z, m.z), masked_exp2(s.w, m.w));
}

// Column c of the 4 query rows at offsets qr (a quad's heads).
fn quad_q(qr: vec4u, c: u32) -> vec4f {
  return vec4f(latent_q(qr.x + c), latent_q(qr.y + c), latent_q(qr.z + c), latent_q(qr.w + c));
}

// Offsets of the query rows of heads h .. h+3 of query t (a head past H reads head H-1).
fn quad_rows(sh: LatentShape, t: u32, h: u32) -> vec4u {
  return (t * sh.H + min(vec4u(h) + vec4u(0u, 1u, 2u, 3u), vec4u(sh.H - 1u))) * (sh.dc + sh.dr);
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

// Cache row of position i of query t's sequence; a position with no key reads row 0 (its score is masked).
fn key_row(t: u32, i: u32) -> u32 {
  return u32(max(latent_key(t, i), 0));
}

// Workgroup g of a split dispatch over T queries x blocks of 8 * HO heads x splits ranges (split fastest).
struct LatentItem {
  t: u32,
  head0: u32,
  split: u32,
  ok: bool,
}

fn latent_item(g: u32, T: u32, blocks: u32, splits: u32) -> LatentItem {
  return LatentItem(g / (splits * blocks), ((g / splits) % blocks) * 8u * HO, g % splits, g < T * blocks * splits);
}

// Workgroup (query t, heads head0 .. head0 + 8 HO - 1, split) over positions [begin, end) of t's key
// sequence, scores multiplied by score_scale (base 2). Call in uniform control flow with uniform arguments:
// the barriers and slice_sum's subgroup operations need the whole workgroup.
fn latent_split(sh: LatentShape, t: u32, head0: u32, split: u32, begin: u32, end: u32, score_scale: f32, lid: u32) {
  let dc = sh.dc;
  let dr = sh.dr;
  // Roles. a: (octet ao, key quad kq, slice ks); b, c: (quad, key j); d: (octet, column group cg).
  let a_ho = lid / (KQ * KS);
  let a_kq = (lid / KS) % KQ;
  let a_ks = lid % KS;
  let a_on = lid < HO * KQ * KS;
  let qa = quad_rows(sh, t, head0 + 8u * a_ho);
  let qb = quad_rows(sh, t, head0 + 8u * a_ho + 4u);
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

  for (var s0 = begin; s0 < end; s0 += BK) {
    let n = min(BK, end - s0);
    // a. Partial scores of 8 heads x keys s0 + 4 kq .. + 3 over this slice's columns (a position past the
    //    range reads position end - 1 and is masked in b): adjacent invocations read adjacent floats of a row.
    // Zeroed explicitly: a `var s: Scores8x4;` in the loop body kept the last tile's sums on SwiftShader.
    var s = Scores8x4(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    if (a_on) {
      let p = min(vec4u(s0 + 4u * a_kq) + vec4u(0u, 1u, 2u, 3u), vec4u(end - 1u));
      let keys = vec4u(key_row(t, p.x), key_row(t, p.y), key_row(t, p.z), key_row(t, p.w));
      let rk = keys * sh.c_stride;
      for (var c = a_ks; c < dc; c += KS) { score_column(&s, quad_q(qa, c), quad_q(qb, c), latent_at(rk + c)); }
      let rp = keys * sh.r_stride + sh.r_offset;
      for (var c = a_ks; c < dr; c += KS) { score_column(&s, quad_q(qa, dc + c), quad_q(qb, dc + c), rope_at(rp + c)); }
    }
    let r = slice_sum(s);
    if (a_on && a_ks % SLICE_LANES == 0u) {
      let w = 8u * (lid / SLICE_LANES);
      red[w] = r.a0;
      red[w + 1u] = r.a1;
      red[w + 2u] = r.a2;
      red[w + 3u] = r.a3;
      red[w + 4u] = r.b0;
      red[w + 5u] = r.b1;
      red[w + 6u] = r.b2;
      red[w + 7u] = r.b3;
    }
    workgroupBarrier();
    // b. The key's 4 scores (quad b_q of the block), NEG_INF for a position past the range or with no key.
    if (b_on) {
      let first = ((b_q / 2u) * KQ + b_j / 4u) * (KS / SLICE_LANES);
      let slot = (b_q % 2u) * 4u + b_j % 4u;
      var sum = vec4f(0.0);
      for (var x = 0u; x < KS / SLICE_LANES; x++) { sum += red[8u * (first + x) + slot]; }
      var key = -1;
      if (b_j < n) { key = latent_key(t, s0 + b_j); }
      sc = select(vec4f(NEG_INF), sum * score_scale, key >= 0);
      scores_ws[lid] = sc;
      if (b_q == 0u) { key_rows[b_j] = u32(max(key, 0)); }
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
      let v = key_rows[j] * sh.c_stride;
      let pa = probs_ws[2u * d_ho * BK + j];
      let pb = probs_ws[(2u * d_ho + 1u) * BK + j];
      acc_add(&o, pa, pb, latent_at(col + v), latent_at(col4 + v));
    }
    if (b_on && b_j == 0u) {
      var tsum = vec4f(0.0);
      for (var j = 0u; j < n; j++) { tsum += probs_ws[lid + j]; }
      l_run = l_run * alpha_ws[b_q] + tsum; // alpha_ws is rewritten only after the next tile's second barrier
    }
    // The next tile writes red first (read only in b) and the other arrays (key_rows included) only after
    // its first barrier.
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
  store_partial(sh, t, h0, split, d_cg, ma.x, la.x, vec4f(o.a0.x, o.a1.x, o.a2.x, o.a3.x), vec4f(o.a4.x, o.a5.x, o.a6.x, o.a7.x));
  store_partial(sh, t, h0 + 1u, split, d_cg, ma.y, la.y, vec4f(o.a0.y, o.a1.y, o.a2.y, o.a3.y), vec4f(o.a4.y, o.a5.y, o.a6.y, o.a7.y));
  store_partial(sh, t, h0 + 2u, split, d_cg, ma.z, la.z, vec4f(o.a0.z, o.a1.z, o.a2.z, o.a3.z), vec4f(o.a4.z, o.a5.z, o.a6.z, o.a7.z));
  store_partial(sh, t, h0 + 3u, split, d_cg, ma.w, la.w, vec4f(o.a0.w, o.a1.w, o.a2.w, o.a3.w), vec4f(o.a4.w, o.a5.w, o.a6.w, o.a7.w));
  store_partial(sh, t, h0 + 4u, split, d_cg, mb.x, lb.x, vec4f(o.b0.x, o.b1.x, o.b2.x, o.b3.x), vec4f(o.b4.x, o.b5.x, o.b6.x, o.b7.x));
  store_partial(sh, t, h0 + 5u, split, d_cg, mb.y, lb.y, vec4f(o.b0.y, o.b1.y, o.b2.y, o.b3.y), vec4f(o.b4.y, o.b5.y, o.b6.y, o.b7.y));
  store_partial(sh, t, h0 + 6u, split, d_cg, mb.z, lb.z, vec4f(o.b0.z, o.b1.z, o.b2.z, o.b3.z), vec4f(o.b4.z, o.b5.z, o.b6.z, o.b7.z));
  store_partial(sh, t, h0 + 7u, split, d_cg, mb.w, lb.w, vec4f(o.b0.w, o.b1.w, o.b2.w, o.b3.w), vec4f(o.b4.w, o.b5.w, o.b6.w, o.b7.w));
}

// part holds the splits' o [T * H, splits, dc], then their (m, l) [T * H, splits, 2].
fn ml_base(sh: LatentShape) -> u32 {
  return sh.T * sh.H * sh.splits * sh.dc;
}

// Head h's partial of one split from column group cg: its columns cg + i * CG inside d_c (a holds i < 4, b
// i >= 4), and from group 0 the (m, l) pair.
fn store_partial(sh: LatentShape, t: u32, h: u32, split: u32, cg: u32, m: f32, l: f32, a: vec4f, b: vec4f) {
  let dc = sh.dc;
  if (h >= sh.H) { return; }
  let pr = (t * sh.H + h) * sh.splits + split;
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
    part[ml_base(sh) + 2u * pr] = m;
    part[ml_base(sh) + 2u * pr + 1u] = l;
  }
}

// Merge workgroup g of a WG-invocation dispatch, one per (row = t * H + h, WG latent columns): the merged
// latent column c of the row. M = max_i m_i and L = sum_i 2^(m_i - M) l_i over the splits (recomputed by each
// chunk: 2 floats per split), the weights kept in workgroup memory, then each invocation sums its column over
// the splits. `ok` is false for a workgroup past the grid or a column past dc (nothing to store). Call in
// uniform control flow.
struct MergedColumn {
  row: u32,
  c: u32,
  v: f32,
  ok: bool,
}

fn latent_merge(sh: LatentShape, g: u32, lid: u32) -> MergedColumn {
  let chunks = (sh.dc + WG - 1u) / WG;
  if (g >= sh.T * sh.H * chunks) { return MergedColumn(0u, 0u, 0.0, false); } // uniform per workgroup
  let row = g / chunks;
  let c = (g % chunks) * WG + lid;
  let base = row * sh.splits;
  let ml = ml_base(sh) + 2u * base;
  var mx = NEG_INF;
  for (var i = lid; i < sh.splits; i += WG) { mx = max(mx, part[ml + 2u * i]); }
  let big_m = workgroup_max(lid, mx);
  var lsum = 0.0;
  for (var i = lid; i < sh.splits; i += WG) {
    let w = lse_weight(part[ml + 2u * i], big_m);
    weights[i] = w;
    lsum += w * part[ml + 2u * i + 1u];
  }
  let inv = safe_reciprocal(workgroup_sum(lid, lsum)); // its barriers also publish `weights`
  var acc = 0.0;
  if (c < sh.dc) {
    for (var i = 0u; i < sh.splits; i++) { acc += weights[i] * part[(base + i) * sh.dc + c]; }
  }
  return MergedColumn(row, c, acc * inv, c < sh.dc);
}
