// attention.flash_decode: split-K flash decoding (Dao et al. 2023, "Flash-Decoding for long-context
// inference"). With one (or a few) query tokens there is too little query parallelism to fill a GPU, so the
// key range is cut into `splits` chunks of CHUNK keys and the chunks run on different workgroups.
//
// Pass 1 (split_main), one workgroup per (quad of 4 rows, split). Row rr = t * G + g is query t through the
// g-th query head of the KV head's GQA group (G = Hq / Hkv). With T * G >= 4 a quad is 4 rows of one KV
// head, which share ONE read of its keys and values; with fewer (MHA decode) a quad packs the rows of
// consecutive KV heads (PACKED), each row reading its own head, so no lane computes a dead row. Either way
// a key's 4 scores (or probabilities) travel as one vec4.
// The split is walked in tiles of NK = 4 * WG keys, three barriers per tile:
//   1. scores: invocation i owns the keys i, i + WG, i + 2 WG, i + 3 WG of the tile (at each step the
//      invocations read adjacent keys) and dots each, whole, against the block's q rows (workgroup memory,
//      pre-scaled by scale * log2 e so the softmax is exp2; each q load serves 4 keys);
//   2. the 4 row maxima of the tile (one invocation per row, over the WG per-invocation maxima), the
//      running max m and alpha = 2^(m_old - m);
//   3. the owners turn their scores into p = 2^(s - m) (one exp2 per key and row: it is never recomputed);
//   4. P.V: invocation (key lane kl, vec4 column col) rescales its 4 row accumulators by alpha and adds
//      p_j * v_j for the keys kl, kl + KL, ... (consecutive invocations read consecutive columns of one v
//      row: coalesced; p_j is the same address for all of them: a broadcast), and sums p_j for the row sums.
// All per-invocation state is a few named vec4s (no arrays indexed in loops: on CPU emulation those become
// memory). At the end the KL key lanes are added in workgroup memory and the split's partial (m, l, acc[D])
// per row is written, or, with a single split, normalised into `out`.
// Pass 2 (merge_main), one invocation per (row, vec4 column): the log-sum-exp merge over the splits,
//   M = max_s m_s,  out = sum_s 2^(m_s - M) acc_s / sum_s 2^(m_s - M) l_s   (0 where no key was visible).
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic and the partials are f32.

// Generated from src/kernels/attention/flash-decode.ts: the bindings params, q, k, v (vec4<elem>), part_acc
// [splits, T * Hq, D / 4] (vec4f), part_ml [splits, T * Hq] (vec2f: max, sum) and out (vec4<elem>); the
// constants WG (invocations per workgroup), CHUNK (keys per split) and PACKED (1: quads pack KV heads);
// the workgroup arrays q_tile (the quad's 4 q rows, row stride D / 4; at the end, the key-lane sums), probs
// (per invocation its 4 row maxima, then per key of a tile its 4 probabilities), row_m, row_alpha (4 each) and lane_l (per key lane: its 4 row sums).
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/flash-quad.wgsl"

// Row x (< 4) of work item `item`. Shared quads (PACKED == 0u): item = KV head * blocks + block, the rows
// are 4 consecutive rows rr of one KV head. Packed quads (PACKED == 1u, fewer than 4 rows per KV head, e.g.
// MHA decode): the T * G rows of all KV heads in order (KV head, rr), 4 at a time, so no lane of a quad is
// a dead row and each row reads its own head's keys.
struct QuadRow {
  alive: bool,
  kvh: u32,
  rr: u32,
}

fn quad_row_of(item: u32, x: u32, rows: u32, blocks: u32) -> QuadRow {
  if (PACKED == 1u) {
    let idx = item * 4u + x;
    let alive = idx < params.Hkv * rows;
    return QuadRow(alive, select(0u, idx / rows, alive), idx % rows);
  }
  let rr = (item % blocks) * 4u + x;
  return QuadRow(rr < rows, item / blocks, rr);
}

// Row of q and out (t * Hq + h) of row rr of KV head kvh: query t = rr / G through head kvh * G + rr % G.
fn global_row(r: QuadRow) -> u32 {
  let G = params.group;
  return (r.rr / G) * params.Hq + r.kvh * G + r.rr % G;
}

