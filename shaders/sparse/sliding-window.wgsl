// sparse.sliding_window (appended to masked-flash.wgsl): causal sliding-window attention with attention
// sinks. Key s is visible to the query at position p when s <= p and (p - s < window or s < sinks). A row
// block of queries p_lo..p_hi can only see keys in [0, sinks) and [p_lo - window + 1, p_hi], so the
// workgroup walks exactly those two spans: tiles outside the window are never loaded, and the work per
// query is bounded by window + sinks however long the context. The two spans, concatenated, are the row
// block's key sequence, which split-K cuts across workgroups (decode: a window of 2048 keys becomes ~128
// workgroups per KV head instead of one).

// Its own binding (generated): selected [T, S], the visibility mask_main writes.

fn window_visible(p: u32, key: u32) -> bool {
  return key <= p && (p - key < params.window || key < params.sinks);
}

fn visible(r: u32, key: u32) -> bool {
  return window_visible(row_pos[r], key);
}

// Grid: Hkv * row_blocks * splits workgroups; rows are (query, head) pairs of one KV head, query-major.
@compute @workgroup_size(WG)
fn attend_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = split_item(linear_group(wg, nwg));
  if (item.x >= params.Hkv * params.row_blocks) { return; }
  let rb = head_row_block(item.x);
  let split = item.y;
  rows_by_query(lid, rb);
  flash_begin(lid);
  let rows = params.T * params.group;
  let t_lo = rb * BR / params.group;
  let t_hi = (min(rows, (rb + 1u) * BR) - 1u) / params.group;
  let p_lo = params.S - params.T + t_lo;
  let p_hi = params.S - params.T + t_hi;
  let sink_end = min(params.sinks, p_hi + 1u);
  var win_begin = 0u;
  if (p_lo + 1u > params.window) { win_begin = p_lo + 1u - params.window; }
  walk_split_span(lid, split, 0u, 0u, sink_end);
  walk_split_span(lid, split, sink_end, max(win_begin, sink_end), p_hi + 1u);
  flash_end(lid, split);
}

// "What it attended to": selected[t, s] = 1 where key s is visible to query t (the same for every head).
@compute @workgroup_size(WG)
fn mask_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i >= params.T * params.S) { return; }
  let t = i / params.S;
  selected[i] = select(0, 1, window_visible(params.S - params.T + t, i % params.S));
}
