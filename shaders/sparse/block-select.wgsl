// sparse.block_select (appended to masked-flash.wgsl): MoBA / NSA-style block-sparse attention.
//   pool_main:   block key = mean of the block's keys, per KV head. A thread sums one vec4 column of one
//                piece (at most `piece` keys) of a block for one KV head, divided by the block's length, so
//                the pieces of a block add up to its mean; the host sizes pieces so that a workgroup sums at
//                most 64 KiB of K or the dispatch has >= 512 workgroups           -> pooled
//   score_main:  block score = q . (sum of the block's pooled pieces) per (query, head), SCORE_WG threads a
//                workgroup (sized by the host like the pieces); blocks starting after the query are -inf
//                (causal), the query's own block +inf (always kept)                -> block_scores
//   (sparse.topk keeps the best `top` blocks of each (query, head) row, ascending        -> sel)
//   attend_main: a row block takes the union of its rows' selected blocks from a bitmap and walks only those
//                blocks' keys; visible() keeps, per row, the blocks that row chose (causal inside its own).
//                The union's blocks, in order and each counted as `block` positions, are the row block's key
//                sequence that split-K cuts across workgroups.
// Pooling and scoring use no workgroup memory and no barrier: on CPU emulation a barrier turns every
// subgroup of a workgroup into a coroutine, which costs more than these passes' arithmetic.

// Its own bindings (generated): pooled [n_blocks, pieces, Hkv, D] (vec4f), block_scores [T * Hq, n_blocks]
// (f32), sel [T * Hq, top] (i32, ascending, -1 padded); constants BITW (bitmap words, ceil(n_blocks / 32))
// and SCORE_WG; workgroup arrays bits (atomic) and bits_plain (the union bitmap), row_sel (does row r attend
// to the block being walked?) and row_cur (row r's position in its ascending selection list).

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

fn visible(r: u32, key: u32) -> bool {
  return row_sel[r] != 0u && (params.causal == 0u || key <= row_pos[r]);
}

// Grid: Hkv * row_blocks * splits workgroups; rows are (query, head) pairs of one KV head, query-major.
@compute @workgroup_size(WG)
fn attend_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var w = lid; w < BITW; w += WG) { atomicStore(&bits[w], 0u); }
  let item = split_item(linear_group(wg, nwg));
  if (item.x >= params.Hkv * params.row_blocks) { return; }
  let rb = head_row_block(item.x);
  let split = item.y;
  if (lid < BR) { row_cur[lid] = 0u; }
  rows_by_query(lid, rb);
  // Union of the rows' selections.
  for (var i = lid; i < BR * params.top; i += WG) {
    let row = row_q[i / params.top];
    if (row >= 0) {
      let b = sel[u32(row) * params.top + i % params.top];
      if (b >= 0) { atomicOr(&bits[u32(b) / 32u], 1u << (u32(b) % 32u)); }
    }
  }
  workgroupBarrier();
  for (var w = lid; w < BITW; w += WG) { bits_plain[w] = atomicLoad(&bits[w]); }
  flash_begin(lid);
  let t_hi = (min(params.T * params.group, (rb + 1u) * BR) - 1u) / params.group;
  let p_hi = params.S - params.T + t_hi;
  // Union blocks before this split's first position are skipped whole (their ordinal is all it takes).
  let first = split * params.chunk / params.block;
  var ordinal = 0u;
  for (var w = 0u; w < BITW; w++) {
    var word = workgroupUniformLoad(&bits_plain[w]);
    if (ordinal + countOneBits(word) <= first) {
      ordinal += countOneBits(word);
      continue;
    }
    if (ordinal * params.block >= (split + 1u) * params.chunk) { break; }
    while (word != 0u) {
      let b = w * 32u + countTrailingZeros(word);
      word &= word - 1u;
      let vbase = ordinal * params.block;
      ordinal += 1u;
      if (vbase + params.block <= split * params.chunk) { continue; }
      if (vbase >= (split + 1u) * params.chunk) { break; }
      if (lid < BR) {
        // Selections are ascending and blocks are walked ascending: advance this row's cursor.
        var hit = 0u;
        let row = row_q[lid];
        if (row >= 0) {
          var cur = row_cur[lid];
          loop {
            if (cur >= params.top) { break; }
            let s = sel[u32(row) * params.top + cur];
            if (s < 0 || u32(s) >= b) { break; }
            cur += 1u;
          }
          row_cur[lid] = cur;
          if (cur < params.top && sel[u32(row) * params.top + cur] == i32(b)) { hit = 1u; }
        }
        row_sel[lid] = hit;
      }
      var end = min(params.S, (b + 1u) * params.block);
      if (params.causal != 0u) { end = min(end, p_hi + 1u); }
      // Positions past the causal end are counted but not walked.
      walk_split_span(lid, split, vbase, b * params.block, max(end, b * params.block));
    }
  }
  flash_end(lid, split);
}
