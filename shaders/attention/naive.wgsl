// attention.naive: standard attention as three passes, with the whole score matrix in device memory.
//   1. scores[t,h,s] = scale * q[t,h] . k[s,kvh]     tiled GEMM Q K^T per head (-inf above the causal diagonal)
//   2. softmax over s, in place                     one workgroup per row
//   3. out[t,h,:]    = sum_s P[t,h,s] * v[s,kvh,:]   tiled GEMM P V per head
// The GEMMs are tiled like any BLAS (16x16 tiles in workgroup memory); what makes this the baseline is the
// T*Hq*S score matrix written once and read twice: the traffic flash attention removes.
// `elem` is f32 or f16 storage (see src/gpu/shader.ts); all arithmetic is f32.

// Generated from src/kernels/attention/naive.ts: the bindings (params, q, k, v, scores, out), the constants
// TILE (GEMM tile edge) and WG (softmax workgroup, a power of two), and the workgroup arrays tileA, tileB
// [TILE][TILE] and reduce_scratch [WG].
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/row-softmax.wgsl"

// Last key position visible to any query of a tile of rows starting at t0 (causal), exclusive bound.
fn key_end(t0: u32) -> u32 {
  if (params.causal == 0u) { return params.S; }
  let last_t = min(t0 + TILE - 1u, params.T - 1u);
  return params.S - params.T + last_t + 1u;
}

// Workgroup (x: key tile, y: query tile, z: head); thread (x: key, y: query).
@compute @workgroup_size(TILE, TILE)
fn scores_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let h = wg.z;
  let kvh = h / params.group;
  let t = wg.y * TILE + lid.y;
  let s = wg.x * TILE + lid.x;
  let s0 = wg.x * TILE;
  // Whole tile above the diagonal: nothing to compute, only mask (uniform per workgroup).
  if (s0 >= key_end(wg.y * TILE)) {
    if (t < params.T && s < params.S) { scores[(t * params.Hq + h) * params.S + s] = NEG_INF; }
    return;
  }
  var acc = 0.0;
  for (var d0 = 0u; d0 < params.D; d0 += TILE) {
    let d = d0 + lid.x;
    // tileA[row][d] = q[t, h, d]; tileB[key][d] = k[s0 + key, kvh, d]
    var a = 0.0;
    if (t < params.T && d < params.D) { a = f32(q[(t * params.Hq + h) * params.D + d]); }
    tileA[lid.y][lid.x] = a;
    let sk = s0 + lid.y;
    var b = 0.0;
    if (sk < params.S && d < params.D) { b = f32(k[(sk * params.Hkv + kvh) * params.D + d]); }
    tileB[lid.y][lid.x] = b;
    workgroupBarrier();
    for (var j = 0u; j < TILE; j++) { acc += tileA[lid.y][j] * tileB[lid.x][j]; }
    workgroupBarrier();
  }
  if (t < params.T && s < params.S) {
    let visible = params.causal == 0u || s <= params.S - params.T + t;
    scores[(t * params.Hq + h) * params.S + s] = select(NEG_INF, acc * params.scale, visible);
  }
}

// One workgroup per row (t, h): softmax of its S scores in place (lib/row-softmax.wgsl).
@compute @workgroup_size(WG)
fn softmax_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.T * params.Hq) { return; } // uniform per workgroup, so the barriers inside are safe
  row_softmax(&scores, row * params.S, params.S, lid);
}

// Workgroup (x: tile of head dims, y: query tile, z: head); thread (x: dim, y: query).
@compute @workgroup_size(TILE, TILE)
fn pv_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let h = wg.z;
  let kvh = h / params.group;
  let t = wg.y * TILE + lid.y;
  let d = wg.x * TILE + lid.x;
  let s_end = key_end(wg.y * TILE); // probabilities past it are 0 for every row of the tile
  var acc = 0.0;
  for (var s0 = 0u; s0 < s_end; s0 += TILE) {
    // tileA[row][key] = P[t, h, s0 + key]; tileB[key][dim] = v[s0 + key, kvh, d]
    let sp = s0 + lid.x;
    var a = 0.0;
    if (t < params.T && sp < params.S) { a = scores[(t * params.Hq + h) * params.S + sp]; }
    tileA[lid.y][lid.x] = a;
    let sv = s0 + lid.y;
    var b = 0.0;
    if (sv < params.S && d < params.D) { b = f32(v[(sv * params.Hkv + kvh) * params.D + d]); }
    tileB[lid.y][lid.x] = b;
    workgroupBarrier();
    for (var j = 0u; j < TILE; j++) { acc += tileA[lid.y][j] * tileB[j][lid.x]; }
    workgroupBarrier();
  }
  if (t < params.T && d < params.D) { out[(t * params.Hq + h) * params.D + d] = elem(acc); }
}
