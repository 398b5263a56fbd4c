// attention.flash_decode: split-K flash decoding (Dao et al. 2023, "Flash-Decoding for long-context
// inference"). With one (or a few) query tokens there is too little query parallelism to fill a GPU, so the
// key range is cut into `splits` chunks of CHUNK keys and the chunks run on different workgroups.
//
// Pass 1 (split_main), one workgroup per (KV head, block of RB rows, split). Row rr = t * G + g is query t
// through the g-th query head of the KV head's GQA group (G = Hq / Hkv): all G heads share ONE read of their
// KV head's keys and values. The split is walked in sub-chunks of SUB keys (as many as workgroup memory holds):
//   1. scores: each key is handled by L consecutive lanes, each dotting its vec4 chunks of k (coalesced
//      loads straight from memory) against the block's q rows staged in workgroup memory; lane_sum adds the
//      lanes (subgroup butterfly, or workgroup memory where the device has no subgroups);
//   2. per row: running max m and sum l over the split (online softmax across sub-chunks), probabilities
//      p = 2^(s - m) kept in workgroup memory (scores are in log2 units: q is pre-scaled by scale * log2 e);
//   3. P.V: L consecutive invocations (key lanes) share one (row group, vec4 column); key lane kl streams
//      the v rows kl, kl + L, ... of the sub-chunk (each warp reads whole 16 * D4-byte rows: coalesced)
//      into one accumulator per row of its group, rescaled by 2^(m_old - m_new) when the running max grows.
// At the end lane_sum adds the key lanes (no workgroup-sized buffer, no per-row barriers with subgroups) and
// the split's partial (m, l, acc[D]) per row is written, or, with a single split, normalised into `out`.
// Pass 2 (merge_main), one invocation per (row, vec4 column): the log-sum-exp merge
//   M = max_s m_s,  out = sum_s 2^(m_s - M) acc_s / sum_s 2^(m_s - M) l_s   (0 where no key was visible).
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic and the partials are f32.
// lane_sum is appended by the host.

@group(0) @binding(0) var<uniform> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<vec4<elem>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<elem>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<elem>>;
@group(0) @binding(4) var<storage, read_write> part_acc: array<vec4f>; // [splits, T * Hq, D / 4]
@group(0) @binding(5) var<storage, read_write> part_ml: array<vec2f>; // [splits, T * Hq]: (max, sum)
@group(0) @binding(6) var<storage, read_write> out: array<vec4<elem>>;

override WG: u32 = 256; // invocations per workgroup
override L: u32 = 4; // lanes per key in the score phase: a power of two <= 4
override CPT: u32 = 8; // vec4 chunks of D per lane: ceil(D / 4 / L)
override RB: u32 = 4; // rows per block: a multiple of 4, <= MAX_RB
override CHUNK: u32 = 64; // keys per split
override SUB: u32 = 64; // keys per sub-chunk (workgroup-memory bound)
override RG: u32 = 2; // row groups in the P.V phase: RG * L * D / 4 <= WG

const MAX_RB = 16u;
const LOG2E = 1.4426950408889634;
const NEG_INF = -3.402823466e38; // finite, so m - m' never makes inf - inf

var<workgroup> q_tile: array<vec4f, RB * CPT * L>; // RB rows, row stride D / 4
var<workgroup> probs: array<f32, RB * SUB>; // scores, then probabilities, of one sub-chunk
var<workgroup> red: array<f32, WG>;
var<workgroup> row_m: array<f32, RB>;
var<workgroup> row_l: array<f32, RB>;
var<workgroup> row_alpha: array<f32, RB>;

