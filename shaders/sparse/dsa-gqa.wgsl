// sparse.dsa_attention in GQA / MQA layout (appended to key-walk.wgsl): each query attends only to the keys
// listed in its row of topk_indices [T, top] (-1 = empty; entries >= S or, when causal, after the query are
// skipped). DSA selects once per token for all heads, so a walker takes a quad of heads of one query that
// share a KV head and reads each listed K/V row once for all 4 of them; split-K cuts the list itself across
// walkers (its positions are the quad's key sequence), decode and prefill alike. (The MLA latent layout runs
// on the latent core: dsa-mla.wgsl over lib/latent-split.wgsl.)

// Its own binding (generated): topk_indices [T, top].

// The listed keys were filtered for the whole query (listed_key): every live row of the quad sees them.
fn visible4(w: Quad, key: u32) -> vec4<bool> {
  return vec4<bool>(true);
}

#include "lib/key-list.wgsl"

// Heads 4b .. 4b + 3 of KV head kvh's group, all at query t.
fn quad_of_query(t: u32, kvh: u32, b: u32) -> Quad {
  var w = Quad(kvh, vec4<i32>(-1), vec4<u32>(params.S - params.T + t));
  for (var r = 0u; r < 4u; r++) {
    if (b * 4u + r < params.group) { w.row[r] = i32(t * params.Hq + kvh * params.group + b * 4u + r); }
  }
  return w;
}

// Grid: T * Hkv * row_blocks * splits walkers; row block b holds heads 4b .. 4b + 3 of KV head kvh's group.
@compute @workgroup_size(LANES)
fn attend_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = split_item(linear_group(wg, nwg));
  if (item.x >= params.T * params.Hkv * params.row_blocks) { return; }
  let t = item.x / (params.row_blocks * params.Hkv);
  let w = quad_of_query(t, (item.x / params.row_blocks) % params.Hkv, item.x % params.row_blocks);
  let split = item.y;
  walk_begin(lid, w);
  let lo = min(params.top, split * params.chunk);
  let hi = min(params.top, lo + params.chunk);
  for (var i = lo; i < hi; i += 4u) {
    var keys = vec4<i32>(-1);
    for (var j = 0u; j < 4u; j++) {
      if (i + j < hi) { keys[j] = listed_key(t, i + j); }
    }
    walk_four(lid, w, keys);
  }
  walk_end(lid, w, split);
}
