// The online-softmax update (Milakov & Gimelshein 2018; FlashAttention): a row seen block by block keeps a
// running max m and a running sum l of exp2(s - m); when a block raises the max, everything accumulated so far
// (l and the P.V accumulator) is scaled by alpha = exp2(m_old - m_new). Scores are in base 2 (pre-scaled by LOG2E).
#include "lib/constants.wgsl"

struct OnlineMax {
  m: f32,
  /** Factor for the sum and accumulator gathered under the old max. */
  alpha: f32,
}

fn online_max(m_old: f32, m_block: f32) -> OnlineMax {
  let m = max(m_old, m_block);
  return OnlineMax(m, exp2(m_old - m));
}

// exp2(s - m) for a visible score, exactly 0 for a masked one (s = NEG_INF), even when m is NEG_INF too.
fn masked_exp2(s: f32, m: f32) -> f32 {
  return select(exp2(s - m), 0.0, s <= NEG_INF);
}
