// The split-K merge of one output vec4 (row, col) of flash decoding, in one pass over the splits: a running
// (m, l, o), both sides rescaled to the larger max, so no second read of the maxima is needed. A split that saw
// no key has m = NEG_INF, l = 0, o = 0: its weight underflows to 0, or is 1 against l = 0 when no split saw one
// (then the row is 0, not NaN). The including module says where its partials live:
//   fn merge_ml(s: u32, row: u32) -> vec2f             (m, l) of split s for the row
//   fn merge_acc(s: u32, row: u32, col: u32) -> vec4f  split s's unnormalised accumulator vec4
#include "lib/lse-merge.wgsl"

fn lse_merge_column(row: u32, col: u32, splits: u32) -> vec4f {
  var m = NEG_INF;
  var l = 0.0;
  var o = vec4f(0.0);
  for (var s = 0u; s < splits; s++) {
    let ml = merge_ml(s, row);
    let big = max(m, ml.x);
    let wa = lse_weight(m, big);
    let wb = lse_weight(ml.x, big);
    l = l * wa + ml.y * wb;
    o = o * wa + merge_acc(s, row, col) * wb;
    m = big;
  }
  return o * safe_reciprocal(l);
}
