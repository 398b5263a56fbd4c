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

@group(0) @binding(0) var<uniform> params: MlaParams;
@group(0) @binding(1) var<storage, read> q_nope: array<elem>;       // [T, H, dn]
@group(0) @binding(2) var<storage, read> q_pe: array<elem>;         // [T, H, dr]
@group(0) @binding(3) var<storage, read> kv_latent: array<elem>;    // [S, dc]
@group(0) @binding(4) var<storage, read> k_pe: array<elem>;         // [S, dr]
@group(0) @binding(5) var<storage, read> wkv_b: array<elem>;        // [H*(dn+dv), dc]
@group(0) @binding(6) var<storage, read_write> kv_full: array<f32>; // [S, H, dn+dv]: k_nope then v per head
@group(0) @binding(7) var<storage, read_write> scores: array<f32>;  // [T*H, S]
@group(0) @binding(8) var<storage, read_write> out: array<elem>;    // [T, H, dv]

const WG = 256u;
const TM = 64u;       // output tile rows (cache positions)
const TN = 64u;       // output tile columns (rows of wkv_b)
const TK = 8u;        // reduction slice over d_c per step
const PAD = 65u;      // tile row stride: TM + 1 keeps the transposed stores free of bank conflicts
const NEG_INF = -3.402823466e38; // softmax never sees a real -inf: exp(NEG_INF - m) underflows to 0

var<workgroup> a_tile: array<f32, 520>; // [TK][PAD]: latent rows, k-major so the inner loop reads along m
var<workgroup> b_tile: array<f32, 520>; // [TK][PAD]: wkv_b rows
var<workgroup> red: array<f32, WG>;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
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
  var acc: array<f32, 16>;
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
      for (var i = 0u; i < 4u; i++) {
        acc[i * 4u] += a[i] * b.x;
        acc[i * 4u + 1u] += a[i] * b.y;
        acc[i * 4u + 2u] += a[i] * b.z;
        acc[i * 4u + 3u] += a[i] * b.w;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tr * 4u + i;
    if (m >= params.S) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tc * 4u + j;
      if (n < n_total) { kv_full[m * n_total + n] = acc[i * 4u + j]; }
    }
  }
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

// One workgroup per row: max, then sum of exponentials, then normalise (tree reductions in `red`).
@compute @workgroup_size(WG)
fn softmax_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.T * params.H) { return; } // uniform per workgroup
  let base = row * params.S;
  var m = NEG_INF;
  for (var s = lid; s < params.S; s += WG) { m = max(m, scores[base + s]); }
  red[lid] = m;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { red[lid] = max(red[lid], red[lid + span]); }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var s = lid; s < params.S; s += WG) {
    let x = scores[base + s];
    sum += select(exp(x - m), 0.0, x <= NEG_INF);
  }
  red[lid] = sum;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { red[lid] += red[lid + span]; }
    workgroupBarrier();
  }
  let inv = select(1.0 / red[0], 0.0, red[0] == 0.0);
  for (var s = lid; s < params.S; s += WG) {
    let x = scores[base + s];
    scores[base + s] = select(exp(x - m) * inv, 0.0, x <= NEG_INF);
  }
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
