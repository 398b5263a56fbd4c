// moe.grouped_ffn tile pass, one workgroup: rows of expert e are offsets[e] .. offsets[e+1]-1; it numbers
// the BM-row tiles of all experts (tile_start[e] = sum of ceil(rows / BM) before e) and writes the indirect
// dispatch sizes of both matmuls, so exactly the needed workgroups launch. The tiled matmuls put column
// tiles in x and row tiles in y; the decode GEMV (ROW_TILES_IN_X) puts row tiles in x, so the tiles of one
// expert that read the same weight rows launch next to each other and the repeats hit the cache.
// Its own module and bind group: the indirect-argument buffer it writes is not bound while the matmuls
// read it as INDIRECT.

// Generated from src/kernels/moe/grouped-ffn.ts: the bindings (params, offsets [E + 1], tiles_out [2E + 2]: tile
// starts, then row offsets, dispatch_args [6]: up (x, y, z), down (x, y, z)) and the constants WG, BM (tile
// rows), ROW_TILES_IN_X (1 for the GEMV's grid) and ONE_PASS (1: the fused FFN, whose one launch has a
// single column in x and loops over the column blocks itself; the down sizes are then unused).

#include "lib/workgroup-scan.wgsl"

@compute @workgroup_size(WG)
fn tiles_main(@builtin(local_invocation_index) lid: u32) {
  let E = params.E;
  let span = thread_span(lid, E);
  var mine = 0u;
  for (var e = span.x; e < span.y; e++) { mine += (u32(offsets[e + 1u] - offsets[e]) + BM - 1u) / BM; }
  let total_here = workgroup_scan(lid, vec2u(mine, 0u)).x;
  var start = total_here - mine;
  for (var e = span.x; e < span.y; e++) {
    tiles_out[e] = start;
    tiles_out[E + 1u + e] = u32(offsets[e]);
    start += (u32(offsets[e + 1u] - offsets[e]) + BM - 1u) / BM;
  }
  if (lid == WG - 1u) {
    let total = total_here;
    tiles_out[E] = total;
    tiles_out[2u * E + 1u] = u32(offsets[E]);
    if (ROW_TILES_IN_X == 1u) {
      dispatch_args[0] = total;
      dispatch_args[1] = params.col_tiles_up;
      dispatch_args[3] = total;
      dispatch_args[4] = params.col_tiles_down;
    } else if (ONE_PASS == 1u) {
      dispatch_args[0] = 1u;
      dispatch_args[1] = total;
      dispatch_args[3] = 0u;
      dispatch_args[4] = 0u;
    } else {
      dispatch_args[0] = params.col_tiles_up;
      dispatch_args[1] = total;
      dispatch_args[3] = params.col_tiles_down;
      dispatch_args[4] = total;
    }
    dispatch_args[2] = 1u;
    dispatch_args[5] = 1u;
  }
}
