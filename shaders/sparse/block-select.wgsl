// sparse.block_select (appended to key-walk.wgsl): MoBA / NSA-style block-sparse attention.
//   pool_main:   block key = mean of the block's keys, per KV head. A thread sums one vec4 column of one
//                piece (at most `piece` keys) of a block for one KV head, divided by the block's length, so
//                the pieces of a block add up to its mean; the host sizes pieces so that a workgroup sums at
//                most 64 KiB of K or the dispatch has >= 512 workgroups           -> pooled
//   score_main:  block score = q . (sum of the block's pooled pieces) per (query, head), SCORE_WG threads a
//                workgroup (sized by the host like the pieces); blocks starting after the query are -inf
//                (causal), the query's own block +inf (always kept)                -> block_scores
//   (sparse.topk keeps the best `top` blocks of each (query, head) row, ascending        -> sel)
//   attend_main: a quad of rows walks the union of its 4 rows' selected blocks, merging their ascending
//                selection lists as it goes, and reads only those blocks' keys; visible4() keeps, per row,
//                the blocks that row chose (causal inside its own). The union's blocks, in order and each
//                counted as `block` positions, are the quad's key sequence that split-K cuts across walkers.
// No pass uses workgroup memory or a barrier: on CPU emulation a barrier turns every subgroup of a
// workgroup into a coroutine, which costs more than these passes' arithmetic.

// Its own bindings (generated): pooled [n_blocks, pieces, Hkv, D] (vec4f), block_scores [T * Hq, n_blocks]
// (f32), sel [T * Hq, top] (i32, ascending, -1 padded); constant SCORE_WG.

var<private> INF_BITS: vec2<u32> = vec2<u32>(0x7f800000u, 0xff800000u);

// Thread i = ((block * pieces + piece) * Hkv + head) * D4 + column: consecutive threads read consecutive
// vec4s of one key row (coalesced), and i is the pooled vec4 it writes.
@compute @workgroup_size(WG)
fn pool_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i >= params.n_blocks * params.pieces * params.Hkv * D4) { return; }
  let head = (i / D4) % params.Hkv;
  let bp = i / (params.Hkv * D4);
  let block_begin = (bp / params.pieces) * params.block;
  let block_end = min(params.S, block_begin + params.block);
  let begin = block_begin + (bp % params.pieces) * params.piece;
  let end = min(block_end, begin + params.piece);
  var sum = vec4<f32>(0.0);
  for (var s = begin; s < end; s++) { sum += vec4<f32>(k[s * params.k_row4 + head * D4 + i % D4]); }
  pooled[i] = sum / f32(block_end - block_begin);
}

@compute @workgroup_size(SCORE_WG)
fn score_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * SCORE_WG + lid;
  if (i >= params.T * params.Hq * params.n_blocks) { return; }
  let row = i / params.n_blocks; // t * Hq + h
  let b = i % params.n_blocks;
  let p = params.S - params.T + row / params.Hq;
  let head = (row % params.Hq) / params.group;
  var score: f32;
  if (params.causal != 0u && b * params.block > p) {
    score = bitcast<f32>(INF_BITS.y);
  } else if (b == p / params.block) {
    score = bitcast<f32>(INF_BITS.x);
  } else {
    var d = 0.0;
    for (var j = 0u; j < params.pieces; j++) {
      let base = ((b * params.pieces + j) * params.Hkv + head) * D4;
      for (var d4 = 0u; d4 < D4; d4++) { d += dot(vec4<f32>(q[row * D4 + d4]), pooled[base + d4]); }
    }
    score = d;
  }
  block_scores[i] = score;
}

// Which of the quad's rows chose the block being walked (set by attend_main before it walks the block).
var<private> block_rows: vec4<bool>;

fn visible4(w: Quad, key: u32) -> vec4<bool> {
  return block_rows & (vec4<bool>(params.causal == 0u) | (vec4<u32>(key) <= w.pos));
}

// Row r's next selected block at cursor cur (its list is ascending, -1 padded), or NONE.
const NONE: u32 = 0xffffffffu;

fn sel_at(w: Quad, r: u32, cur: u32) -> u32 {
  if (w.row[r] < 0 || cur >= params.top) { return NONE; }
  let b = sel[u32(w.row[r]) * params.top + cur];
  return select(NONE, u32(b), b >= 0);
}

// Grid: Hkv * row_blocks * splits walkers; row block b of KV head h is quad b of its query-major rows.
@compute @workgroup_size(LANES)
fn attend_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = split_item(linear_group(wg, nwg));
  if (item.x >= params.Hkv * params.row_blocks) { return; }
  let w = begin_query_quad(lid, item.x);
  let split = item.y;
  let p_hi = quad_last_pos(w);
  let lo = split * params.chunk;
  let hi = lo + min(params.chunk, NONE - lo);
  // Merge the 4 ascending lists: each union block once, in order; its ordinal * block is its first position.
  var cur = vec4<u32>(0u);
  var ordinal = 0u;
  loop {
    let next = vec4<u32>(sel_at(w, 0u, cur.x), sel_at(w, 1u, cur.y), sel_at(w, 2u, cur.z), sel_at(w, 3u, cur.w));
    let b = min(min(next.x, next.y), min(next.z, next.w));
    if (b == NONE) { break; }
    let hit = next == vec4<u32>(b);
    cur += select(vec4<u32>(0u), vec4<u32>(1u), hit);
    let vbase = ordinal * params.block;
    ordinal += 1u;
    if (vbase >= hi) { break; }
    if (vbase + params.block <= lo) { continue; }
    block_rows = hit;
    var end = min(params.S, (b + 1u) * params.block);
    if (params.causal != 0u) { end = min(end, p_hi + 1u); }
    // Positions past the causal end are counted but not walked.
    walk_split_span(lid, w, split, vbase, b * params.block, max(end, b * params.block));
  }
  walk_end(lid, w, split);
}
