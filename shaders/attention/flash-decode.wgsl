// attention.flash_decode: split-K flash decoding (Dao et al. 2023, "Flash-Decoding for long-context
// inference"). With one (or a few) query tokens there is too little query parallelism to fill a GPU, so the
// key range is cut into `splits` chunks of CHUNK keys, each streamed by its own unit, and a second pass
// merges the chunks' partial softmaxes.
//
// Pass 1 (split_main). A unit is 4 consecutive invocations (the smallest subgroup WebGPU allows, so a unit
// never straddles subgroups) and owns one (quad of 4 rows, split). Row rr = t * G + g is query t through the
// g-th query head of the KV head's GQA group (G = Hq / Hkv). With T * G >= 4 a quad is 4 rows of one KV
// head: ONE load of a key's chunk serves the 4 rows, and the quads of a KV head sit side by side in one
// workgroup on the same split, so on a GPU the other quads of the head (speculative decode, T > 1) find
// those K/V lines in cache. With fewer rows per KV head (MHA decode) a quad packs the rows of consecutive KV
// heads (PACKED), each row reading its own head, so no lane computes a dead row.
// The unit splits D between its lanes: lane `lane` owns the vec4 chunks c = lane + 4 i (i < CPL), so at
// each load the 4 lanes read 64 contiguous bytes, every K/V byte of the split is loaded by exactly one
// lane, and q and the output accumulators live in registers (no workgroup memory, no barrier: on CPU
// emulation a barrier costs every workgroup a large fixed price). Per block of 4 keys:
//   1. partial scores of the lane's chunks, 4 keys x 4 rows (a mat4x4: column e = key e), summed over the
//      unit's lanes with lane_sum (an xor butterfly of subgroup shuffles, or workgroup memory without subgroups);
//   2. online softmax in base 2 (q is pre-scaled by scale * log2 e): m_new = max(m_old, block max),
//      alpha = 2^(m_old - m_new), p = 2^(s - m_new), masked keys (causal, past the split) p = 0;
//   3. acc_i = alpha * acc_i + sum_e v_e,i p_e^T for each chunk slot i of the lane (one load of v per chunk).
// Chunk slots are named by constant indices (the helpers below, unrolled by hand up to 16 slots = D 256):
// an array indexed by a loop variable would live in memory on CPU emulation, where every access is a gather.
// At the end each lane writes its chunks of the split's partial (m, l, acc[D]) per row, or, with a single
// split, the normalised output.
// Pass 2 (merge_main), one invocation per (row, vec4 column): the log-sum-exp merge over the splits
// (lib/lse-merge.wgsl), out = sum_s 2^(m_s - M) acc_s / sum_s 2^(m_s - M) l_s, M = max_s m_s (0 where no
// key was visible).
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic and the partials are f32.

// Generated from src/kernels/attention/flash-decode.ts: the bindings params, q, k, v (vec4<elem>), part_acc
// [splits, T * Hq, D / 4] (vec4f), part_ml [splits, T * Hq] (vec2f: max, sum) and out (vec4<elem>); the
// constants WG (invocations of split_main, 4 per unit), MERGE_WG, L (4: lanes per unit, for lane_sum),
// CHUNK (keys per split), D4 (D / 4), CPL (chunk slots per lane, ceil(D4 / 4)), PACKED (1: quads pack KV
// heads) and QUADS; lane_sum comes from lib/lane-sum-subgroup.wgsl or lib/lane-sum-workgroup.wgsl (appended
// by the host, with its workgroup array where it has one).
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/lse-merge.wgsl"

// Row x (< 4) of quad `item`. Shared quads (PACKED == 0u): item = KV head * blocks + block, the rows are 4
// consecutive rows rr of one KV head. Packed quads (PACKED == 1u, fewer than 4 rows per KV head, e.g. MHA
// decode): the T * G rows of all KV heads in order (KV head, rr), 4 at a time, so no lane of a quad is a
// dead row and each row reads its own head's keys.
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

// Per lane: q of the quad's rows (column x = row x) and the output accumulators, one mat4x4 per chunk slot.
var<private> lane: u32;
var<private> qm: array<mat4x4f, CPL>;
var<private> am: array<mat4x4f, CPL>;

