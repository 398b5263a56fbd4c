// What flash_decode and flash_prefill share: a quad of 4 query rows whose scores (or probabilities) of one
// key travel as one vec4, and the registers of one (quad, vec4 column) of O.
// Named fields, not an array: on CPU emulation an array indexed in a loop lives in memory.

// The quad's 4 scores of one key chunk: dot products of each row's chunk with the key's.
fn quad_score(q0: vec4f, q1: vec4f, q2: vec4f, q3: vec4f, kc: vec4f) -> vec4f {
  return vec4f(dot(q0, kc), dot(q1, kc), dot(q2, kc), dot(q3, kc));
}

// One column of the quad's output accumulators and the quad's 4 row sums.
struct QuadAcc {
  r0: vec4f,
  r1: vec4f,
  r2: vec4f,
  r3: vec4f,
  l: vec4f,
}

// Online softmax: when the rows' running maxima grow, everything so far is scaled by alpha = 2^(m_old - m).
fn quad_rescale(a: ptr<function, QuadAcc>, alpha: vec4f) {
  (*a).r0 *= alpha.x;
  (*a).r1 *= alpha.y;
  (*a).r2 *= alpha.z;
  (*a).r3 *= alpha.w;
  (*a).l *= alpha;
}

// acc_r += p_r * v for the 4 rows, and the row sums.
fn quad_add(a: ptr<function, QuadAcc>, p: vec4f, vv: vec4f) {
  (*a).r0 += p.x * vv;
  (*a).r1 += p.y * vv;
  (*a).r2 += p.z * vv;
  (*a).r3 += p.w * vv;
  (*a).l += p;
}

// acc_r += p_r * v without the row sums: a second column of the same rows, whose sums another QuadAcc keeps.
fn quad_fma(a: ptr<function, QuadAcc>, p: vec4f, vv: vec4f) {
  (*a).r0 += p.x * vv;
  (*a).r1 += p.y * vv;
  (*a).r2 += p.z * vv;
  (*a).r3 += p.w * vv;
}

// Row x (< 4) of the quad's column.
fn quad_row(a: QuadAcc, x: u32) -> vec4f {
  return select(select(a.r3, a.r2, x == 2u), select(a.r1, a.r0, x == 0u), x < 2u);
}
