// sparse.indexer: DeepSeek-V3.2-Exp's lightning indexer, I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]).
// It is a GEMM in disguise: rows are the (query, index head) pairs of q_index [T*Hi, Di] (its natural
// layout), columns the keys of k_index [S, Di], so a workgroup computes a 64-row x 64-key tile from 16-dim
// slices staged in workgroup memory (each thread a 4 x 4 block: 16 FMAs per two vec4 reads), then applies
// ReLU and the head weight and sums the rows of each query. A tile holds all heads of one query
// (Hi >= 64: 64 at a time, summed over head blocks) or floor(64/Hi) whole queries, so the head sum stays
// inside the workgroup (more than 64 heads: each head block adds to the partial sums in the output).
// Causal tiles entirely after the last query's position only write -inf.
// keys_main is the path for a few queries (decode, speculative decode): the tile's 64 rows would hold only
// T * Hi of them, so instead each thread owns one key, streams its k_I row once per query and loops over
// the heads with q_I and w read from global memory (the same address in every thread: a broadcast, and
// cached); no workgroup memory and no barriers.

@group(0) @binding(0) var<uniform> params: IndexerParams;
@group(0) @binding(1) var<storage, read> q_index: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k_index: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> w_index: array<f32>;
@group(0) @binding(4) var<storage, read_write> index_scores: array<f32>;

const WG: u32 = 256u;
const TR: u32 = 64u; // tile rows (query, head pairs)
const TK: u32 = 64u; // tile keys
const DC: u32 = 16u; // dims per staged slice

// a_t[d * 16 + rq][i] = q row 4*rq + i at slice dim d; b_t likewise for keys (transposed so a thread reads
// its 4 rows / 4 keys as one vec4 per dim).
var<workgroup> a_t: array<vec4<f32>, DC * 16u>;
var<workgroup> b_t: array<vec4<f32>, DC * 16u>;
// red[row * 16 + kq] = w * ReLU(dot) for 4 keys: summed over each query's heads.
var<workgroup> red: array<vec4<f32>, TR * 16u>;

var<private> NEG_INF_BITS: u32 = 0xff800000u;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

// Tile row -> (query t, head j) in head block hb; valid only inside the tile's queries and heads.
fn row_query(t0: u32, hb: u32, row: u32) -> vec3<u32> {
  let qi = row / params.hpb;
  let t = t0 + qi;
  let j = hb * params.hpb + row % params.hpb;
  let ok = qi < params.qpt && t < params.T && j < params.Hi;
  return vec3<u32>(t, j, select(0u, 1u, ok));
}

// Stage rows 4*quad .. 4*quad+3 of vec4 column d4 transposed: dst[(4*q4 + e) * 16 + quad] = component e of
// the four rows. `rows` are q_index rows (A) or keys (B); padding rows load zeros.
fn stage_a(quad: u32, q4: u32, d4: u32, t0: u32, hb: u32) {
  var x: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) {
    let rq = row_query(t0, hb, quad * 4u + i);
    x[i] = vec4<f32>(0.0);
    if (rq.z != 0u && d4 < params.Di4) { x[i] = q_index[(rq.x * params.Hi + rq.y) * params.Di4 + d4]; }
  }
  a_t[(q4 * 4u + 0u) * 16u + quad] = vec4<f32>(x[0].x, x[1].x, x[2].x, x[3].x);
  a_t[(q4 * 4u + 1u) * 16u + quad] = vec4<f32>(x[0].y, x[1].y, x[2].y, x[3].y);
  a_t[(q4 * 4u + 2u) * 16u + quad] = vec4<f32>(x[0].z, x[1].z, x[2].z, x[3].z);
  a_t[(q4 * 4u + 3u) * 16u + quad] = vec4<f32>(x[0].w, x[1].w, x[2].w, x[3].w);
}