// Chunk of slot i; a slot past D4 (D4 not a multiple of 4) reads the last chunk, with zero q and no store.
fn chunk_of(i: u32) -> u32 {
  return min(lane + 4u * i, D4 - 1u);
}

// Slot i's share of the scores of 4 keys (K row offsets kb) for the 4 rows: column e = key e.
fn slot_scores(i: u32, kb: vec4u, koff: vec4u) -> mat4x4f {
  let c = chunk_of(i);
  let q = qm[i];
  if (PACKED == 1u) {
    // Each row reads its own KV head.
    return mat4x4f(
      vec4f(dot(vec4f(k[kb.x + koff.x + c]), q[0]), dot(vec4f(k[kb.x + koff.y + c]), q[1]), dot(vec4f(k[kb.x + koff.z + c]), q[2]), dot(vec4f(k[kb.x + koff.w + c]), q[3])),
      vec4f(dot(vec4f(k[kb.y + koff.x + c]), q[0]), dot(vec4f(k[kb.y + koff.y + c]), q[1]), dot(vec4f(k[kb.y + koff.z + c]), q[2]), dot(vec4f(k[kb.y + koff.w + c]), q[3])),
      vec4f(dot(vec4f(k[kb.z + koff.x + c]), q[0]), dot(vec4f(k[kb.z + koff.y + c]), q[1]), dot(vec4f(k[kb.z + koff.z + c]), q[2]), dot(vec4f(k[kb.z + koff.w + c]), q[3])),
      vec4f(dot(vec4f(k[kb.w + koff.x + c]), q[0]), dot(vec4f(k[kb.w + koff.y + c]), q[1]), dot(vec4f(k[kb.w + koff.z + c]), q[2]), dot(vec4f(k[kb.w + koff.w + c]), q[3])),
    );
  }
  // One load of the head's chunk per key serves the 4 rows: (k_c * q)[x] = dot(k_c, q row x).
  let o = koff.x + c;
  return mat4x4f(vec4f(k[kb.x + o]) * q, vec4f(k[kb.y + o]) * q, vec4f(k[kb.z + o]) * q, vec4f(k[kb.w + o]) * q);
}

// Slot i: acc = alpha * acc + sum_e v_e p_e^T (column x of acc is row x's chunk, p column e = key e).
fn slot_values(i: u32, kb: vec4u, koff: vec4u, alpha: vec4f, p: mat4x4f) {
  let c = chunk_of(i);
  let a = am[i];
  let pt = transpose(p); // column x = row x's probabilities of the 4 keys
  if (PACKED == 1u) {
    am[i] = mat4x4f(
      a[0] * alpha.x + mat4x4f(vec4f(v[kb.x + koff.x + c]), vec4f(v[kb.y + koff.x + c]), vec4f(v[kb.z + koff.x + c]), vec4f(v[kb.w + koff.x + c])) * pt[0],
      a[1] * alpha.y + mat4x4f(vec4f(v[kb.x + koff.y + c]), vec4f(v[kb.y + koff.y + c]), vec4f(v[kb.z + koff.y + c]), vec4f(v[kb.w + koff.y + c])) * pt[1],
      a[2] * alpha.z + mat4x4f(vec4f(v[kb.x + koff.z + c]), vec4f(v[kb.y + koff.z + c]), vec4f(v[kb.z + koff.z + c]), vec4f(v[kb.w + koff.z + c])) * pt[2],
      a[3] * alpha.w + mat4x4f(vec4f(v[kb.x + koff.w + c]), vec4f(v[kb.y + koff.w + c]), vec4f(v[kb.z + koff.w + c]), vec4f(v[kb.w + koff.w + c])) * pt[3],
    );
    return;
  }
  // V (column e = key e's chunk) times row x's probabilities: sum_e p_e,x v_e.
  let o = koff.x + c;
  let vm = mat4x4f(vec4f(v[kb.x + o]), vec4f(v[kb.y + o]), vec4f(v[kb.z + o]), vec4f(v[kb.w + o]));
  am[i] = mat4x4f(a[0] * alpha.x + vm * pt[0], a[1] * alpha.y + vm * pt[1], a[2] * alpha.z + vm * pt[2], a[3] * alpha.w + vm * pt[3]);
}

