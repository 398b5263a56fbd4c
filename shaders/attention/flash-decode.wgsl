// attention.flash_decode: split-K flash decoding (Dao et al. 2023, "Flash-Decoding for long-context
// inference"). With one (or a few) query tokens there is too little query parallelism to fill a GPU, so the
// key range is cut into `splits` chunks of CHUNK keys, each streamed by its own unit, and a second pass
// merges the chunks' partial softmaxes.
//
// Pass 1 (split_main). A unit is 4 consecutive invocations (the smallest subgroup WebGPU allows, so a unit
// never straddles subgroups) and owns one (row group, split). Row rr = t * G + g is query t through the
// g-th query head of the KV head's GQA group (G = Hq / Hkv). With T * G >= 4 a row group is RQ quads of 4
// rows of one KV head (RQ = 2 from 8 rows per head on: GQA 8, MQA, speculative decode): ONE load of a key's
// chunk serves all of them, and the groups of a KV head sit side by side in one workgroup on the same split,
// so on a GPU a head's other groups (T * G > 8) find those K/V lines in cache. With fewer rows per KV head
// (MHA decode) a quad packs the rows of consecutive KV heads (PACKED), each row reading its own head, so no
// lane computes a dead row.
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
// heads), RQ (quads per unit: 1 or 2) and GROUPS (row groups in all); lane_sum comes from lib/lane-sum-subgroup.wgsl or lib/lane-sum-workgroup.wgsl (appended
// by the host, with its workgroup array where it has one).
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"
#include "lib/lse-merge-column.wgsl"

// Row x (< 4) of quad j (< RQ) of row group g, the rows a unit serves. Shared quads (PACKED == 0u): group g
// is RQ consecutive quads of one KV head, a quad 4 consecutive rows rr of it (rows past the head's T * G are
// dead). Packed quads (PACKED == 1u, fewer than 4 rows per KV head, e.g. MHA decode; RQ is 1): the T * G
// rows of all KV heads in order (KV head, rr), 4 at a time, so no lane of a quad is a dead row and each row
// reads its own head's keys.
struct QuadRow {
  alive: bool,
  kvh: u32,
  rr: u32,
}

fn unit_row(g: u32, j: u32, x: u32, rows: u32) -> QuadRow {
  if (PACKED == 1u) {
    let idx = g * 4u + x;
    let alive = idx < params.Hkv * rows;
    return QuadRow(alive, select(0u, idx / rows, alive), idx % rows);
  }
  let per_head = ((rows + 3u) / 4u + RQ - 1u) / RQ; // row groups of one KV head
  let rr = ((g % per_head) * RQ + j) * 4u + x;
  return QuadRow(rr < rows, g / per_head, rr);
}

// Row of q and out (t * Hq + h) of row rr of KV head kvh: query t = rr / G through head kvh * G + rr % G.
fn global_row(r: QuadRow) -> u32 {
  let G = params.group;
  return (r.rr / G) * params.Hq + r.kvh * G + r.rr % G;
}

// Per lane: q of the unit's rows (column x = row x of a quad) and the output accumulators, one mat4x4 per
// (chunk slot i, quad j) at index i * RQ + j; the running max and sum of each quad's rows.
var<private> lane: u32;
var<private> qm: array<mat4x4f, CPL * RQ>;
var<private> am: array<mat4x4f, CPL * RQ>;
var<private> mq: array<vec4f, RQ>;
var<private> lq: array<vec4f, RQ>;

// Chunk of slot i; a slot past D4 (D4 not a multiple of 4) reads the last chunk, with zero q and no store.
fn chunk_of(i: u32) -> u32 {
  return min(lane + 4u * i, D4 - 1u);
}

// Scores (or probabilities) of a block of 4 keys for the unit's quads: column e = key e, component x = row x.
struct Block {
  a: mat4x4f,
  b: mat4x4f, // quad 1 (RQ == 2u only)
}

fn block_add(s: Block, t: Block) -> Block {
  if (RQ > 1u) {
    return Block(s.a + t.a, s.b + t.b);
  }
  return Block(s.a + t.a, s.b);
}

