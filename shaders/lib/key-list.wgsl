// Entry i of query t's key list (DSA: topk_indices [T, top], which the includer binds next to its params):
// the key, or -1 for an empty slot, an entry >= S and, when causal, a key after the query (position
// S - T + t), so a kernel filters the list once for every head of the query.
fn listed_key(t: u32, i: u32) -> i32 {
  let s = topk_indices[t * params.top + i];
  let p = params.S - params.T + t;
  if (s < 0 || u32(s) >= params.S || (params.causal != 0u && u32(s) > p)) { return -1; }
  return s;
}