@compute @workgroup_size(WG)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let G = params.group;
  let rows = params.T * G; // rows of one KV head
  let blocks = (rows + RB - 1u) / RB;
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.Hkv * blocks * params.splits) { return; } // whole workgroup: barriers stay uniform
  let split = wid % params.splits;
  let kvh = (wid / params.splits) / blocks;
  let row0 = ((wid / params.splits) % blocks) * RB;
  let D4 = params.D / 4u;
  let s0 = split * CHUNK;
  let s1 = min(params.S, s0 + CHUNK);

  // Stage the block's q rows (dead rows past the last query are zeros) and reset the row statistics.
  let qscale = params.scale * LOG2E;
  for (var idx = tid; idx < RB * D4; idx += WG) {
    let rr = row0 + idx / D4;
    var qq = vec4f(0.0);
    if (rr < rows) {
      qq = vec4f(q[((rr / G) * params.Hq + kvh * G + rr % G) * D4 + idx % D4]) * qscale;
    }
    q_tile[idx] = qq;
  }
  if (tid < RB) {
    row_m[tid] = NEG_INF;
    row_l[tid] = 0.0;
  }
  workgroupBarrier();

  // P.V roles: key lane kl, vec4 column col, row group rg (rows rg, rg + RG, ...); acc[i] is this
  // invocation's share of row rg + i * RG.
  let kl = tid % L;
  let col = (tid / L) % D4;
  let rg = tid / (L * D4);
  let RPG = (RB + RG - 1u) / RG; // rows per group
  var acc: array<vec4f, MAX_RB>;
  for (var i = 0u; i < RPG; i++) {
    acc[i] = vec4f(0.0);
  }
  // Statistics roles: TPR invocations per row.
  let TPR = WG / RB;
  let srow = tid / TPR;
  let sidx = tid % TPR;

  for (var b = s0; b < s1; b += SUB) {
    let n = min(SUB, s1 - b);

    // 1. Scores of keys b .. b + n - 1 for the RB rows.
    let lane = tid % L;
    for (var j0 = 0u; j0 < n; j0 += WG / L) {
      let j = j0 + tid / L;
      var dots: array<vec4f, MAX_RB / 4u>;
      for (var r4 = 0u; r4 < RB / 4u; r4++) {
        dots[r4] = vec4f(0.0);
      }
      if (j < n) {
        let kbase = ((b + j) * params.Hkv + kvh) * D4;
        for (var i = 0u; i < CPT; i++) {
          let c = lane + i * L;
          if (c < D4) {
            let kc = vec4f(k[kbase + c]);
            for (var r4 = 0u; r4 < RB / 4u; r4++) {
              let o = 4u * r4 * D4 + c;
              dots[r4] += vec4f(dot(q_tile[o], kc), dot(q_tile[o + D4], kc), dot(q_tile[o + 2u * D4], kc), dot(q_tile[o + 3u * D4], kc));
            }
          }
        }
      }
      for (var r4 = 0u; r4 < RB / 4u; r4++) {
        let s4 = lane_sum(dots[r4], tid);
        if (lane == 0u && j < n) {
          for (var x = 0u; x < 4u; x++) {
            let rr = row0 + 4u * r4 + x;
            // Query t = rr / G sits at position S - T + t and sees keys up to it (causal).
            let visible = rr < rows && (params.causal == 0u || b + j <= params.S - params.T + rr / G);
            probs[(4u * r4 + x) * SUB + j] = select(NEG_INF, s4[x], visible);
          }
        }
      }
    }
    workgroupBarrier();

    // 2. Row maxima of the sub-chunk, then the running max and the rescale factor.
    var mx = NEG_INF;
    if (srow < RB) {
      for (var j = sidx; j < n; j += TPR) {
        mx = max(mx, probs[srow * SUB + j]);
      }
    }
    red[tid] = mx;
    workgroupBarrier();
    if (srow < RB && sidx == 0u) {
      var m_sub = NEG_INF;
      for (var i = 0u; i < TPR; i++) {
        m_sub = max(m_sub, red[tid + i]);
      }
      let m_old = row_m[srow];
      let m_new = max(m_old, m_sub);
      row_alpha[srow] = exp2(m_old - m_new);
      row_m[srow] = m_new;
    }
    workgroupBarrier();
    //    Probabilities in place, and their sum.
    var sum = 0.0;
    if (srow < RB) {
      let m_row = row_m[srow];
      for (var j = sidx; j < n; j += TPR) {
        let s = probs[srow * SUB + j];
        let p = select(exp2(s - m_row), 0.0, s <= NEG_INF);
        probs[srow * SUB + j] = p;
        sum += p;
      }
    }
    red[tid] = sum;
    workgroupBarrier();
    if (srow < RB && sidx == 0u) {
      var l_sub = 0.0;
      for (var i = 0u; i < TPR; i++) {
        l_sub += red[tid + i];
      }
      row_l[srow] = row_l[srow] * row_alpha[srow] + l_sub;
    }

    // 3. P.V: rescale, then stream this key lane's v rows.
    if (rg < RG) {
      for (var i = 0u; i < RPG; i++) {
        acc[i] *= row_alpha[min(rg + i * RG, RB - 1u)];
      }
      for (var j = kl; j < n; j += L) {
        let vv = vec4f(v[((b + j) * params.Hkv + kvh) * D4 + col]);
        for (var i = 0u; i < RPG; i++) {
          let r = rg + i * RG;
          if (r < RB) {
            acc[i] += probs[r * SUB + j] * vv;
          }
        }
      }
    }
    workgroupBarrier(); // the next sub-chunk overwrites probs and row_alpha
  }

  // Sum the key lanes' accumulators and write the split's partial (or, with one split, the output).
  let row_count = params.T * params.Hq;
  for (var i = 0u; i < RPG; i++) {
    let total = lane_sum(acc[i], tid);
    let r = rg + i * RG;
    let rr = row0 + r;
    if (kl == 0u && rg < RG && r < RB && rr < rows) {
      let grow = (rr / G) * params.Hq + kvh * G + rr % G; // row of out: t * Hq + h
      if (params.splits == 1u) {
        let l = row_l[r];
        out[grow * D4 + col] = vec4<elem>(total * select(0.0, 1.0 / l, l > 0.0));
      } else {
        part_acc[(split * row_count + grow) * D4 + col] = total;
        if (col == 0u) {
          part_ml[split * row_count + grow] = vec2f(row_m[r], row_l[r]);
        }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let D4 = params.D / 4u;
  let row_count = params.T * params.Hq;
  let i = (wg.x + wg.y * nwg.x) * WG + tid;
  if (i >= row_count * D4) { return; }
  let grow = i / D4;
  let c = i % D4;
  var big_m = NEG_INF;
  for (var s = 0u; s < params.splits; s++) {
    big_m = max(big_m, part_ml[s * row_count + grow].x);
  }
  var l = 0.0;
  var acc = vec4f(0.0);
  for (var s = 0u; s < params.splits; s++) {
    let ml = part_ml[s * row_count + grow];
    // A split that saw no key has l = 0 and acc = 0, so its weight does not matter.
    let w = exp2(ml.x - big_m);
    l += ml.y * w;
    acc += part_acc[(s * row_count + grow) * D4 + c] * w;
  }
  out[i] = vec4<elem>(acc * select(0.0, 1.0 / l, l > 0.0));
}
