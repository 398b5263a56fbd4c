// row_sum: the sum of one vec4 over the TPR consecutive logical lanes of a row of a GEMV workgroup (TPR a
// power of two dividing WG, declared by the including module with WG and MT, the tokens of a tile);
// rows_sum: the same for a GEMV thread's MT per-token partial dots. Lanes are first summed inside their
// subgroup by partial_sum (shaders/lib/row-lanes-subgroup.wgsl; the workgroup-memory variant,
// row-lanes-workgroup.wgsl, sums nothing there), then the partial sums of a row meet in workgroup memory.
// It runs once per output after a whole K loop, so its two barriers cost nothing against the weight stream.
// Call in uniform control flow; the result is valid in the row's first lane (p % TPR == 0).

struct Lanes {
  p: u32,     // logical lane index: row p / TPR, position p % TPR along K
  width: u32, // aligned lanes that partial_sum adds up (a power of two <= TPR)
}

var<workgroup> row_red: array<vec4f, WG>;

fn row_sum(v: vec4f, lanes: Lanes) -> vec4f {
  let s = partial_sum(v, lanes.width);
  if (lanes.p % lanes.width == 0u) { row_red[lanes.p / lanes.width] = s; }
  workgroupBarrier();
  var total = vec4f(0.0);
  if (lanes.p % TPR == 0u) {
    let base = lanes.p / lanes.width;
    for (var i = 0u; i < TPR / lanes.width; i++) { total += row_red[base + i]; }
  }
  workgroupBarrier();
  return total;
}

fn rows_sum(a: array<f32, MT>, lanes: Lanes) -> array<f32, MT> {
  var out: array<f32, MT>;
  for (var i = 0u; i < MT; i += 4u) {
    let s = row_sum(vec4f(a[i], a[i + 1u], a[i + 2u], a[i + 3u]), lanes);
    out[i] = s.x;
    out[i + 1u] = s.y;
    out[i + 2u] = s.z;
    out[i + 3u] = s.w;
  }
  return out;
}
