// dot_rows: the dots of one input vec4 with the 4 weight vec4s of a quad's 4 rows, component c for row c. A
// quad of GEMV lanes that owns 4 weight rows keeps one vec4 accumulator per token row this way, so every
// input vec4 a lane loads serves 4 rows from registers (on CPU emulation each load with a computed index is
// a per-lane gather, ~20 instructions; these 16 FMAs cost ~30). The weights come as four values, not an
// array: a function-local array costs a copy through memory there.
fn dot_rows(v: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return vec4f(dot(v, w0), dot(v, w1), dot(v, w2), dot(v, w3));
}

// A tile's quad of 4 token rows against the same 4 weight rows: column t of the result is dot_rows(x[t], w[0],
// .., w[3]) = W^T x_t (x's columns the token rows, w's the weight rows). A GEMV over a tile of 8 token rows keeps
// one mat4x4 accumulator per (token quad, weight quad); each weight vec4 then serves 4 token rows, each token
// vec4 4 weight rows, all from registers.
fn quad_dots(x: mat4x4f, w: mat4x4f) -> mat4x4f {
  return transpose(w) * x;
}

// lane_sum (lib/lane-sum-*.wgsl, declared by the includer) of each column: the quad's K-split partials of 4
// token rows added up. Call in uniform control flow.
fn lane_sum_cols(m: mat4x4f, tid: u32) -> mat4x4f {
  return mat4x4f(lane_sum(m[0], tid), lane_sum(m[1], tid), lane_sum(m[2], tid), lane_sum(m[3], tid));
}

// Row r (< 8) of a tile held as two token quads.
fn tile_row(lo: mat4x4f, hi: mat4x4f, r: u32) -> vec4f {
  if (r < 4u) { return lo[r]; }
  return hi[r - 4u];
}
