// attention.naive: the textbook three steps, with the whole score matrix in device memory.
//   1. scores[t,h,s] = scale * q[t,h] . k[s,kvh]      (-inf where the causal mask hides s)
//   2. softmax over s, in place                      (one workgroup per row)
//   3. out[t,h,d]   = sum_s P[t,h,s] * v[s,kvh,d]
// It moves T*Hq*S floats through memory three times: the cost flash attention removes.
// `elem` is f32 or f16 storage (see src/gpu/shader.ts); all arithmetic is f32.

@group(0) @binding(0) var<uniform> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<elem>;
@group(0) @binding(2) var<storage, read> k: array<elem>;
@group(0) @binding(3) var<storage, read> v: array<elem>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<elem>;

override WG: u32 = 256;
const NEG_INF = -3.402823466e38; // softmax never sees a real -inf: exp(NEG_INF - m) underflows to 0

var<workgroup> red: array<f32, WG>;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

// One thread per score: row = t*Hq + h, column s.
@compute @workgroup_size(WG)
fn scores_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let per_row = (params.S + WG - 1u) / WG;
  let g = linear_group(wg, nwg);
  let row = g / per_row;
  let s = (g % per_row) * WG + lid;
  if (row >= params.T * params.Hq || s >= params.S) { return; }
  let t = row / params.Hq;
  let h = row % params.Hq;
  let pos = params.S - params.T + t;
  var score = NEG_INF;
  if (params.causal == 0u || s <= pos) {
    let qo = row * params.D;
    let ko = (s * params.Hkv + h / params.group) * params.D;
    var dot = 0.0;
    for (var d = 0u; d < params.D; d++) {
      dot += f32(q[qo + d]) * f32(k[ko + d]);
    }
    score = dot * params.scale;
  }
  scores[row * params.S + s] = score;
}

// One workgroup per row: max, then sum of exponentials, then normalise (tree reductions in `red`).
@compute @workgroup_size(WG)
fn softmax_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.T * params.Hq) { return; } // uniform per workgroup, so barriers below are safe
  let base = row * params.S;
  var m = NEG_INF;
  for (var s = lid; s < params.S; s += WG) { m = max(m, scores[base + s]); }
  red[lid] = m;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { red[lid] = max(red[lid], red[lid + stride]); }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var s = lid; s < params.S; s += WG) {
    let x = scores[base + s];
    sum += select(exp(x - m), 0.0, x <= NEG_INF);
  }
  red[lid] = sum;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { red[lid] += red[lid + stride]; }
    workgroupBarrier();
  }
  // A row with no visible key has sum 0: its probabilities (and so its output) are 0.
  let inv = select(1.0 / red[0], 0.0, red[0] == 0.0);
  for (var s = lid; s < params.S; s += WG) {
    let x = scores[base + s];
    scores[base + s] = select(exp(x - m) * inv, 0.0, x <= NEG_INF);
  }
}

// One thread per output element.
@compute @workgroup_size(WG)
fn pv_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_group(wg, nwg) * WG + lid;
  if (i >= params.T * params.Hq * params.D) { return; }
  let d = i % params.D;
  let row = i / params.D;
  let h = row % params.Hq;
  let kvh = h / params.group;
  let base = row * params.S;
  var acc = 0.0;
  for (var s = 0u; s < params.S; s++) {
    acc += scores[base + s] * f32(v[(s * params.Hkv + kvh) * params.D + d]);
  }
  out[i] = elem(acc);
}