// Slot i's share of the scores of 4 keys (K row offsets kb).
fn slot_scores(i: u32, kb: vec4u, koff: vec4u) -> Block {
  let c = chunk_of(i);
  if (PACKED == 1u) {
    // Each row reads its own KV head.
    let q = qm[i];
    return Block(mat4x4f(
      vec4f(dot(vec4f(k[kb.x + koff.x + c]), q[0]), dot(vec4f(k[kb.x + koff.y + c]), q[1]), dot(vec4f(k[kb.x + koff.z + c]), q[2]), dot(vec4f(k[kb.x + koff.w + c]), q[3])),
      vec4f(dot(vec4f(k[kb.y + koff.x + c]), q[0]), dot(vec4f(k[kb.y + koff.y + c]), q[1]), dot(vec4f(k[kb.y + koff.z + c]), q[2]), dot(vec4f(k[kb.y + koff.w + c]), q[3])),
      vec4f(dot(vec4f(k[kb.z + koff.x + c]), q[0]), dot(vec4f(k[kb.z + koff.y + c]), q[1]), dot(vec4f(k[kb.z + koff.z + c]), q[2]), dot(vec4f(k[kb.z + koff.w + c]), q[3])),
      vec4f(dot(vec4f(k[kb.w + koff.x + c]), q[0]), dot(vec4f(k[kb.w + koff.y + c]), q[1]), dot(vec4f(k[kb.w + koff.z + c]), q[2]), dot(vec4f(k[kb.w + koff.w + c]), q[3])),
    ), mat4x4f());
  }
  // One load of the head's chunk per key serves all the unit's rows: (k_c * q)[x] = dot(k_c, q row x).
  let o = koff.x + c;
  let k0 = vec4f(k[kb.x + o]);
  let k1 = vec4f(k[kb.y + o]);
  let k2 = vec4f(k[kb.z + o]);
  let k3 = vec4f(k[kb.w + o]);
  let qa = qm[i * RQ];
  var s = Block(mat4x4f(k0 * qa, k1 * qa, k2 * qa, k3 * qa), mat4x4f());
  if (RQ > 1u) {
    let qb = qm[i * RQ + 1u];
    s.b = mat4x4f(k0 * qb, k1 * qb, k2 * qb, k3 * qb);
  }
  return s;
}

// acc = alpha * acc + V p for one quad: V column e = key e's chunk, pt column x = row x's probabilities of the 4 keys.
fn rescale_add(a: mat4x4f, alpha: vec4f, vm: mat4x4f, pt: mat4x4f) -> mat4x4f {
  return mat4x4f(a[0] * alpha.x + vm * pt[0], a[1] * alpha.y + vm * pt[1], a[2] * alpha.z + vm * pt[2], a[3] * alpha.w + vm * pt[3]);
}

// Slot i: acc_i,j = alpha_j * acc_i,j + sum_e v_e p_e,j^T for each quad j.
fn slot_values(i: u32, kb: vec4u, koff: vec4u, alpha_a: vec4f, alpha_b: vec4f, p: Block) {
  let c = chunk_of(i);
  let pt = transpose(p.a); // column x = row x's probabilities of the 4 keys
  if (PACKED == 1u) {
    let a = am[i];
    am[i] = mat4x4f(
      a[0] * alpha_a.x + mat4x4f(vec4f(v[kb.x + koff.x + c]), vec4f(v[kb.y + koff.x + c]), vec4f(v[kb.z + koff.x + c]), vec4f(v[kb.w + koff.x + c])) * pt[0],
      a[1] * alpha_a.y + mat4x4f(vec4f(v[kb.x + koff.y + c]), vec4f(v[kb.y + koff.y + c]), vec4f(v[kb.z + koff.y + c]), vec4f(v[kb.w + koff.y + c])) * pt[1],
      a[2] * alpha_a.z + mat4x4f(vec4f(v[kb.x + koff.z + c]), vec4f(v[kb.y + koff.z + c]), vec4f(v[kb.z + koff.z + c]), vec4f(v[kb.w + koff.z + c])) * pt[2],
      a[3] * alpha_a.w + mat4x4f(vec4f(v[kb.x + koff.w + c]), vec4f(v[kb.y + koff.w + c]), vec4f(v[kb.z + koff.w + c]), vec4f(v[kb.w + koff.w + c])) * pt[3],
    );
    return;
  }
  // One load of each key's chunk of V serves all the unit's rows.
  let o = koff.x + c;
  let vm = mat4x4f(vec4f(v[kb.x + o]), vec4f(v[kb.y + o]), vec4f(v[kb.z + o]), vec4f(v[kb.w + o]));
  am[i * RQ] = rescale_add(am[i * RQ], alpha_a, vm, pt);
  if (RQ > 1u) {
    am[i * RQ + 1u] = rescale_add(am[i * RQ + 1u], alpha_b, vm, transpose(p.b));
  }
}