fn stage_b(quad: u32, q4: u32, d4: u32, s0: u32) {
  var x: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) {
    let s = s0 + quad * 4u + i;
    x[i] = vec4<f32>(0.0);
    if (s < params.S && d4 < params.Di4) { x[i] = k_index[s * params.Di4 + d4]; }
  }
  b_t[(q4 * 4u + 0u) * 16u + quad] = vec4<f32>(x[0].x, x[1].x, x[2].x, x[3].x);
  b_t[(q4 * 4u + 1u) * 16u + quad] = vec4<f32>(x[0].y, x[1].y, x[2].y, x[3].y);
  b_t[(q4 * 4u + 2u) * 16u + quad] = vec4<f32>(x[0].z, x[1].z, x[2].z, x[3].z);
  b_t[(q4 * 4u + 3u) * 16u + quad] = vec4<f32>(x[0].w, x[1].w, x[2].w, x[3].w);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  let qt = g / params.key_tiles;
  let t0 = qt * params.qpt;
  if (t0 >= params.T) { return; }
  let s0 = (g % params.key_tiles) * TK;
  let p_last = params.S - params.T + min(params.T, t0 + params.qpt) - 1u;
  let tx = lid % 16u;
  let ty = lid / 16u;
  let n_out = params.qpt * TK;
  // A whole tile after the last query's position is only -inf (written below).
  let live = params.causal == 0u || s0 <= p_last;

  if (live) {
    for (var hb = 0u; hb < params.head_blocks; hb++) {
      var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
      for (var c = 0u; c < params.Di4; c += DC / 4u) {
        // Threads 0-63 stage a 4-row x 4-dim block of A, threads 64-127 of B.
        if (lid < 64u) {
          stage_a(lid / 4u, lid % 4u, c + lid % 4u, t0, hb);
        } else if (lid < 128u) {
          stage_b((lid - 64u) / 4u, lid % 4u, c + lid % 4u, s0);
        }
        workgroupBarrier();
        for (var dd = 0u; dd < DC; dd++) {
          let a = a_t[dd * 16u + ty];
          let b = b_t[dd * 16u + tx];
          acc[0] += a.x * b;
          acc[1] += a.y * b;
          acc[2] += a.z * b;
          acc[3] += a.w * b;
        }
        workgroupBarrier();
      }
      // ReLU before the (possibly negative) head weight; padding rows weigh 0.
      for (var i = 0u; i < 4u; i++) {
        let rq = row_query(t0, hb, ty * 4u + i);
        var w = 0.0;
        if (rq.z != 0u) { w = w_index[rq.x * params.Hi + rq.y]; }
        red[(ty * 4u + i) * 16u + tx] = w * max(acc[i], vec4<f32>(0.0));
      }
      workgroupBarrier();
      // Sum each query's heads; head blocks after the first add to what the thread itself wrote before.
      for (var o = lid; o < n_out; o += WG) {
        let t = t0 + o / TK;
        let s = s0 + o % TK;
        if (t < params.T && s < params.S) {
          let base = (o / TK) * params.hpb;
          var sum = 0.0;
          for (var jj = 0u; jj < params.hpb; jj++) { sum += red[(base + jj) * 16u + (o % TK) / 4u][o % 4u]; }
          if (hb > 0u) { sum += index_scores[t * params.S + s]; }
          index_scores[t * params.S + s] = sum;
        }
      }
      workgroupBarrier();
    }
  }

  if (params.causal != 0u) {
    for (var o = lid; o < n_out; o += WG) {
      let t = t0 + o / TK;
      let s = s0 + o % TK;
      if (t < params.T && s < params.S && s > params.S - params.T + t) { index_scores[t * params.S + s] = bitcast<f32>(NEG_INF_BITS); }
    }
  }
}

@compute @workgroup_size(WG)
fn keys_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = linear_group(wg, nwg) * WG + lid;
  if (s >= params.S) { return; }
  for (var t = 0u; t < params.T; t++) {
    var score = bitcast<f32>(NEG_INF_BITS);
    if (params.causal == 0u || s <= params.S - params.T + t) {
      score = 0.0;
      for (var j = 0u; j < params.Hi; j++) {
        let qrow = (t * params.Hi + j) * params.Di4;
        var dot = vec4<f32>(0.0);
        for (var d4 = 0u; d4 < params.Di4; d4++) { dot += q_index[qrow + d4] * k_index[s * params.Di4 + d4]; }
        // ReLU before the (possibly negative) head weight.
        score += w_index[t * params.Hi + j] * max(dot.x + dot.y + dot.z + dot.w, 0.0);
      }
    }
    index_scores[t * params.S + s] = score;
  }
}
