// moe.router: the DeepSeek-V3 gate (inference/model.py, class Gate) in two passes.
//   logits_main: logits = x W_g^T on the shared GEMM core (lib/gemm.wgsl: GEMM_BM tokens x 64 experts per
//                workgroup, 4 x 4 outputs per thread), so W_g is read once per token tile instead of once
//                per token. At decode (few tokens) router-gemv.wgsl computes the logits instead.
//   select_main: 8 lanes per token, 8 tokens per workgroup: scores (softmax | sigmoid), + bias for
//                selection, group scores (max, or top-2 sum with a bias), keep the best topk_groups
//                groups, then topk rounds of an argmax over the lanes (ties to the lower index); weights
//                from the unbiased scores.

// Generated from src/kernels/moe/router.ts: the bindings (params, x [N, dim] and gate_weight [E, dim] as vec4,
// gate_bias [E], logits [splits, N, E], weights and indices [N, topk]), the GEMM core's constants and tiles,
// and the selection's LANES (threads per token), TPW (tokens per workgroup), SEL_WG = LANES * TPW, MAX_E and
// MAX_G (the experts and groups a token's workgroup memory holds).

#include "lib/gemm.wgsl"

fn gemm_load_a(m: u32, k: u32) -> vec4f {
  if (m >= params.N || k >= params.dim) { return vec4f(0.0); }
  return x[(m * params.dim + k) / 4u];
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  if (n >= params.E || k >= params.dim) { return vec4f(0.0); }
  return gate_weight[(n * params.dim + k) / 4u];
}

@compute @workgroup_size(GEMM_BN / 4u, GEMM_BM / 4u)
fn logits_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * GEMM_BM;
  let col0 = wg.x * GEMM_BN;
  let acc = gemm_block(row0, col0, params.dim, lid.xy, li);
  let t = row0 + 4u * lid.y;
  let e = col0 + 4u * lid.x;
  if (e >= params.E) { return; }
  store_logits(t, e, acc.r0);
  store_logits(t + 1u, e, acc.r1);
  store_logits(t + 2u, e, acc.r2);
  store_logits(t + 3u, e, acc.r3);
}

/** Row t, experts e .. e+3 (E need not be a multiple of 4). */
fn store_logits(t: u32, e: u32, v: vec4f) {
  if (t >= params.N) { return; }
  let o = t * params.E + e;
  logits[o] = v.x;
  if (e + 1u < params.E) { logits[o + 1u] = v.y; }
  if (e + 2u < params.E) { logits[o + 2u] = v.z; }
  if (e + 3u < params.E) { logits[o + 3u] = v.w; }
}

// ---- selection --------------------------------------------------------------------------------------------
/** Logit i of [N, E]: the sum of the dim slices the decode GEMV (router-gemv.wgsl) wrote; one slice otherwise. */
fn logit(i: u32) -> f32 {
  var s = logits[i];
  for (var j = 1u; j < params.splits; j++) { s += logits[j * params.N * params.E + i]; }
  return s;
}

// A workgroup holds TPW tokens with LANES threads each. Lane l of a token owns experts l, l+8, l+16, ...;
// the token's scores live in workgroup memory so groups (which span lanes) can be scored. Reductions over
// a token's 8 lanes cost one barrier each: every lane folds the 8 partials itself, and partial buffers
// alternate between rounds so a round's writes never race the previous round's reads.

const NONE = 0xffffffffu;
// Dropped groups get MASKED and chosen experts TAKEN instead of -inf (WGSL has no infinity literal and may
// assume finite math): both sit below every real score, and validation guarantees topk experts remain
// outside dropped groups.
const MASKED = -3.0e38;
const TAKEN = -3.4e38;

var<workgroup> key: array<f32, TPW * MAX_E>;      // selection key: score + bias, MASKED / TAKEN
var<workgroup> gscore: array<f32, TPW * MAX_G>;
var<workgroup> red_v: array<f32, 2u * SEL_WG>;
var<workgroup> red_i: array<u32, 2u * SEL_WG>;

/** (va, ia) ranks before (vb, ib): higher value, then lower index; NONE ranks last. */
fn ranks_before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return ia != NONE && (ib == NONE || va > vb || (va == vb && ia < ib));
}

/** Max over the token's lanes (buffer `b` of the alternating pair). */
fn lanes_max(lid: u32, b: u32, v: f32) -> f32 {
  red_v[b * SEL_WG + lid] = v;
  workgroupBarrier();
  let base = b * SEL_WG + (lid / LANES) * LANES;
  var m = red_v[base];
  for (var j = 1u; j < LANES; j++) { m = max(m, red_v[base + j]); }
  return m;
}

fn lanes_sum(lid: u32, b: u32, v: f32) -> f32 {
  red_v[b * SEL_WG + lid] = v;
  workgroupBarrier();
  let base = b * SEL_WG + (lid / LANES) * LANES;
  var s = 0.0;
  for (var j = 0u; j < LANES; j++) { s += red_v[base + j]; }
  return s;
}

