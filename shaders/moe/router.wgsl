// moe.router: the DeepSeek-V3 gate (inference/model.py, class Gate) in two passes.
//   logits_main: logits = x W_g^T on the shared barrier-free quad GEMM core (lib/gemm-quad.wgsl: GQ_BM
//                tokens x GQ_BN experts per workgroup, each quad a GQ_R x GQ_C register tile whose 4 lanes
//                split dim), so W_g is read once per token tile instead of once per token. At decode (few
//                tokens) router-gemv.wgsl computes the logits instead.
//   select_main: one invocation per token: scores (softmax | sigmoid), + bias for selection, group
//                scores (max, or top-2 sum with a bias), keep the best topk_groups groups, then a
//                register top-k by insertion (ties to the lower index); weights from the unbiased scores.

// Generated from src/kernels/moe/router.ts: the bindings (params, x [N, dim] and gate_weight [E, dim] as vec4,
// gate_bias [E], logits [splits, N, E], weights and indices [N, topk]), the GEMM core's constants and lane_sum
// (appended, with its workgroup array where it has one), and the selection's SEL_WG (tokens per workgroup),
// MAX_K and MAX_G (the top-k and groups a token holds) and FUSED_K4 (dim / 4 where the selection computes the
// logits itself, else 0).

#include "lib/gemm-quad.wgsl"

// Branch-free loaders (indices clamped into the matrix, k past dim zeroed by a select; dim % 4 == 0, so a
// vec4 of k is in or out whole): rows past N or E are never stored. An early return per load, inlined 32
// times into the written-out step, made SwiftShader's compile of this pipeline run for minutes.
fn gemm_load_a(m: u32, k: u32) -> vec4f {
  let v = x[(min(m, params.N - 1u) * params.dim + min(k, params.dim - 4u)) / 4u];
  return select(vec4f(0.0), v, k < params.dim);
}

fn gemm_load_b(n: u32, k: u32) -> vec4f {
  let v = gate_weight[(min(n, params.E - 1u) * params.dim + min(k, params.dim - 4u)) / 4u];
  return select(vec4f(0.0), v, k < params.dim);
}

@compute @workgroup_size(GQ_WG)
fn logits_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = gemm_quad(wg.y * GQ_BM, wg.x * GQ_BN, params.dim, li);
  // Lane i stores tokens i, i + 4, .. of the quad's tile.
  for (var r = li % 4u; r < GQ_R; r += 4u) {
    for (var c = 0u; c < GQ_CQ; c++) {
      let e = t.y + 4u * c;
      if (e < params.E) { store_logits(t.x + r, e, gq_c(r, c)); }
    }
  }
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
/**
 * Logit of token t, expert e: the sum of the dim slices the decode GEMV (router-gemv.wgsl) wrote (one slice
 * after logits_main), or, for a gate of FUSED_K4 > 0 vec4s per row (a few), the dot itself: re-reading W_g's
 * few vec4s (shared by every token, so cached) is cheaper than a logits pass that writes and re-reads [N, E].
 */
fn logit(t: u32, e: u32) -> f32 {
  if (FUSED_K4 > 0u) {
    var d = 0.0;
    for (var k = 0u; k < FUSED_K4; k++) { d += dot(x[t * FUSED_K4 + k], gate_weight[e * FUSED_K4 + k]); }
    return d;
  }
  let i = t * params.E + e;
  var s = logits[i];
  for (var j = 1u; j < params.splits; j++) { s += logits[j * params.N * params.E + i]; }
  return s;
}

// One invocation per token: tokens are independent, so the selection needs no workgroup memory and no
// barrier (CPU emulation parks every invocation at a barrier), and the top-k lives in the invocation's own
// sorted arrays. Experts are scanned in index order and enter only on a strictly higher key, which breaks
// ties towards the lower index.

const NONE = 0xffffffffu;
// Below every real key (WGSL has no infinity literal and may assume finite math). MASKED starts a group's
// top-2, EMPTY fills the top-k list before the first expert arrives.
const MASKED = -3.0e38;
const EMPTY = -3.4e38;

/** The unbiased score of a logit (softmax: given the row's max m and 1 / sum). */
fn score(l: f32, m: f32, inv_sum: f32) -> f32 {
  if (params.mixtral == 1u) { return l; }
  if (params.sigmoid == 1u) { return 1.0 / (1.0 + exp(-l)); }
  return exp(l - m) * inv_sum;
}

