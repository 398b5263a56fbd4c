// mla.decode_naive: DeepSeek-V3's attn_impl = "naive". The latent cache is expanded to per-head keys and
// values every step, then attention runs per head on the expanded cache:
//   1. expand_main : kv_full[s, h*(dn+dv) + j] = wkv_b[h*(dn+dv) + j] . c_KV[s]
//                    a GEMM [S, d_c] x [d_c, H*(dn+dv)], 64x64 output tiles through workgroup memory,
//                    4x4 outputs per thread (each loaded value feeds 4 multiply-adds)
//   2. scores_main : scores[t,h,s] = scale * (q_nope[t,h] . k_nope[s,h] + q_pe[t,h] . k_pe[s])  (-inf if masked)
//   3. softmax_main: softmax over s in place (one workgroup per row)
//   4. pv_main     : out[t,h,d] = sum_s P[t,h,s] * v[s,h,d]
// It writes and re-reads S*H*(dn+dv) floats per step (the MHA-sized cache the latent replaces) and the
// T*H*S score matrix: the costs the absorbed kernel avoids. `elem` is f32 or f16 storage; math is f32.

// Generated from src/kernels/mla/decode-naive.ts: the bindings params, q_nope [T, H, dn], q_pe [T, H, dr],
// kv_latent [S, dc], k_pe [S, dr], wkv_b [H*(dn+dv), dc], kv_full [S, H, dn+dv] (f32: k_nope then v per
// head), scores [T*H, S] (f32) and out [T, H, dv]; the constants WG (a power of two), TM x TN (the output
// tile of expand_main: cache positions x rows of wkv_b), TK (its reduction slice over d_c) and PAD (its tile
// row stride, TM + 1 so the transposed stores are free of bank conflicts); the workgroup arrays a_tile,
// b_tile [TK * PAD] (k-major, so the inner loop reads along m) and reduce_scratch [WG] (row_softmax).
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/row-softmax.wgsl"

// Row m of expand_main's output, columns n .. n+3 (those inside the matrix).
fn store_expanded(m: u32, n: u32, n_total: u32, v: vec4f) {
  if (m >= params.S) { return; }
  let base = m * n_total + n;
  if (n < n_total) { kv_full[base] = v.x; }
  if (n + 1u < n_total) { kv_full[base + 1u] = v.y; }
  if (n + 2u < n_total) { kv_full[base + 2u] = v.z; }
  if (n + 3u < n_total) { kv_full[base + 3u] = v.w; }
}

@compute @workgroup_size(WG)
fn expand_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n_total = params.H * (params.dn + params.dv);
  let tiles_n = (n_total + TN - 1u) / TN;
  let tiles_m = (params.S + TM - 1u) / TM;
  let g = linear_group(wg, nwg);
  if (g >= tiles_m * tiles_n) { return; } // uniform per workgroup
  let m0 = (g / tiles_n) * TM;
  let n0 = (g % tiles_n) * TN;
  let tr = lid / 16u; // this thread's 4 output rows: m0 + tr*4 ..
  let tc = lid % 16u; // and 4 output columns: n0 + tc*4 ..
  // The 4 x 4 outputs as 4 named row vectors (an array indexed in the loop would live in memory on CPU emulation).
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < params.dc; k0 += TK) {
    // 64 x 8 values per operand, 2 per thread; consecutive threads read consecutive k of one row.
    for (var j = 0u; j < 2u; j++) {
      let e = lid + j * WG;
      let r = e / TK;
      let kk = e % TK;
      let gk = k0 + kk;
      var av = 0.0;
      var bv = 0.0;
      if (gk < params.dc) {
        if (m0 + r < params.S) { av = f32(kv_latent[(m0 + r) * params.dc + gk]); }
        if (n0 + r < n_total) { bv = f32(wkv_b[(n0 + r) * params.dc + gk]); }
      }
      a_tile[kk * PAD + r] = av;
      b_tile[kk * PAD + r] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a = vec4<f32>(a_tile[kk * PAD + tr * 4u], a_tile[kk * PAD + tr * 4u + 1u], a_tile[kk * PAD + tr * 4u + 2u], a_tile[kk * PAD + tr * 4u + 3u]);
      let b = vec4<f32>(b_tile[kk * PAD + tc * 4u], b_tile[kk * PAD + tc * 4u + 1u], b_tile[kk * PAD + tc * 4u + 2u], b_tile[kk * PAD + tc * 4u + 3u]);
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }
  let m = m0 + tr * 4u;
  let n = n0 + tc * 4u;
  store_expanded(m, n, n_total, acc0);
  store_expanded(m + 1u, n, n_total, acc1);
  store_expanded(m + 2u, n, n_total, acc2);
  store_expanded(m + 3u, n, n_total, acc3);
}

// One thread per score: row = t*H + h, column s.
@compute @workgroup_size(WG)
fn scores_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let per_row = (params.S + WG - 1u) / WG;
  let g = linear_group(wg, nwg);
  let row = g / per_row;
  let s = (g % per_row) * WG + lid;
  if (row >= params.T * params.H || s >= params.S) { return; }
  let t = row / params.H;
  let h = row % params.H;
  var score = NEG_INF;
  if (params.causal == 0u || s <= params.S - params.T + t) {
    let k = (s * params.H + h) * (params.dn + params.dv);
    var dot = 0.0;
    for (var d = 0u; d < params.dn; d++) { dot += f32(q_nope[row * params.dn + d]) * kv_full[k + d]; }
    for (var d = 0u; d < params.dr; d++) { dot += f32(q_pe[row * params.dr + d]) * f32(k_pe[s * params.dr + d]); }
    score = dot * params.scale;
  }
  scores[row * params.S + s] = score;
}

// One workgroup per row: softmax over s in place (lib/row-softmax.wgsl).
@compute @workgroup_size(WG)
fn softmax_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.T * params.H) { return; } // uniform per workgroup
  row_softmax(&scores, row * params.S, params.S, lid);
}

// One thread per output element; consecutive threads read consecutive values of one cache row.
@compute @workgroup_size(WG)
fn pv_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i >= params.T * params.H * params.dv) { return; }
  let d = i % params.dv;
  let row = i / params.dv;
  let h = row % params.H;
  let base = row * params.S;
  let stride = params.H * (params.dn + params.dv);
  let v = h * (params.dn + params.dv) + params.dn + d;
  // Causal rows stop at their horizon: later probabilities are 0.
  let t = row / params.H;
  let end = select(params.S, params.S - params.T + t + 1u, params.causal != 0u);
  var acc = 0.0;
  for (var s = 0u; s < end; s++) { acc += scores[base + s] * kv_full[s * stride + v]; }
  out[i] = elem(acc);
}
