// sparse.sliding_window (appended to key-walk.wgsl): causal sliding-window attention with attention sinks.
// Key s is visible to the query at position p when s <= p and (p - s < window or s < sinks). A quad of rows
// with queries p_lo..p_hi can only see keys in [0, sinks) and [p_lo - window + 1, p_hi], so its walker visits
// exactly those two spans: keys outside the window are never loaded, and the work per query is bounded by
// window + sinks however long the context. The two spans, concatenated, are the quad's key sequence, which
// split-K cuts across walkers (decode: a window of 2048 keys becomes ~64 walkers per KV head instead of one).

// Its own binding (generated): selected [T, S], the visibility mask_main writes.

fn window_visible(p: u32, key: u32) -> bool {
  return key <= p && (p - key < params.window || key < params.sinks);
}

fn visible4(w: Quad, key: u32) -> vec4<bool> {
  return vec4<bool>(window_visible(w.pos.x, key), window_visible(w.pos.y, key), window_visible(w.pos.z, key), window_visible(w.pos.w, key));
}

// One walker per (row block, split) of Hkv * row_blocks * splits: it walks the sinks, then the union of its 4
// queries' windows (consecutive positions, so one span), each key once for all 4.
@compute @workgroup_size(LANES)
fn attend_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = split_item(linear_group(wg, nwg));
  if (item.x >= params.Hkv * params.row_blocks) { return; }
  walk_window(lid, begin_query_quad(lid, item.x), item.y);
}

fn walk_window(lid: u32, w: Quad, split: u32) {
  let p_lo = w.pos.x;
  let p_hi = quad_last_pos(w);
  let sink_end = min(params.sinks, p_hi + 1u);
  var win_begin = 0u;
  if (p_lo + 1u > params.window) { win_begin = p_lo + 1u - params.window; }
  walk_split_span(lid, w, split, 0u, 0u, sink_end);
  walk_split_span(lid, w, split, sink_end, max(win_begin, sink_end), p_hi + 1u);
  walk_end(lid, w, split);
}

// "What it attended to": selected[t, s] = 1 where key s is visible to query t (the same for every head).
@compute @workgroup_size(WG)
fn mask_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i >= params.T * params.S) { return; }
  let t = i / params.S;
  selected[i] = select(0, 1, window_visible(params.S - params.T + t, i % params.S));
}