// The lane's partial scores of a block (all its slots). CPL is a constant: the untaken slots compile away.
fn block_scores(kb: vec4u, koff: vec4u) -> Block {
  var s = slot_scores(0u, kb, koff);
  if (CPL > 1u) { s = block_add(s, slot_scores(1u, kb, koff)); }
  if (CPL > 2u) { s = block_add(s, slot_scores(2u, kb, koff)); }
  if (CPL > 3u) { s = block_add(s, slot_scores(3u, kb, koff)); }
  if (CPL > 4u) { s = block_add(s, slot_scores(4u, kb, koff)); }
  if (CPL > 5u) { s = block_add(s, slot_scores(5u, kb, koff)); }
  if (CPL > 6u) { s = block_add(s, slot_scores(6u, kb, koff)); }
  if (CPL > 7u) { s = block_add(s, slot_scores(7u, kb, koff)); }
  if (CPL > 8u) { s = block_add(s, slot_scores(8u, kb, koff)); }
  if (CPL > 9u) { s = block_add(s, slot_scores(9u, kb, koff)); }
  if (CPL > 10u) { s = block_add(s, slot_scores(10u, kb, koff)); }
  if (CPL > 11u) { s = block_add(s, slot_scores(11u, kb, koff)); }
  if (CPL > 12u) { s = block_add(s, slot_scores(12u, kb, koff)); }
  if (CPL > 13u) { s = block_add(s, slot_scores(13u, kb, koff)); }
  if (CPL > 14u) { s = block_add(s, slot_scores(14u, kb, koff)); }
  if (CPL > 15u) { s = block_add(s, slot_scores(15u, kb, koff)); }
  return s;
}