// The lane's partial scores of a block (all its slots). CPL is a constant: the untaken slots compile away.
fn block_scores(kb: vec4u, koff: vec4u) -> mat4x4f {
  var s = slot_scores(0u, kb, koff);
  if (CPL > 1u) { s += slot_scores(1u, kb, koff); }
  if (CPL > 2u) { s += slot_scores(2u, kb, koff); }
  if (CPL > 3u) { s += slot_scores(3u, kb, koff); }
  if (CPL > 4u) { s += slot_scores(4u, kb, koff); }
  if (CPL > 5u) { s += slot_scores(5u, kb, koff); }
  if (CPL > 6u) { s += slot_scores(6u, kb, koff); }
  if (CPL > 7u) { s += slot_scores(7u, kb, koff); }
  if (CPL > 8u) { s += slot_scores(8u, kb, koff); }
  if (CPL > 9u) { s += slot_scores(9u, kb, koff); }
  if (CPL > 10u) { s += slot_scores(10u, kb, koff); }
  if (CPL > 11u) { s += slot_scores(11u, kb, koff); }
  if (CPL > 12u) { s += slot_scores(12u, kb, koff); }
  if (CPL > 13u) { s += slot_scores(13u, kb, koff); }
  if (CPL > 14u) { s += slot_scores(14u, kb, koff); }
  if (CPL > 15u) { s += slot_scores(15u, kb, koff); }
  return s;
}

fn block_values(kb: vec4u, koff: vec4u, alpha: vec4f, p: mat4x4f) {
  slot_values(0u, kb, koff, alpha, p);
  if (CPL > 1u) { slot_values(1u, kb, koff, alpha, p); }
  if (CPL > 2u) { slot_values(2u, kb, koff, alpha, p); }
  if (CPL > 3u) { slot_values(3u, kb, koff, alpha, p); }
  if (CPL > 4u) { slot_values(4u, kb, koff, alpha, p); }
  if (CPL > 5u) { slot_values(5u, kb, koff, alpha, p); }
  if (CPL > 6u) { slot_values(6u, kb, koff, alpha, p); }
  if (CPL > 7u) { slot_values(7u, kb, koff, alpha, p); }
  if (CPL > 8u) { slot_values(8u, kb, koff, alpha, p); }
  if (CPL > 9u) { slot_values(9u, kb, koff, alpha, p); }
  if (CPL > 10u) { slot_values(10u, kb, koff, alpha, p); }
  if (CPL > 11u) { slot_values(11u, kb, koff, alpha, p); }
  if (CPL > 12u) { slot_values(12u, kb, koff, alpha, p); }
  if (CPL > 13u) { slot_values(13u, kb, koff, alpha, p); }
  if (CPL > 14u) { slot_values(14u, kb, koff, alpha, p); }
  if (CPL > 15u) { slot_values(15u, kb, koff, alpha, p); }
}

// Probabilities of one key's scores s (4 rows): 0 where masked (the key is past the split or past the row's
// causal edge), else 2^(s - m).
fn key_probs(s: vec4f, visible: vec4<bool>, m: vec4f) -> vec4f {
  return select(vec4f(0.0), exp2(s - m), visible);
}

