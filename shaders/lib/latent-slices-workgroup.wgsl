// slice_sum for lib/latent-split.wgsl without subgroups (or with fewer than 4 slices): every slice's partial
// scores go to workgroup memory as they are, and role b adds all KS of them.
const SLICE_LANES: u32 = 1u;

fn slice_sum(s: Scores8x4) -> Scores8x4 {
  return s;
}