// The 4 scores of one key chunk c: one load of the shared head's chunk, or one per row's head (packed).
fn chunk_scores(q0: vec4f, q1: vec4f, q2: vec4f, q3: vec4f, kb: u32, koff: vec4u) -> vec4f {
  if (PACKED == 1u) {
    return vec4f(dot(q0, vec4f(k[kb + koff.x])), dot(q1, vec4f(k[kb + koff.y])), dot(q2, vec4f(k[kb + koff.z])), dot(q3, vec4f(k[kb + koff.w])));
  }
  return quad_score(q0, q1, q2, q3, vec4f(k[kb + koff.x]));
}

// acc += p * v of one key's column: one shared v load, or one per row's head (packed).
fn chunk_values(a: ptr<function, QuadAcc>, p: vec4f, vb: u32, voff: vec4u) {
  if (PACKED == 1u) {
    (*a).r0 += p.x * vec4f(v[vb + voff.x]);
    (*a).r1 += p.y * vec4f(v[vb + voff.y]);
    (*a).r2 += p.z * vec4f(v[vb + voff.z]);
    (*a).r3 += p.w * vec4f(v[vb + voff.w]);
    (*a).l += p;
  } else {
    quad_add(a, p, vec4f(v[vb + voff.x]));
  }
}

@compute @workgroup_size(WG)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let rows = params.T * params.group; // rows of one KV head
  let blocks = (rows + 3u) / 4u;
  let items = select(params.Hkv * blocks, (params.Hkv * rows + 3u) / 4u, PACKED == 1u);
  let wid = linear_group(wg, nwg);
  if (wid >= items * params.splits) { return; } // whole workgroup: barriers stay uniform
  let split = wid % params.splits;
  let item = wid / params.splits;
  let D4 = params.D / 4u;
  let s0 = split * CHUNK;
  let s1 = min(params.S, s0 + CHUNK);
  let r0 = quad_row_of(item, 0u, rows, blocks);
  let r1 = quad_row_of(item, 1u, rows, blocks);
  let r2 = quad_row_of(item, 2u, rows, blocks);
  let r3 = quad_row_of(item, 3u, rows, blocks);
  // Offset of each row's KV head within a key's row of K (and V).
  let koff = vec4u(r0.kvh, r1.kvh, r2.kvh, r3.kvh) * D4;

  // Stage the quad's q rows (dead rows are zeros) and reset the row statistics.
  let qscale = params.scale * LOG2E;
  for (var idx = tid; idx < 4u * D4; idx += WG) {
    let r = quad_row_of(item, idx / D4, rows, blocks);
    var qq = vec4f(0.0);
    if (r.alive) {
      qq = vec4f(q[global_row(r) * D4 + idx % D4]) * qscale;
    }
    q_tile[idx] = qq;
  }
  if (tid < 4u) {
    row_m[tid] = NEG_INF;
  }
  workgroupBarrier();

  // Last key each row may see (query t sits at position S - T + t); dead rows see none.
  let causal = params.causal != 0u;
  let tail = i32(params.S - params.T);
  let last = vec4i(
    select(-1, select(i32(params.S) - 1, tail + i32(r0.rr / params.group), causal), r0.alive),
    select(-1, select(i32(params.S) - 1, tail + i32(r1.rr / params.group), causal), r1.alive),
    select(-1, select(i32(params.S) - 1, tail + i32(r2.rr / params.group), causal), r2.alive),
    select(-1, select(i32(params.S) - 1, tail + i32(r3.rr / params.group), causal), r3.alive),
  );
  let stride = params.Hkv * D4; // vec4s from one key to the next
  // P.V roles: KL key lanes of D / 4 columns; invocations past KL * D / 4 only score.
  let KL = WG / D4;
  let col = tid % D4;
  let kl = tid / D4;
  let voff = koff + vec4u(col);
  var acc = QuadAcc();

  for (var b = s0; b < s1; b += 4u * WG) {
    let n = min(4u * WG, s1 - b);
    // 1. Scores of this invocation's keys b + tid + e * WG (e < 4); masked ones are NEG_INF.
    var sc0 = vec4f(0.0);
    var sc1 = vec4f(0.0);
    var sc2 = vec4f(0.0);
    var sc3 = vec4f(0.0);
    let kb = (b + tid) * stride;
    let kstep = WG * stride;
    // Chunks to read: none where this invocation has no key, so idle invocations skip the loop.
    let cend = select(0u, D4, tid < n);
    for (var c = 0u; c < cend; c++) {
      let q0 = q_tile[c];
      let q1 = q_tile[D4 + c];
      let q2 = q_tile[2u * D4 + c];
      let q3 = q_tile[3u * D4 + c];
      sc0 += chunk_scores(q0, q1, q2, q3, kb + c, koff);
      if (tid + WG < n) {
        sc1 += chunk_scores(q0, q1, q2, q3, kb + kstep + c, koff);
      }
      if (tid + 2u * WG < n) {
        sc2 += chunk_scores(q0, q1, q2, q3, kb + 2u * kstep + c, koff);
      }
      if (tid + 3u * WG < n) {
        sc3 += chunk_scores(q0, q1, q2, q3, kb + 3u * kstep + c, koff);
      }
    }
    let key = vec4i(i32(b + tid));
    let w = i32(WG);
    sc0 = select(vec4f(NEG_INF), sc0, (key <= last) & vec4(tid < n));
    sc1 = select(vec4f(NEG_INF), sc1, (key + w <= last) & vec4(tid + WG < n));
    sc2 = select(vec4f(NEG_INF), sc2, (key + 2 * w <= last) & vec4(tid + 2u * WG < n));
    sc3 = select(vec4f(NEG_INF), sc3, (key + 3 * w <= last) & vec4(tid + 3u * WG < n));
    // Each invocation's maximum over its 4 keys: the row maxima below scan WG entries, not 4 * WG.
    probs[tid] = max(max(sc0, sc1), max(sc2, sc3));
    workgroupBarrier();

    // 2. Row maxima of the tile, one invocation per row.
    if (tid < 4u) {
      var mx = NEG_INF;
      for (var j = 0u; j < WG; j++) {
        mx = max(mx, probs[j][tid]);
      }
      let m_old = row_m[tid];
      let m_new = max(m_old, mx);
      row_alpha[tid] = exp2(m_old - m_new);
      row_m[tid] = m_new;
    }
    workgroupBarrier();

    // 3. Probabilities, by the owners of the scores (masked keys get 0).
    let m = vec4f(row_m[0], row_m[1], row_m[2], row_m[3]);
    probs[tid] = select(vec4f(0.0), exp2(sc0 - m), sc0 > vec4f(NEG_INF));
    probs[tid + WG] = select(vec4f(0.0), exp2(sc1 - m), sc1 > vec4f(NEG_INF));
    probs[tid + 2u * WG] = select(vec4f(0.0), exp2(sc2 - m), sc2 > vec4f(NEG_INF));
    probs[tid + 3u * WG] = select(vec4f(0.0), exp2(sc3 - m), sc3 > vec4f(NEG_INF));
    workgroupBarrier();

    // 4. P.V: rescale, then this key lane's keys of the tile.
    if (kl < KL) {
      let alpha = vec4f(row_alpha[0], row_alpha[1], row_alpha[2], row_alpha[3]);
      quad_rescale(&acc, alpha);
      for (var j = kl; j < n; j += KL) {
        chunk_values(&acc, probs[j], (b + j) * stride, voff);
      }
    }
    workgroupBarrier(); // the next tile overwrites probs and row_alpha
  }

  // Add the key lanes (q_tile is free now): lane 0 keeps the total, one lane at a time.
  if (kl < KL && col == 0u) {
    lane_l[kl] = acc.l;
  }
  for (var other = 1u; other < KL; other++) {
    if (kl == other) {
      q_tile[col] = acc.r0;
      q_tile[D4 + col] = acc.r1;
      q_tile[2u * D4 + col] = acc.r2;
      q_tile[3u * D4 + col] = acc.r3;
    }
    workgroupBarrier();
    if (kl == 0u) {
      acc.r0 += q_tile[col];
      acc.r1 += q_tile[D4 + col];
      acc.r2 += q_tile[2u * D4 + col];
      acc.r3 += q_tile[3u * D4 + col];
    }
    workgroupBarrier();
  }
  workgroupBarrier(); // lane_l is read below (also when there is a single key lane)
  if (kl == 0u) {
    var l = vec4f(0.0);
    for (var i = 0u; i < KL; i++) {
      l += lane_l[i];
    }
    let row_count = params.T * params.Hq;
    for (var x = 0u; x < 4u; x++) {
      let r = quad_row_of(item, x, rows, blocks);
      if (r.alive) {
        let grow = global_row(r);
        let total = quad_row(acc, x);
        if (params.splits == 1u) {
          out[grow * D4 + col] = vec4<elem>(total * select(0.0, 1.0 / l[x], l[x] > 0.0));
        } else {
          part_acc[(split * row_count + grow) * D4 + col] = total;
          if (col == 0u) {
            part_ml[split * row_count + grow] = vec2f(row_m[x], l[x]);
          }
        }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let D4 = params.D / 4u;
  let row_count = params.T * params.Hq;
  let i = linear_group(wg, nwg) * WG + tid;
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