@compute @workgroup_size(WG)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let rows = params.T * params.group; // rows of one KV head
  let blocks = (rows + 3u) / 4u;
  lane = tid % 4u;
  // Units in order (split, quad): the quads of one KV head are neighbours on the same split.
  let units = QUADS * params.splits;
  let unit = linear_group(wg, nwg) * (WG / 4u) + tid / 4u;
  // A unit past the end runs masked (every key invisible, nothing stored): lane_sum needs uniform control flow.
  let live = unit < units;
  let u = min(unit, units - 1u);
  let split = u / QUADS;
  let item = u % QUADS;
  let s0 = split * CHUNK;
  let s1 = select(s0, min(params.S, s0 + CHUNK), live);
  let r0 = quad_row_of(item, 0u, rows, blocks);
  let r1 = quad_row_of(item, 1u, rows, blocks);
  let r2 = quad_row_of(item, 2u, rows, blocks);
  let r3 = quad_row_of(item, 3u, rows, blocks);
  // Offset of each row's KV head within a key's row of K (and V).
  let koff = vec4u(r0.kvh, r1.kvh, r2.kvh, r3.kvh) * D4;

  // The lane's chunks of the quad's q rows, pre-scaled for exp2 (dead rows and slots past D4 are zeros).
  let qscale = params.scale * LOG2E;
  for (var i = 0u; i < CPL; i++) {
    let c = lane + 4u * i;
    var qq = mat4x4f();
    for (var x = 0u; x < 4u; x++) {
      let r = quad_row_of(item, x, rows, blocks);
      if (r.alive && c < D4) {
        qq[x] = vec4f(q[global_row(r) * D4 + c]) * qscale;
      }
    }
    qm[i] = qq;
    am[i] = mat4x4f();
  }

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
  var m = vec4f(NEG_INF);
  var l = vec4f(0.0);

  // The same trip count for every unit (uniform control flow); keys past the split are masked.
  for (var b = 0u; b < CHUNK; b += 4u) {
    let key = vec4u(s0 + b) + vec4u(0u, 1u, 2u, 3u);
    let kb = min(key, vec4u(params.S - 1u)) * stride; // clamped: a masked key still reads a real row
    // 1. Scores of the block's 4 keys (column e), summed over the unit's lanes.
    var sc = block_scores(kb, koff);
    sc[0] = lane_sum(sc[0], tid);
    sc[1] = lane_sum(sc[1], tid);
    sc[2] = lane_sum(sc[2], tid);
    sc[3] = lane_sum(sc[3], tid);
    let inside = key < vec4u(s1);
    let ki = vec4i(key);
    let vis0 = vec4(inside.x) & (vec4i(ki.x) <= last);
    let vis1 = vec4(inside.y) & (vec4i(ki.y) <= last);
    let vis2 = vec4(inside.z) & (vec4i(ki.z) <= last);
    let vis3 = vec4(inside.w) & (vec4i(ki.w) <= last);
    // 2. Online softmax over the block (running max per row, in log2 units).
    let bmax = max(
      max(select(vec4f(NEG_INF), sc[0], vis0), select(vec4f(NEG_INF), sc[1], vis1)),
      max(select(vec4f(NEG_INF), sc[2], vis2), select(vec4f(NEG_INF), sc[3], vis3)),
    );
    let m_new = max(m, bmax);
    let alpha = exp2(m - m_new);
    let p = mat4x4f(key_probs(sc[0], vis0, m_new), key_probs(sc[1], vis1, m_new), key_probs(sc[2], vis2, m_new), key_probs(sc[3], vis3, m_new));
    l = l * alpha + p[0] + p[1] + p[2] + p[3];
    m = m_new;
    // 3. acc = alpha * acc + V^T p for every chunk slot of the lane.
    block_values(kb, koff, alpha, p);
  }

  if (!live) { return; }
  let row_count = params.T * params.Hq;
  let inv_l = select(vec4f(0.0), 1.0 / l, l > vec4f(0.0));
  for (var x = 0u; x < 4u; x++) {
    let r = quad_row_of(item, x, rows, blocks);
    if (!r.alive) { continue; }
    let grow = global_row(r);
    for (var i = 0u; i < CPL; i++) {
      let c = lane + 4u * i;
      if (c < D4) {
        if (params.splits == 1u) {
          out[grow * D4 + c] = vec4<elem>(am[i][x] * inv_l[x]);
        } else {
          part_acc[(split * row_count + grow) * D4 + c] = am[i][x];
        }
      }
    }
    if (params.splits > 1u && lane == 0u) {
      part_ml[split * row_count + grow] = vec2f(m[x], l[x]);
    }
  }
}

@compute @workgroup_size(MERGE_WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row_count = params.T * params.Hq;
  let i = linear_group(wg, nwg) * MERGE_WG + tid;
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
    let w = lse_weight(ml.x, big_m);
    l += ml.y * w;
    acc += part_acc[(s * row_count + grow) * D4 + c] * w;
  }
  out[i] = vec4<elem>(acc * safe_reciprocal(l));
}
