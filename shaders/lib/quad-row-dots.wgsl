// dot_rows: the dots of one input vec4 with the 4 weight vec4s of a quad's 4 rows, component c for row c. A
// quad of GEMV lanes that owns 4 weight rows keeps one vec4 accumulator per token row this way, so every
// input vec4 a lane loads serves 4 rows from registers (on CPU emulation each load with a computed index is
// a per-lane gather, ~20 instructions; these 16 FMAs cost ~30). The weights come as four values, not an
// array: a function-local array costs a copy through memory there.
fn dot_rows(v: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return vec4f(dot(v, w0), dot(v, w1), dot(v, w2), dot(v, w3));
}