fn block_values(kb: vec4u, koff: vec4u, alpha_a: vec4f, alpha_b: vec4f, p: Block) {
  slot_values(0u, kb, koff, alpha_a, alpha_b, p);
  if (CPL > 1u) { slot_values(1u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 2u) { slot_values(2u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 3u) { slot_values(3u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 4u) { slot_values(4u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 5u) { slot_values(5u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 6u) { slot_values(6u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 7u) { slot_values(7u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 8u) { slot_values(8u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 9u) { slot_values(9u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 10u) { slot_values(10u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 11u) { slot_values(11u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 12u) { slot_values(12u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 13u) { slot_values(13u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 14u) { slot_values(14u, kb, koff, alpha_a, alpha_b, p); }
  if (CPL > 15u) { slot_values(15u, kb, koff, alpha_a, alpha_b, p); }
}

// Last key each row of quad j may see (query t sits at position S - T + t); dead rows see none.
fn last_keys(g: u32, j: u32, rows: u32) -> vec4i {
  var last = vec4i(-1);
  for (var x = 0u; x < 4u; x++) {
    let r = unit_row(g, j, x, rows);
    if (r.alive) {
      last[x] = select(i32(params.S) - 1, i32(params.S - params.T) + i32(r.rr / params.group), params.causal != 0u);
    }
  }
  return last;
}

// Lane sums of a quad's block scores, then its masks: a key is visible to a row when it lies in the split
// and not past the row's causal edge.
fn quad_scores(sc: mat4x4f, tid: u32, key: vec4u, s1: u32, last: vec4i) -> mat4x4f {
  let ki = vec4i(key);
  return mat4x4f(
    select(vec4f(NEG_INF), lane_sum(sc[0], tid), vec4(key.x < s1) & (vec4i(ki.x) <= last)),
    select(vec4f(NEG_INF), lane_sum(sc[1], tid), vec4(key.y < s1) & (vec4i(ki.y) <= last)),
    select(vec4f(NEG_INF), lane_sum(sc[2], tid), vec4(key.z < s1) & (vec4i(ki.z) <= last)),
    select(vec4f(NEG_INF), lane_sum(sc[3], tid), vec4(key.w < s1) & (vec4i(ki.w) <= last)),
  );
}

// Online softmax of quad j over a block, in log2 units: m_new = max(m_old, block max), alpha = 2^(m_old - m_new),
// p = 2^(s - m_new) (0 for masked keys). Returns p with alpha in `alpha_out`; updates the quad's max and sum.
fn quad_softmax(j: u32, s: mat4x4f, alpha_out: ptr<function, vec4f>) -> mat4x4f {
  let m_old = mq[j];
  let m_new = max(m_old, max(max(s[0], s[1]), max(s[2], s[3])));
  let alpha = exp2(m_old - m_new);
  let p = mat4x4f(
    select(vec4f(0.0), exp2(s[0] - m_new), s[0] > vec4f(NEG_INF)),
    select(vec4f(0.0), exp2(s[1] - m_new), s[1] > vec4f(NEG_INF)),
    select(vec4f(0.0), exp2(s[2] - m_new), s[2] > vec4f(NEG_INF)),
    select(vec4f(0.0), exp2(s[3] - m_new), s[3] > vec4f(NEG_INF)),
  );
  lq[j] = lq[j] * alpha + p[0] + p[1] + p[2] + p[3];
  mq[j] = m_new;
  *alpha_out = alpha;
  return p;
}

@compute @workgroup_size(WG)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let rows = params.T * params.group; // rows of one KV head
  lane = tid % 4u;
  // Units in order (split, row group): the groups of one KV head are neighbours on the same split.
  let units = GROUPS * params.splits;
  let unit = linear_group(wg, nwg) * (WG / 4u) + tid / 4u;
  // A unit past the end runs masked (every key invisible, nothing stored): lane_sum needs uniform control flow.
  let live = unit < units;
  let u = min(unit, units - 1u);
  let split = u / GROUPS;
  let g = u % GROUPS;
  let s0 = split * CHUNK;
  let s1 = select(s0, min(params.S, s0 + CHUNK), live);
  // Offset of each row's KV head within a key's row of K (and V): one head per row when packed, else the group's.
  let koff = vec4u(unit_row(g, 0u, 0u, rows).kvh, unit_row(g, 0u, 1u, rows).kvh, unit_row(g, 0u, 2u, rows).kvh, unit_row(g, 0u, 3u, rows).kvh) * D4;

  // The lane's chunks of the unit's q rows, pre-scaled for exp2 (dead rows and slots past D4 are zeros).
  let qscale = params.scale * LOG2E;
  for (var i = 0u; i < CPL; i++) {
    let c = lane + 4u * i;
    for (var j = 0u; j < RQ; j++) {
      var qq = mat4x4f();
      for (var x = 0u; x < 4u; x++) {
        let r = unit_row(g, j, x, rows);
        if (r.alive && c < D4) {
          qq[x] = vec4f(q[global_row(r) * D4 + c]) * qscale;
        }
      }
      qm[i * RQ + j] = qq;
      am[i * RQ + j] = mat4x4f();
    }
  }
  for (var j = 0u; j < RQ; j++) {
    mq[j] = vec4f(NEG_INF);
    lq[j] = vec4f(0.0);
  }
  let last_a = last_keys(g, 0u, rows);
  let last_b = last_keys(g, 1u, rows);
  let stride = params.Hkv * D4; // vec4s from one key to the next

  // The same trip count for every unit (uniform control flow); keys past the split are masked.
  for (var b = 0u; b < CHUNK; b += 4u) {
    let key = vec4u(s0 + b) + vec4u(0u, 1u, 2u, 3u);
    let kb = min(key, vec4u(params.S - 1u)) * stride; // clamped: a masked key still reads a real row
    // 1. Partial scores of the block's 4 keys over the lane's chunks, summed over the unit's lanes, masked.
    let sc = block_scores(kb, koff);
    // 2. Online softmax per quad.
    var alpha_a = vec4f(1.0);
    var alpha_b = vec4f(1.0);
    var p = Block(quad_softmax(0u, quad_scores(sc.a, tid, key, s1, last_a), &alpha_a), mat4x4f());
    if (RQ > 1u) {
      p.b = quad_softmax(1u, quad_scores(sc.b, tid, key, s1, last_b), &alpha_b);
    }
    // 3. acc = alpha * acc + V^T p for every chunk slot and quad of the lane.
    block_values(kb, koff, alpha_a, alpha_b, p);
  }

  if (!live) { return; }
  let row_count = params.T * params.Hq;
  for (var j = 0u; j < RQ; j++) {
    let l = lq[j];
    let inv_l = select(vec4f(0.0), 1.0 / l, l > vec4f(0.0));
    for (var x = 0u; x < 4u; x++) {
      let r = unit_row(g, j, x, rows);
      if (!r.alive) { continue; }
      let grow = global_row(r);
      for (var i = 0u; i < CPL; i++) {
        let c = lane + 4u * i;
        if (c < D4) {
          if (params.splits == 1u) {
            out[grow * D4 + c] = vec4<elem>(am[i * RQ + j][x] * inv_l[x]);
          } else {
            part_acc[(split * row_count + grow) * D4 + c] = am[i * RQ + j][x];
          }
        }
      }
      if (params.splits > 1u && lane == 0u) {
        part_ml[split * row_count + grow] = vec2f(mq[j][x], l[x]);
      }
    }
  }
}

// One invocation per (out row, vec4 column); the merge itself is lib/lse-merge-column.wgsl.
@compute @workgroup_size(MERGE_WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = linear_group(wg, nwg) * MERGE_WG + tid;
  if (i < params.T * params.Hq * D4) { out[i] = vec4<elem>(lse_merge_column(i / D4, i % D4, params.splits)); }
}

fn merge_ml(s: u32, row: u32) -> vec2f {
  return part_ml[s * params.T * params.Hq + row];
}

fn merge_acc(s: u32, row: u32, col: u32) -> vec4f {
  return part_acc[(s * params.T * params.Hq + row) * D4 + col];
}
