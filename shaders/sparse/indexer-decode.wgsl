// sparse.indexer, decode (T <= 4, KEYS_PATH_MAX_T in src/kernels/sparse/indexer.ts): I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]) with the index heads
// as the M dimension, as in DeepGEMM's fp8_mqa_logits: a walker (a workgroup of L = 4 invocations, one
// subgroup) takes one query and a range of kpw keys (split-K over the keys: >= 512 walkers or <= 64 KiB of
// index keys each) and reads every key row once for all heads. Lane i owns the vec4 columns 4 j + i of the
// rows (adjacent lanes read adjacent vec4s: coalesced) and keeps those columns of IHB heads' queries in a
// private array; per key it dots its columns for 16 heads at a time (16 score registers), lane_sum
// (lib/lane-sum-*.wgsl) adds the 4 lanes, and the ReLU * w epilogue and the head sum run in registers. More
// than IHB heads: the walker runs over head blocks, adding each block's sums onto the stored scores.
// Why the column and head loops are written out (nested helpers called with constant arguments): SwiftShader
// inlines every function and folds the constants, so iq[h * IDJ + j] gets a compile-time index, one vector
// load for the 4 lanes, where a loop index makes it a per-lane gather of ~20 instructions (docs/environment.md).
// Causal: keys after a query's position score -inf.
//
// Generated from src/kernels/sparse/indexer.ts: the bindings params, q_index, k_index (vec4<elem>), w_index
// (elem), index_scores (f32); the constants L, IDQ (vec4s per row, Di / 4), IDJ = ceil(IDQ / 4), IHB (heads
// per block); lane_sum (and lane_red for its workgroup-memory version), appended by the host.
#include "lib/grid.wgsl"
#include "lib/infinity.wgsl"

// This lane's columns of the block's queries, iq[h * IDJ + j] = q[h][4 j + lane] (0 past the row), and the
// block's head weights (0 past Hi); the 16 scores of a pass; the current key's row offset.
var<private> iq: array<vec4f, IHB * IDJ>;
var<private> iw: array<f32, IHB>;
var<private> isc: array<f32, 16>;
var<private> ilane: u32;
var<private> krow: u32;

fn ix_head(p: u32, h: u32, j: u32, k: vec4f) {
  let hb = 16u * p + h;
  if (hb < IHB) { isc[h] += dot(iq[hb * IDJ + j], k); }
}

fn ix_col(p: u32, j: u32) {
  if (j >= IDJ) { return; }
  let k = vec4f(k_index[krow + min(4u * j + ilane, IDQ - 1u)]);
  ix_head(p, 0u, j, k); if (IHB > 1u) { ix_head(p, 1u, j, k); } if (IHB > 2u) { ix_head(p, 2u, j, k); } if (IHB > 3u) { ix_head(p, 3u, j, k); }
  if (IHB > 4u) { ix_head(p, 4u, j, k); ix_head(p, 5u, j, k); ix_head(p, 6u, j, k); ix_head(p, 7u, j, k); }
  if (IHB > 8u) { ix_head(p, 8u, j, k); ix_head(p, 9u, j, k); ix_head(p, 10u, j, k); ix_head(p, 11u, j, k); }
  if (IHB > 12u) { ix_head(p, 12u, j, k); ix_head(p, 13u, j, k); ix_head(p, 14u, j, k); ix_head(p, 15u, j, k); }
}

fn ix_cols4(p: u32, j: u32) { ix_col(p, j); ix_col(p, j + 1u); ix_col(p, j + 2u); ix_col(p, j + 3u); }

