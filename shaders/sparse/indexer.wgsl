// sparse.indexer: DeepSeek-V3.2-Exp's lightning indexer, I[t,s] = sum_j w[t,j] * ReLU(q_I[t,j] . k_I[s]).
// It is a GEMM with a fused epilogue: rows are the (query, index head) pairs of q_index [T*Hi, Di] (its
// natural layout, so the heads of a query are the M dimension as in DeepGEMM's fp8_mqa_logits), columns the
// keys of k_index [S, Di]. A workgroup owns a 64-row x 64-key tile: all heads of one query (Hi >= 64: 64 at
// a time, summed over head blocks) or floor(64/Hi) whole queries, and a block of 64 keys, so decode spreads
// the keys over S/64 workgroups. Per 32-dim slice every thread loads two vec4s of q and two of k (consecutive
// threads read consecutive vec4s of a row: coalesced) into transposed workgroup tiles, then accumulates a
// 4-row x 4-key register block (16 FMAs per two vec4 reads, two barriers per slice). The epilogue applies
// ReLU and the head weight and sums each query's heads: in registers over a thread's 4 rows when they are
// heads of one query (Hi % 4 == 0), then across threads through workgroup memory. More than 64 heads: each
// head block adds to the partial sums in the output. Causal tiles entirely after the last query's position
// only write -inf.

@group(0) @binding(0) var<uniform> params: IndexerParams;
@group(0) @binding(1) var<storage, read> q_index: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k_index: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> w_index: array<f32>;
@group(0) @binding(4) var<storage, read_write> index_scores: array<f32>;

const WG: u32 = 256u;
const TR: u32 = 64u; // tile rows (query, head pairs)
const TK: u32 = 64u; // tile keys
const DC: u32 = 32u; // dims per staged slice
const DC4: u32 = DC / 4u;

// a_t[d * 16 + rq][i] = q row 4*rq + i at slice dim d; b_t likewise for keys (transposed so a thread reads
// its 4 rows / 4 keys as one vec4 per dim).
var<workgroup> a_t: array<vec4<f32>, DC * 16u>;
var<workgroup> b_t: array<vec4<f32>, DC * 16u>;
// Epilogue partial sums, 4 keys per vec4: red[row * 16 + kq] per row, or red[rq * 16 + kq] per 4-row block.
var<workgroup> red: array<vec4<f32>, TR * 16u>;

var<private> NEG_INF_BITS: u32 = 0xff800000u;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

// Tile row -> (query t, head j) in head block hb; z = 1 inside the tile's queries and heads.
fn row_query(t0: u32, hb: u32, row: u32) -> vec3<u32> {
  let qi = row / params.hpb;
  let t = t0 + qi;
  let j = hb * params.hpb + row % params.hpb;
  let ok = qi < params.qpt && t < params.T && j < params.Hi;
  return vec3<u32>(t, j, select(0u, 1u, ok));
}

// Transposed store of vec4 x, dims 4*d4 .. 4*d4+3 of tile row (or key) r, into tile `a` (else b).
fn stage(is_a: bool, r: u32, d4: u32, x: vec4<f32>) {
  let at = (d4 * 4u) * 16u + r / 4u;
  let c = r % 4u;
  if (is_a) {
    a_t[at][c] = x.x;
    a_t[at + 16u][c] = x.y;
    a_t[at + 32u][c] = x.z;
    a_t[at + 48u][c] = x.w;
  } else {
    b_t[at][c] = x.x;
    b_t[at + 16u][c] = x.y;
    b_t[at + 32u][c] = x.z;
    b_t[at + 48u][c] = x.w;
  }
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
  // Each thread stages tile rows / keys lid / DC4 and lid / DC4 + 32 at vec4 column lid % DC4 of a slice.
  let sd4 = lid % DC4;
  let sr = lid / DC4;
  let k_ok0 = s0 + sr < params.S;
  let k_ok1 = s0 + sr + 32u < params.S;
  let rows4 = params.hpb % 4u == 0u;

  if (live) {
    for (var hb = 0u; hb < params.head_blocks; hb++) {
      let rq0 = row_query(t0, hb, sr);
      let rq1 = row_query(t0, hb, sr + 32u);
      var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
      for (var c = 0u; c < params.Di4; c += DC4) {
        let d4 = c + sd4;
        let in_d = d4 < params.Di4;
        var x = vec4<f32>(0.0);
        if (in_d && rq0.z != 0u) { x = q_index[(rq0.x * params.Hi + rq0.y) * params.Di4 + d4]; }
        stage(true, sr, sd4, x);
        x = vec4<f32>(0.0);
        if (in_d && rq1.z != 0u) { x = q_index[(rq1.x * params.Hi + rq1.y) * params.Di4 + d4]; }
        stage(true, sr + 32u, sd4, x);
        x = vec4<f32>(0.0);
        if (in_d && k_ok0) { x = k_index[(s0 + sr) * params.Di4 + d4]; }
        stage(false, sr, sd4, x);
        x = vec4<f32>(0.0);
        if (in_d && k_ok1) { x = k_index[(s0 + sr + 32u) * params.Di4 + d4]; }
        stage(false, sr + 32u, sd4, x);
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
      var part = vec4<f32>(0.0);
      for (var i = 0u; i < 4u; i++) {
        let rq = row_query(t0, hb, ty * 4u + i);
        var w = 0.0;
        if (rq.z != 0u) { w = w_index[rq.x * params.Hi + rq.y]; }
        let v = w * max(acc[i], vec4<f32>(0.0));
        if (rows4) { part += v; } else { red[(ty * 4u + i) * 16u + tx] = v; }
      }
      if (rows4) { red[ty * 16u + tx] = part; }
      workgroupBarrier();
      // Sum each query's heads (its hpb rows, or hpb / 4 row blocks); head blocks after the first add to what
      // the thread itself wrote before.
      for (var o = lid; o < n_out; o += WG) {
        let t = t0 + o / TK;
        let s = s0 + o % TK;
        if (t < params.T && s < params.S) {
          var sum = 0.0;
          if (rows4) {
            let base = (o / TK) * (params.hpb / 4u);
            for (var jj = 0u; jj < params.hpb / 4u; jj++) { sum += red[(base + jj) * 16u + (o % TK) / 4u][o % 4u]; }
          } else {
            let base = (o / TK) * params.hpb;
            for (var jj = 0u; jj < params.hpb; jj++) { sum += red[(base + jj) * 16u + (o % TK) / 4u][o % 4u]; }
          }
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
