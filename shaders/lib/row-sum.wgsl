// row_sum / row_sum2: the sum of one (two) vec4 over the TPR consecutive logical lanes of a row of a GEMV
// workgroup (TPR a power of two dividing WG, declared by the including module with WG). Lanes are first
// summed inside their subgroup by partial_sum (shaders/lib/row-lanes-subgroup.wgsl; the workgroup-memory
// variant, row-lanes-workgroup.wgsl, sums nothing there and declares more ROW_SLOTS), then the partial sums
// of a row meet in workgroup memory. It runs once per output after a whole K loop, so its two barriers cost
// little against the weight stream. Call in uniform control flow; the result is valid in the row's first
// lane (p % TPR == 0).

struct Lanes {
  p: u32,     // logical lane index: row p / TPR, position p % TPR along K
  width: u32, // aligned lanes that partial_sum adds up (a power of two <= TPR)
}

var<workgroup> row_red: array<vec4f, 2u * ROW_SLOTS>;

fn row_sum2(a: vec4f, b: vec4f, lanes: Lanes) -> array<vec4f, 2> {
  let sa = partial_sum(a, lanes.width);
  let sb = partial_sum(b, lanes.width);
  let slot = lanes.p / lanes.width;
  if (lanes.p % lanes.width == 0u) {
    row_red[2u * slot] = sa;
    row_red[2u * slot + 1u] = sb;
  }
  workgroupBarrier();
  var ta = vec4f(0.0);
  var tb = vec4f(0.0);
  if (lanes.p % TPR == 0u) {
    for (var i = slot; i < slot + TPR / lanes.width; i++) {
      ta += row_red[2u * i];
      tb += row_red[2u * i + 1u];
    }
  }
  workgroupBarrier();
  return array<vec4f, 2>(ta, tb);
}

fn row_sum(a: vec4f, lanes: Lanes) -> vec4f {
  return row_sum2(a, vec4f(0.0), lanes)[0];
}
