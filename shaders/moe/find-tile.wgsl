// The row tile a grouped-FFN workgroup computes, from the tile table of shaders/moe/expert-tiles.wgsl
// ([tile starts (E+1), row offsets (E+1)]). The including module declares `params: FfnParams`,
// `tiles: array<u32>` and the tile height BM.

struct TileInfo {
  expert: u32,
  row0: u32,    // first row of the tile
  row_end: u32, // one past the expert's last row
}

/** Expert of row tile `tile`: the last e with tile_start[e] <= tile (skips empty experts). */
fn find_tile(tile: u32) -> TileInfo {
  let E = params.E;
  var lo = 0u;
  var hi = E - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (tiles[mid] <= tile) { lo = mid; } else { hi = mid - 1u; }
  }
  let row0 = tiles[E + 1u + lo] + (tile - tiles[lo]) * BM;
  return TileInfo(lo, row0, tiles[E + 2u + lo]);
}
