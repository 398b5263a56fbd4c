// Softmax in place over one row of a score buffer, one workgroup of WG threads per row (strided loops, tree
// reductions): max, sum of exponentials, normalise. Masked scores (NEG_INF) become exactly 0, and a row with no
// visible score becomes all 0 rather than NaN. Natural-base scores; the buffer is f32 whatever the storage type.
// Needs what lib/workgroup-reduce.wgsl needs (WG, reduce_scratch).
#include "lib/constants.wgsl"
#include "lib/workgroup-reduce.wgsl"

fn row_softmax(row: ptr<storage, array<f32>, read_write>, base: u32, n: u32, lid: u32) {
  var m = NEG_INF;
  for (var s = lid; s < n; s += WG) { m = max(m, (*row)[base + s]); }
  m = workgroup_max(lid, m);
  var sum = 0.0;
  for (var s = lid; s < n; s += WG) {
    let x = (*row)[base + s];
    sum += select(exp(x - m), 0.0, x <= NEG_INF);
  }
  let total = workgroup_sum(lid, sum);
  let inv = select(1.0 / total, 0.0, total == 0.0);
  for (var s = lid; s < n; s += WG) {
    let x = (*row)[base + s];
    (*row)[base + s] = select(exp(x - m) * inv, 0.0, x <= NEG_INF);
  }
}