/** The best (key, expert) over the token's lanes. */
fn lanes_best(lid: u32, b: u32, v: f32, i: u32) -> u32 {
  red_v[b * SEL_WG + lid] = v;
  red_i[b * SEL_WG + lid] = i;
  workgroupBarrier();
  let base = b * SEL_WG + (lid / LANES) * LANES;
  var bv = red_v[base];
  var bi = red_i[base];
  for (var j = 1u; j < LANES; j++) {
    if (ranks_before(red_v[base + j], red_i[base + j], bv, bi)) {
      bv = red_v[base + j];
      bi = red_i[base + j];
    }
  }
  return bi;
}

/** The lane's best expert not yet taken. */
fn lane_best(kb: u32, lane: u32) -> vec2u {
  var bv = MASKED;
  var bi = NONE;
  for (var e = lane; e < params.E; e += LANES) {
    let k = key[kb + e];
    if (k != TAKEN && ranks_before(k, e, bv, bi)) { bv = k; bi = e; }
  }
  return vec2u(bitcast<u32>(bv), bi);
}

@compute @workgroup_size(SEL_WG)
fn select_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let slot = lid / LANES;
  let lane = lid % LANES;
  let t = (wg.x + wg.y * nwg.x) * TPW + slot;
  // Slots past N still take part in every barrier; they read nothing and write nothing.
  let live = t < params.N;
  let E = params.E;
  let row = t * E;
  let kb = slot * MAX_E;

  // 1. scores (softmax needs the row's max and sum; the unbiased score is recomputed for the weights)
  var m = 0.0;
  var inv_sum = 1.0;
  if (params.mixtral == 0u && params.sigmoid == 0u) {
    var pm = MASKED;
    if (live) { for (var e = lane; e < E; e += LANES) { pm = max(pm, logit(row + e)); } }
    m = lanes_max(lid, 0u, pm);
    var ps = 0.0;
    if (live) { for (var e = lane; e < E; e += LANES) { ps += exp(logit(row + e) - m); } }
    inv_sum = 1.0 / lanes_sum(lid, 1u, ps);
  }
  for (var e = lane; e < E; e += LANES) {
    var k = 0.0;
    if (live) {
      let l = logit(row + e);
      if (params.mixtral == 1u) { k = l; } else if (params.sigmoid == 1u) { k = 1.0 / (1.0 + exp(-l)); } else { k = exp(l - m) * inv_sum; }
      if (params.has_bias == 1u) { k += gate_bias[e]; }
    }
    key[kb + e] = k;
  }
  workgroupBarrier();

  // 2. group limit: a group's score is its max key, or the sum of its top-2 keys with a bias; an expert
  //    survives when fewer than topk_groups groups rank before its own (ties to the lower group).
  if (params.n_groups > 1u) {
    let gs = params.group_size;
    let gb = slot * MAX_G;
    for (var g = lane; g < params.n_groups; g += LANES) {
      var m1 = MASKED;
      var m2 = MASKED;
      for (var j = 0u; j < gs; j++) {
        let v = key[kb + g * gs + j];
        if (v > m1) { m2 = m1; m1 = v; } else if (v > m2) { m2 = v; }
      }
      gscore[gb + g] = select(m1, m1 + m2, params.has_bias == 1u);
    }
    workgroupBarrier();
    for (var e = lane; e < E; e += LANES) {
      let g = e / gs;
      var rank = 0u;
      for (var h = 0u; h < params.n_groups; h++) {
        if (ranks_before(gscore[gb + h], h, gscore[gb + g], g)) { rank++; }
      }
      if (rank >= params.topk_groups) { key[kb + e] = MASKED; }
    }
    workgroupBarrier();
  }

  // 3. top-k: each lane keeps the best of its experts; a round picks the token's winner (one barrier) and
  //    only the winner's lane rescans.
  var best = lane_best(kb, lane);
  for (var r = 0u; r < params.topk; r++) {
    let win = lanes_best(lid, r & 1u, bitcast<f32>(best.x), best.y);
    if (live && lane == 0u) { indices[t * params.topk + r] = i32(win); }
    if (win != NONE && win % LANES == lane) {
      key[kb + win] = TAKEN;
      best = lane_best(kb, lane);
    }
  }

  // 4. weights from the unbiased scores of the chosen experts (lane 0 reads back its own index writes)
  if (!live || lane != 0u) { return; }
  let k = params.topk;
  let out = t * k;
  if (params.mixtral == 1u) {
    var lm = MASKED;
    for (var j = 0u; j < k; j++) { lm = max(lm, logit(row + u32(indices[out + j]))); }
    var s = 0.0;
    for (var j = 0u; j < k; j++) { s += exp(logit(row + u32(indices[out + j])) - lm); }
    for (var j = 0u; j < k; j++) { weights[out + j] = exp(logit(row + u32(indices[out + j])) - lm) / s * params.route_scale; }
  } else if (params.sigmoid == 1u) {
    var s = 0.0;
    for (var j = 0u; j < k; j++) { s += 1.0 / (1.0 + exp(-logit(row + u32(indices[out + j])))); }
    for (var j = 0u; j < k; j++) { weights[out + j] = 1.0 / (1.0 + exp(-logit(row + u32(indices[out + j])))) / s * params.route_scale; }
  } else {
    for (var j = 0u; j < k; j++) { weights[out + j] = exp(logit(row + u32(indices[out + j])) - m) * inv_sum * params.route_scale; }
  }
}