/**
 * Selection key of expert e. Without a bias every score function increases with the logit, so the logit
 * ranks experts and groups (a group's max) exactly as the score does, with no exp per expert; with a bias
 * the key is score + bias.
 */
fn sel_key(l: f32, e: u32, m: f32, inv_sum: f32) -> f32 {
  if (params.has_bias == 0u) { return l; }
  return score(l, m, inv_sum) + gate_bias[e];
}

@compute @workgroup_size(SEL_WG)
fn select_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wg.x + wg.y * nwg.x) * SEL_WG + lid;
  if (t >= params.N) { return; }
  let E = params.E;
  let K = params.topk;

  // 1. softmax's max and sum (the weights need them, and a biased key)
  var m = 0.0;
  var inv_sum = 1.0;
  if (params.mixtral == 0u && params.sigmoid == 0u) {
    m = EMPTY;
    for (var e = 0u; e < E; e++) { m = max(m, logit(t, e)); }
    var s = 0.0;
    for (var e = 0u; e < E; e++) { s += exp(logit(t, e) - m); }
    inv_sum = 1.0 / s;
  }

  // 2. group limit: a group's score is its max key, or the sum of its top-2 keys with a bias; a group is
  //    kept when fewer than topk_groups groups rank before it (higher score, ties to the lower group).
  let gs = params.group_size;
  var kept = vec2u(0xffffffffu); // bit g of MAX_G = 64
  if (params.n_groups > 1u) {
    var gscore: array<f32, MAX_G>;
    for (var g = 0u; g < params.n_groups; g++) {
      var m1 = MASKED;
      var m2 = MASKED;
      for (var e = g * gs; e < (g + 1u) * gs; e++) {
        let v = sel_key(logit(t, e), e, m, inv_sum);
        if (v > m1) { m2 = m1; m1 = v; } else if (v > m2) { m2 = v; }
      }
      gscore[g] = select(m1, m1 + m2, params.has_bias == 1u);
    }
    kept = vec2u(0u);
    for (var g = 0u; g < params.n_groups; g++) {
      var rank = 0u;
      for (var h = 0u; h < params.n_groups; h++) {
        if (gscore[h] > gscore[g] || (gscore[h] == gscore[g] && h < g)) { rank++; }
      }
      if (rank < params.topk_groups) { kept[g / 32u] |= 1u << (g % 32u); }
    }
  }

  // 3. top-k by insertion into a sorted list; `floor` (the list's last key) rejects most experts at once.
  var top_v: array<f32, MAX_K>;
  var top_i: array<u32, MAX_K>;
  for (var j = 0u; j < K; j++) { top_v[j] = EMPTY; top_i[j] = NONE; }
  var floor = EMPTY;
  for (var e = 0u; e < E; e++) {
    let g = e / gs;
    if ((kept[g / 32u] & (1u << (g % 32u))) == 0u) { continue; }
    let k = sel_key(logit(t, e), e, m, inv_sum);
    if (k > floor) {
      var j = K - 1u;
      while (j > 0u && k > top_v[j - 1u]) {
        top_v[j] = top_v[j - 1u];
        top_i[j] = top_i[j - 1u];
        j--;
      }
      top_v[j] = k;
      top_i[j] = e;
      floor = top_v[K - 1u];
    }
  }

  // 4. weights from the unbiased scores of the chosen experts
  let out = t * K;
  var w: array<f32, MAX_K>;
  var lm = EMPTY;
  for (var j = 0u; j < K; j++) {
    w[j] = logit(t, top_i[j]);
    lm = max(lm, w[j]);
  }
  var s = 0.0;
  for (var j = 0u; j < K; j++) {
    if (params.mixtral == 1u) { w[j] = exp(w[j] - lm); } else { w[j] = score(w[j], m, inv_sum); }
    s += w[j];
  }
  // Mixtral softmaxes over the chosen, sigmoid renormalises over them, softmax keeps the full-row weights.
  let norm = select(1.0, 1.0 / s, params.mixtral == 1u || params.sigmoid == 1u) * params.route_scale;
  for (var j = 0u; j < K; j++) {
    indices[out + j] = i32(top_i[j]);
    weights[out + j] = w[j] * norm;
  }
}
