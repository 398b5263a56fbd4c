// attention.flash_prefill: FlashAttention (Dao et al. 2022) with FlashAttention-2's split of the query rows
// over workgroups, in one dispatch. Nothing but `out` is written to memory.
//
// A workgroup owns BR = 4 * RQ rows of ONE KV head. Row rr = t * G + g is query t through the g-th query
// head of the GQA group (G = Hq / Hkv), so every K/V tile the workgroup stages serves all G heads of about
// BR / G queries: K and V are read once per row block, not once per query head. Rows go in quads: a quad's
// 4 scores (or probabilities) of one key travel as one vec4. Per K/V tile of BK keys (four barriers):
//   1. stage K (rows padded by one vec4 against bank conflicts) and V in workgroup memory (vec4 loads,
//      coalesced along D; keys past S are zeros);
//   2. S = Q K^T in register micro-tiles of 8 rows (two quads) x 4 keys: per vec4 chunk of D, 8 q and 4 k
//      loads feed 32 dot products; the tile of scores (log2 units: q is pre-scaled by scale * log2 e) goes to
//      workgroup memory, masked keys as NEG_INF;
//   3. one invocation per row quad: the tile's row maxima, the running max m and alpha = 2^(m_old - m); then each
//      score becomes p = 2^(s - m), computed once per (row, key);
//   4. O += P V: invocation (quad pair pp, column pair cp) keeps an 8 x 8 micro-tile of O (quads pp and
//      pp + ceil(RQ / 2), vec4 columns cp and cp + CP) in registers, rescales it by alpha, and adds p_j * v_j
//      over the tile's keys: 2 p and 2 v loads per 64 FMAs (on SwiftShader a shared read is a per-lane
//      gather, so that ratio sets the speed), summing p_j into the row sums as it goes.
// The workgroup is one invocation per micro-tile of O: on SwiftShader fewer, fuller invocations win.
// All per-invocation state is named vec4s (no arrays indexed in loops: on CPU emulation those become memory).
// Causal: a block stops at the last key its last row can see (tiles above the diagonal are never loaded),
// and blocks are scheduled longest first so the last wave is short ones.
// The output is acc / l (0 for a row that saw no key, like the reference).
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic is f32.

// Generated from src/kernels/attention/flash-prefill.ts: the bindings params, q, k, v, out (vec4<elem>); the
// constants WG (invocations per workgroup, ceil(RQ / 2) * CP), RQ (row quads per workgroup), CP (column
// pairs, ceil(D / 8)) and BK (keys per K/V tile, a multiple of 4); the workgroup arrays q_tile (BR q rows,
// row stride D / 4), k_tile (row stride D / 4 + 1) and v_tile (vec4<elem>, BK rows of D / 4 and one spare
// vec4 that an odd D / 4's last column pair reads), probs ([quad][key]: 4 scores, then 4 probabilities),
// row_m and row_alpha (BR each).
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
  for (var r = tid; r < BR; r += WG) { // WG may be smaller than BR (small D: few column pairs)
    row_m[r] = NEG_INF;
  }

  // P.V roles: quad pair pp (quads qa, qb), column pair cp (vec4 columns ca, cb).
  let RP = (RQ + 1u) / 2u;
  let cp = tid % CP;
  let pp = tid / CP;
  let qa = pp;
  let qb = pp + RP;
  let has_qb = qb < RQ; // an odd RQ's last pair is one quad: its second half reads quad qa, stores nothing
  let qr = select(qa, qb, has_qb);
  let ca = cp;
  let cb = cp + CP; // == D4 for the last pair of an odd D4: computed on the spare zeros, never stored
  var aa = QuadAcc();
  var ab = QuadAcc();
  var ba = QuadAcc();
  var bb = QuadAcc();

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

    // 2. Scores, micro-tile (quads sp and sp + RP, keys 4 kq .. 4 kq + 3) per task.
    for (var task = tid; task < RP * (BK / 4u); task += WG) {
      let sp = task % RP;
      let kq = task / RP;
      var sa = Scores4();
      var sb = Scores4();
      if (4u * kq < n) {
        let qa0 = 4u * sp * D4;
        let qb0 = 4u * select(sp, sp + RP, sp + RP < RQ) * D4;
        let kbase = 4u * kq * DP;
        for (var c = 0u; c < D4; c++) {
          let k0 = vec4f(k_tile[kbase + c]);
          let k1 = vec4f(k_tile[kbase + DP + c]);
          let k2 = vec4f(k_tile[kbase + 2u * DP + c]);
          let k3 = vec4f(k_tile[kbase + 3u * DP + c]);
          add_chunk(&sa, qa0 + c, D4, k0, k1, k2, k3);
          add_chunk(&sb, qb0 + c, D4, k0, k1, k2, k3);
        }
      }
      let key = kb + 4u * kq;
      let lim = kb + n;
      store_scores(sp, key, lim, row0, rows, sa);
      if (sp + RP < RQ) {
        store_scores(sp + RP, key, lim, row0, rows, sb);
      }
    }
    workgroupBarrier();

    // 3. Per quad, one invocation (whole vec4s: no lane-varying component index): the tile's row maxima,
    //    the running maxima, alpha, then p in place.
    for (var qd = tid; qd < RQ; qd += WG) {
      var mx = vec4f(NEG_INF);
      for (var j = 0u; j < n; j++) {
        mx = max(mx, probs[qd * BK + j]);
      }
      let qb = 4u * qd;
      let m_old = vec4f(row_m[qb], row_m[qb + 1u], row_m[qb + 2u], row_m[qb + 3u]);
      let m_new = max(m_old, mx);
      let alpha = exp2(m_old - m_new);
      for (var x = 0u; x < 4u; x++) {
        row_alpha[qb + x] = alpha[x];
        row_m[qb + x] = m_new[x];
      }
      for (var j = 0u; j < n; j++) {
        let sc = probs[qd * BK + j];
        probs[qd * BK + j] = select(vec4f(0.0), exp2(sc - m_new), sc > vec4f(NEG_INF));
      }
    }
    workgroupBarrier();

    // 4. O += P V for this invocation's 8 x 8 micro-tile over the tile's keys.
    {
      let alpha_a = vec4f(row_alpha[4u * qa], row_alpha[4u * qa + 1u], row_alpha[4u * qa + 2u], row_alpha[4u * qa + 3u]);
      let alpha_b = vec4f(row_alpha[4u * qr], row_alpha[4u * qr + 1u], row_alpha[4u * qr + 2u], row_alpha[4u * qr + 3u]);
      quad_rescale(&aa, alpha_a);
      quad_rescale(&ab, alpha_a);
      quad_rescale(&ba, alpha_b);
      quad_rescale(&bb, alpha_b);
      for (var j = 0u; j < n; j++) {
        let pa = probs[qa * BK + j];
        let pb = probs[qr * BK + j];
        let va = vec4f(v_tile[j * D4 + ca]);
        let vb = vec4f(v_tile[j * D4 + cb]);
        quad_add(&aa, pa, va);
        quad_fma(&ab, pa, vb);
        quad_add(&ba, pb, va);
        quad_fma(&bb, pb, vb);
      }
    }
    workgroupBarrier(); // the next tile overwrites the tiles, probs and row_alpha
  }

  // ab and bb carry no row sums (quad_fma): aa and ba have them.
  let has_cb = cb < D4;
  store_quad(row0, rows, kvh, qa, ca, aa, aa.l);
  if (has_cb) {
    store_quad(row0, rows, kvh, qa, cb, ab, aa.l);
  }
  if (has_qb) {
    store_quad(row0, rows, kvh, qb, ca, ba, ba.l);
    if (has_cb) {
      store_quad(row0, rows, kvh, qb, cb, bb, ba.l);
    }
  }
}

