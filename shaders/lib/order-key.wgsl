// Float -> u32 key with the same order (shared by sparse.topk and sparse.sort_baseline): positive floats get
// the sign bit set, negative ones are bit-inverted, so larger floats have larger unsigned keys and a radix
// select / sort on the keys is a select / sort on the floats. -0 is folded onto +0 (they compare equal, so
// they must tie and fall back to the lower index).
#include "lib/infinity.wgsl"

fn order_key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if (b == 0x80000000u) { b = 0u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Selectable entries: finite or +inf. -inf marks a masked position and NaN is never selected.
fn is_valid(v: f32) -> bool {
  let b = bitcast<u32>(v);
  return (b & 0x7fffffffu) < 0x7f800000u || b == 0x7f800000u;
}
