// True -inf, for outputs that must carry it (masked index scores, top-k padding values). WGSL rejects an
// infinite constant, so the bits are read from a private variable at run time. (Softmax code uses the finite
// NEG_INF of lib/constants.wgsl instead, so that m - m never makes inf - inf.)

var<private> NEG_INF_BITS: u32 = 0xff800000u;

fn neg_inf() -> f32 {
  return bitcast<f32>(NEG_INF_BITS);
}
