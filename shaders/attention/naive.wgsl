// attention.naive: standard attention as three passes, with the whole score matrix in device memory.
//   1. scores[t,h,s] = scale * q[t,h] . k[s,kvh]     GEMM Q K^T per head (-inf above the causal diagonal)
//   2. softmax over s, in place                     one workgroup per row
//   3. out[t,h,:]    = sum_s P[t,h,s] * v[s,kvh,:]   GEMM P V per head
// Both GEMMs are the shared register-tiled core (lib/gemm.wgsl), tiled like any BLAS; what makes this the
// baseline is the T*Hq*S score matrix written once and read twice: the traffic flash attention removes.
// The host compiles this file twice: the scores module reads K as B^T (GEMM_B_NK = 1), the P.V module reads
// V as B [K = S, N = D] (GEMM_B_NK = 0); the loaders below pick their operands by that constant.
// `elem` is f32 or f16 storage (see src/gpu/shader.ts); all arithmetic is f32.

// Generated from src/kernels/attention/naive.ts: the bindings (params, q, k, v, scores, out), the constant WG
// (softmax workgroup, a power of two), the GEMM core's constants and tiles, and reduce_scratch [WG].
#include "lib/constants.wgsl"
#include "lib/gemm.wgsl"
#include "lib/grid.wgsl"
#include "lib/row-softmax.wgsl"

// The head (wg.z) a GEMM workgroup works on, set before gemm_block.
var<private> head: u32;

// A[m, kk .. kk+3]: q[t = m, head, d = kk ..] for the scores, P[t = m, head, s = kk ..] for P.V; zeros past the edges.
fn gemm_load_a(m: u32, kk: u32) -> vec4f {
  var x = vec4f(0.0);
  if (m >= params.T) { return x; }
  if (GEMM_B_NK == 1u) {
    let o = (m * params.Hq + head) * params.D;
    for (var j = 0u; j < 4u; j++) {
      if (kk + j < params.D) { x[j] = f32(q[o + kk + j]); }
    }
  } else {
    let o = (m * params.Hq + head) * params.S;
    for (var j = 0u; j < 4u; j++) {
      if (kk + j < params.S) { x[j] = scores[o + kk + j]; }
    }
  }
  return x;
}

// Scores: B^T[n, kk .. kk+3] = k[s = n, kvh, d = kk ..]. P.V: B[kk, n .. n+3] = v[s = kk, kvh, d = n ..].
fn gemm_load_b(n: u32, kk: u32) -> vec4f {
  let kvh = head / params.group;
  var x = vec4f(0.0);
  if (GEMM_B_NK == 1u) {
    if (n >= params.S) { return x; }
    let o = (n * params.Hkv + kvh) * params.D;
    for (var j = 0u; j < 4u; j++) {
      if (kk + j < params.D) { x[j] = f32(k[o + kk + j]); }
    }
  } else {
    if (kk >= params.S) { return x; }
    let o = (kk * params.Hkv + kvh) * params.D;
    for (var j = 0u; j < 4u; j++) {
      if (n + j < params.D) { x[j] = f32(v[o + n + j]); }
    }
  }
  return x;
}

// Last key position visible to any query of a block of rows starting at t0 (causal), exclusive bound.
fn key_end(t0: u32) -> u32 {
  if (params.causal == 0u) { return params.S; }
  let last_t = min(t0 + GEMM_BM - 1u, params.T - 1u);
  return params.S - params.T + last_t + 1u;
}

fn acc_row(a: GemmAcc, i: u32) -> vec4f {
  return select(select(a.r3, a.r2, i == 2u), select(a.r1, a.r0, i == 0u), i < 2u);
}

// Workgroup (x: key block, y: query block, z: head); thread (x, y): a 4 x 4 micro-tile of scores.
@compute @workgroup_size(GEMM_BN / 4u, GEMM_BM / 4u)
fn scores_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  head = wg.z;
  let row0 = wg.y * GEMM_BM;
  let col0 = wg.x * GEMM_BN;
  let end = key_end(row0);
  // A whole block above the diagonal computes nothing (uniform per workgroup): it skips the GEMM.
  var acc = GemmAcc(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  if (col0 < end) { acc = gemm_block(row0, col0, params.D, lid.xy, li); }
  for (var i = 0u; i < 4u; i++) {
    let t = row0 + 4u * lid.y + i;
    let r = acc_row(acc, i);
    for (var j = 0u; j < 4u; j++) {
      let s = col0 + 4u * lid.x + j;
      if (t < params.T && s < params.S) {
        let visible = params.causal == 0u || s <= params.S - params.T + t;
        scores[(t * params.Hq + head) * params.S + s] = select(NEG_INF, r[j] * params.scale, visible);
      }
    }
  }
}

// One workgroup per row (t, h): softmax of its S scores in place (lib/row-softmax.wgsl).
@compute @workgroup_size(WG)
fn softmax_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.T * params.Hq) { return; } // uniform per workgroup, so the barriers inside are safe
  row_softmax(&scores, row * params.S, params.S, lid);
}

// Workgroup (x: block of head dims, y: query block, z: head); probabilities past key_end are 0 for every
// row of the block, so the GEMM's K stops there.
@compute @workgroup_size(GEMM_BN / 4u, GEMM_BM / 4u)
fn pv_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  head = wg.z;
  let row0 = wg.y * GEMM_BM;
  let col0 = wg.x * GEMM_BN;
  let acc = gemm_block(row0, col0, key_end(row0), lid.xy, li);
  for (var i = 0u; i < 4u; i++) {
    let t = row0 + 4u * lid.y + i;
    let r = acc_row(acc, i);
    for (var j = 0u; j < 4u; j++) {
      let d = col0 + 4u * lid.x + j;
      if (t < params.T && d < params.D) { out[(t * params.Hq + head) * params.D + d] = elem(r[j]); }
    }
  }
}