// The guards are constant expressions, so the calls past the row are dropped before inlining (unguarded,
// the whole tree is inlined first and takes minutes to compile).
fn ix_cols(p: u32) {
  if (IDJ > 0u) { ix_cols4(p, 0u); } if (IDJ > 4u) { ix_cols4(p, 4u); } if (IDJ > 8u) { ix_cols4(p, 8u); } if (IDJ > 12u) { ix_cols4(p, 12u); }
  if (IDJ > 16u) { ix_cols4(p, 16u); } if (IDJ > 20u) { ix_cols4(p, 20u); } if (IDJ > 24u) { ix_cols4(p, 24u); } if (IDJ > 28u) { ix_cols4(p, 28u); }
  if (IDJ > 32u) { ix_cols4(p, 32u); } if (IDJ > 36u) { ix_cols4(p, 36u); } if (IDJ > 40u) { ix_cols4(p, 40u); } if (IDJ > 44u) { ix_cols4(p, 44u); }
  if (IDJ > 48u) { ix_cols4(p, 48u); } if (IDJ > 52u) { ix_cols4(p, 52u); } if (IDJ > 56u) { ix_cols4(p, 56u); } if (IDJ > 60u) { ix_cols4(p, 60u); }
}

// sum_h w_h ReLU(s_h) over heads 4 g .. 4 g + 3 of pass p, the lanes' parts added. Uniform control flow.
fn ix_relu_w(p: u32, g: u32, tid: u32) -> f32 {
  let hb = 16u * p + 4u * g;
  if (hb >= IHB) { return 0.0; }
  let s = lane_sum(vec4f(isc[4u * g], isc[4u * g + 1u], isc[4u * g + 2u], isc[4u * g + 3u]), tid);
  let w = vec4f(iw[hb], iw[min(hb + 1u, IHB - 1u)], iw[min(hb + 2u, IHB - 1u)], iw[min(hb + 3u, IHB - 1u)]);
  let on = vec4u(hb) + vec4u(0u, 1u, 2u, 3u) < vec4u(IHB);
  return dot(select(vec4f(0.0), w, on), max(s, vec4f(0.0)));
}

// Pass p: heads 16 p .. 16 p + 15 of the block against the current key.
fn ix_pass(p: u32, tid: u32) -> f32 {
  if (16u * p >= IHB) { return 0.0; }
  isc = array<f32, 16>();
  ix_cols(p);
  return ix_relu_w(p, 0u, tid) + ix_relu_w(p, 1u, tid) + ix_relu_w(p, 2u, tid) + ix_relu_w(p, 3u, tid);
}

// The block's contribution to key `key`'s score (every lane holds it).
fn ix_key(key: u32, tid: u32) -> f32 {
  krow = key * IDQ;
  var v = ix_pass(0u, tid);
  if (IHB > 16u) { v += ix_pass(1u, tid); }
  if (IHB > 32u) { v += ix_pass(2u, tid); }
  if (IHB > 48u) { v += ix_pass(3u, tid); }
  return v;
}

// Walker g: query g / ranges, keys [r * kpw, (r + 1) * kpw) of range r = g % ranges.
@compute @workgroup_size(L)
fn keys_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  let t = g / params.ranges;
  if (t >= params.T) { return; } // uniform per workgroup
  ilane = lid;
  let s0 = (g % params.ranges) * params.kpw;
  let s1 = min(s0 + params.kpw, params.S);
  let last = params.S - params.T + t;
  for (var h0 = 0u; h0 < params.Hi; h0 += IHB) {
    // Heads outer, columns inner: no division per element (a u32 division is per lane on CPU emulation).
    for (var x = 0u; x < IHB; x++) {
      let h = h0 + x;
      for (var j = 0u; j < IDJ; j++) {
        let d = 4u * j + lid;
        var v = vec4f(0.0);
        if (h < params.Hi && d < IDQ) { v = vec4f(q_index[(t * params.Hi + h) * IDQ + d]); }
        iq[x * IDJ + j] = v;
      }
    }
    for (var x = 0u; x < IHB; x++) {
      var w = 0.0;
      if (h0 + x < params.Hi) { w = f32(w_index[t * params.Hi + h0 + x]); }
      iw[x] = w;
    }
    for (var s = s0; s < s1; s++) {
      let o = t * params.S + s;
      if (params.causal != 0u && s > last) {
        if (lid == 0u) { index_scores[o] = neg_inf(); }
        continue;
      }
      let v = ix_key(s, lid);
      if (lid == 0u) { index_scores[o] = select(v, v + index_scores[o], h0 > 0u); }
    }
  }
}