// A quad's scores of 4 keys: s_j holds key j's score for the quad's 4 rows.
struct Scores4 {
  s0: vec4f,
  s1: vec4f,
  s2: vec4f,
  s3: vec4f,
}

// One vec4 chunk of D: the quad's rows at q_tile[o], o + D4, .. against the 4 keys' chunks.
fn add_chunk(acc: ptr<function, Scores4>, o: u32, D4: u32, k0: vec4f, k1: vec4f, k2: vec4f, k3: vec4f) {
  let q0 = q_tile[o];
  let q1 = q_tile[o + D4];
  let q2 = q_tile[o + 2u * D4];
  let q3 = q_tile[o + 3u * D4];
  (*acc).s0 += quad_score(q0, q1, q2, q3, k0);
  (*acc).s1 += quad_score(q0, q1, q2, q3, k1);
  (*acc).s2 += quad_score(q0, q1, q2, q3, k2);
  (*acc).s3 += quad_score(q0, q1, q2, q3, k3);
}

// Quad sq's scores of keys key .. key+3 into probs, masked keys as NEG_INF. Visible: key < lim (the tile's
// end, which covers S) and, causally, key <= the row's position S - T + t.
fn store_scores(sq: u32, key: u32, lim: u32, row0: u32, rows: u32, s: Scores4) {
  var last = vec4i(-1);
  for (var x = 0u; x < 4u; x++) {
    let rr = row0 + 4u * sq + x;
    if (rr < rows) {
      last[x] = select(i32(params.S) - 1, i32(params.S - params.T + rr / params.group), params.causal != 0u);
    }
  }
  let l = min(last, vec4i(i32(lim) - 1));
  let k0 = i32(key);
  let o = sq * BK + key % BK;
  probs[o] = select(vec4f(NEG_INF), s.s0, vec4i(k0) <= l);
  probs[o + 1u] = select(vec4f(NEG_INF), s.s1, vec4i(k0 + 1) <= l);
  probs[o + 2u] = select(vec4f(NEG_INF), s.s2, vec4i(k0 + 2) <= l);
  probs[o + 3u] = select(vec4f(NEG_INF), s.s3, vec4i(k0 + 3) <= l);
}

// acc / l for the quad's live rows into out (0 for a row that saw no key, like the reference).
fn store_quad(row0: u32, rows: u32, kvh: u32, q: u32, c: u32, a: QuadAcc, l: vec4f) {
  let G = params.group;
  let D4 = params.D / 4u;
  for (var x = 0u; x < 4u; x++) {
    let rr = row0 + 4u * q + x;
    if (rr < rows) {
      let grow = (rr / G) * params.Hq + kvh * G + rr % G; // row of out: t * Hq + h
      out[grow * D4 + c] = vec4<elem>(quad_row(a, x) * select(0.0, 1.0 / l[x], l[x] > 0.0));
    }
  }
}
