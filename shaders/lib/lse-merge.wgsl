// Merging split-K partials (flash decoding): split i saw its keys with max m_i, sum l_i and accumulator o_i.
// With M = max_i m_i the row is sum_i w_i o_i / sum_i w_i l_i, w_i = exp2(m_i - M) (base-2 scores). A split
// that saw no key has l_i = 0 and o_i = 0, so its weight does not matter; a row no split saw has L = 0 -> 0.
#include "lib/constants.wgsl"

fn lse_weight(m_i: f32, big_m: f32) -> f32 {
  return exp2(m_i - big_m);
}

// 1 / L, or 0 for a row with no visible key (its output is 0, not NaN).
fn safe_reciprocal(l: f32) -> f32 {
  return select(0.0, 1.0 / l, l > 0.0);
}
