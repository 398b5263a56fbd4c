// attention.flash_prefill: FlashAttention (Dao et al. 2022) with FlashAttention-2's split of the query rows
// over workgroups, in one dispatch and without workgroup memory or barriers on the subgroup path. Nothing
// but `out` is written to memory.
//
// A workgroup is QPW quads of 4 invocations (4 is the smallest subgroup WebGPU allows, so a quad is always
// in one subgroup); each quad owns QR = 4 * QV consecutive rows of ONE KV head. Row rr = t * G + g is query t
// through the g-th query head of the GQA group (G = Hq / Hkv), so every K/V row a quad reads serves all G
// heads of about QR / G queries.
// The head dim is split over the 4 lanes: lane i holds vec4 columns i, i + 4, ... (CPL of them) of all QR
// rows' q and O accumulators in registers, so the register micro-tile of O is QR rows x CPL vec4 columns
// per lane and that of S is QR rows x 4 keys. Per 4 keys:
//   1. S = Q K^T: each lane reads its columns of the 4 K rows (one vec4 per column: the quad reads 4 whole
//      rows, coalesced), dots them with its QR q rows, and lane_sum adds the 4 lanes' parts (a subgroup
//      butterfly, or workgroup memory where the device has no subgroups, appended by the host);
//   2. online softmax in base 2 (q is pre-scaled by scale * log2 e): one running-max update per row for
//      the 4 keys, p = 2^(s - m), and O is rescaled only when some row's max grew (a branch that is uniform
//      over the quad: every lane holds every row's softmax state);
//   3. O += P V: each lane reads its columns of the 4 V rows and adds p * v into its QR x CPL accumulators.
// Why registers and not a K/V tile in workgroup memory: on SwiftShader every workgroup-memory access is a
// per-lane gather (its pointers always carry a dynamic offset, SIMD::Pointer in SpirvShaderMemory.cpp), so a
// staged tile costs the same gathers as reading storage plus the staging and two barriers per tile; each
// K/V scalar a lane reads feeds QR FMAs instead, which is what bounds the speed there (16 rows, one quad
// per workgroup). On a GPU (4 rows per quad, 16 quads per workgroup) the quads of a workgroup read the same
// K/V rows at about the same time, so L1 serves them, and none waits for another.
// Causal: a workgroup stops after the last key its last row can see (nothing above the diagonal is read),
// and workgroups are scheduled longest first so the last wave is short ones.
// The output is acc / l (0 for a row that saw no key, like the reference).
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic is f32.
//
// In the key loop every index into the private arrays below is a constant after inlining: the loops over rows
// and columns are written out as helper calls with literal arguments (the driver's SPIR-V optimiser inlines
// them and folds the indices). An array indexed by a loop variable lives in memory and each access is a
// per-lane gather on CPU emulation (8x slower in a one-process A/B); WGSL has no unroll attribute.

// Generated from src/kernels/attention/flash-prefill.ts: the bindings params, q, k, v, out (vec4<elem>); the
// constants QV (row quads per invocation quad, 1..4), QR (= 4 * QV rows), QPW (quads per workgroup), WG
// (= 4 * QPW), D4 (vec4s per row), CPL (vec4 columns per lane, ceil(D4 / 4) <= 16) and L (= 4, lane_sum's
// lanes), and lane_sum's workgroup array if it has one.
#include "lib/constants.wgsl"
#include "lib/grid.wgsl"

// Lane registers: q and acc of row r, column slot i at [i * QR + r].
var<private> qv: array<vec4f, QR * CPL>;
var<private> acc: array<vec4f, QR * CPL>;
// Per row quad (4 rows as one vec4): running max, running sum, the last key each row may see.
var<private> m_run: array<vec4f, 4>;
var<private> l_run: array<vec4f, 4>;
var<private> last_key: array<vec4<i32>, 4>;
// The current 4 keys' scores, then probabilities: [key * 4 + row quad].
var<private> sc: array<vec4f, 16>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let G = params.group;
  let rows = params.T * G; // rows of one KV head
  let BR = QPW * QR; // rows of one workgroup
  let blocks = (rows + BR - 1u) / BR;
  let wid = linear_group(wg, nwg);
  if (wid >= blocks * params.Hkv) { return; } // the whole workgroup leaves together
  let kvh = wid % params.Hkv;
  let lane = tid % 4u;
  // Longest first: under the causal mask the last rows see the most keys.
  let block0 = (blocks - 1u - wid / params.Hkv) * BR;
  let row0 = block0 + (tid / 4u) * QR;

  begin_rows(row0, rows, kvh, lane);
  // Keys the workgroup may see: the causal diagonal of its last live row (rows are query-major). Every quad
  // walks them all (lane_sum needs uniform control flow); a quad's keys past its own diagonal are masked.
  let last_t = (min(block0 + BR, rows) - 1u) / G;
  let end = select(params.S, params.S - params.T + last_t + 1u, params.causal != 0u);
  let stride = params.Hkv * D4; // vec4s from one key to the next in k and v
  let col0 = kvh * D4;

  for (var kb = 0u; kb < end; kb += 4u) {
    // Keys past S are read at S - 1 (their p is 0): no branch around the loads.
    let base = vec4u(min(vec4u(kb) + vec4u(0u, 1u, 2u, 3u), vec4u(params.S - 1u))) * stride + col0;
    key_scores(0u, base.x, lane, tid);
    key_scores(1u, base.y, lane, tid);
    key_scores(2u, base.z, lane, tid);
    key_scores(3u, base.w, lane, tid);
    softmax_step(0u, kb);
    if (QV > 1u) { softmax_step(1u, kb); }
    if (QV > 2u) { softmax_step(2u, kb); }
    if (QV > 3u) { softmax_step(3u, kb); }
    // O += P V, one lane column slot at a time (CPL <= 16 slots written out, the unused ones fold away).
    pv_slot(0u, base, lane); pv_slot(1u, base, lane); pv_slot(2u, base, lane); pv_slot(3u, base, lane);
    pv_slot(4u, base, lane); pv_slot(5u, base, lane); pv_slot(6u, base, lane); pv_slot(7u, base, lane);
    pv_slot(8u, base, lane); pv_slot(9u, base, lane); pv_slot(10u, base, lane); pv_slot(11u, base, lane);
    pv_slot(12u, base, lane); pv_slot(13u, base, lane); pv_slot(14u, base, lane); pv_slot(15u, base, lane);
  }

  store_rows(row0, rows, kvh, lane);
}

// Row rr of KV head kvh -> its row of q and out (t * Hq + h), or -1 past the last row.
fn out_row(rr: u32, rows: u32, kvh: u32) -> i32 {
  if (rr >= rows) { return -1; }
  let G = params.group;
  return i32((rr / G) * params.Hq + kvh * G + rr % G);
}

// This lane's column of slot i (clamped into the row: a slot past D4 holds zeros in q and is never stored).
fn lane_col(i: u32, lane: u32) -> u32 {
  return min(lane + 4u * i, D4 - 1u);
}

fn begin_rows(row0: u32, rows: u32, kvh: u32, lane: u32) {
  let qscale = params.scale * LOG2E;
  for (var r = 0u; r < QR; r++) {
    let orow = out_row(row0 + r, rows, kvh);
    for (var i = 0u; i < CPL; i++) {
      var x = vec4f(0.0);
      if (orow >= 0 && lane + 4u * i < D4) {
        x = vec4f(q[u32(orow) * D4 + lane + 4u * i]) * qscale;
      }
      qv[i * QR + r] = x; // once per row: the loop's dynamic indices cost nothing here
      acc[i * QR + r] = vec4f(0.0);
    }
  }
  for (var rq = 0u; rq < 4u; rq++) {
    var lk = vec4<i32>(-1);
    for (var x = 0u; x < 4u; x++) {
      let rr = row0 + 4u * rq + x;
      if (rr < rows) {
        lk[x] = select(i32(params.S) - 1, i32(params.S - params.T + rr / params.group), params.causal != 0u);
      }
    }
    last_key[rq] = lk;
    m_run[rq] = vec4f(NEG_INF);
    l_run[rq] = vec4f(0.0);
  }
}

// Rows 4 rq .. 4 rq + 3 of column slot i against one key column kc.
fn dot4(i: u32, rq: u32, kc: vec4f) -> vec4f {
  let o = i * QR + 4u * rq;
  return vec4f(dot(qv[o], kc), dot(qv[o + 1u], kc), dot(qv[o + 2u], kc), dot(qv[o + 3u], kc));
}

// This lane's part of every row's score against one key, slot i (k row at kbase), added into s.
fn score_slot(i: u32, kbase: u32, lane: u32, s: ptr<function, array<vec4f, 4>>) {
  if (i < CPL) {
    let kc = vec4f(k[kbase + lane_col(i, lane)]);
    (*s)[0] += dot4(i, 0u, kc);
    if (QV > 1u) { (*s)[1] += dot4(i, 1u, kc); }
    if (QV > 2u) { (*s)[2] += dot4(i, 2u, kc); }
    if (QV > 3u) { (*s)[3] += dot4(i, 3u, kc); }
  }
}

// Key j (0..3 of the step) of every row: the lanes' parts over the column slots, summed over the quad.
fn key_scores(j: u32, kbase: u32, lane: u32, tid: u32) {
  var s = array<vec4f, 4>();
  score_slot(0u, kbase, lane, &s); score_slot(1u, kbase, lane, &s); score_slot(2u, kbase, lane, &s); score_slot(3u, kbase, lane, &s);
  score_slot(4u, kbase, lane, &s); score_slot(5u, kbase, lane, &s); score_slot(6u, kbase, lane, &s); score_slot(7u, kbase, lane, &s);
  score_slot(8u, kbase, lane, &s); score_slot(9u, kbase, lane, &s); score_slot(10u, kbase, lane, &s); score_slot(11u, kbase, lane, &s);
  score_slot(12u, kbase, lane, &s); score_slot(13u, kbase, lane, &s); score_slot(14u, kbase, lane, &s); score_slot(15u, kbase, lane, &s);
  sc[j * 4u] = lane_sum(s[0], tid);
  if (QV > 1u) { sc[j * 4u + 1u] = lane_sum(s[1], tid); }
  if (QV > 2u) { sc[j * 4u + 2u] = lane_sum(s[2], tid); }
  if (QV > 3u) { sc[j * 4u + 3u] = lane_sum(s[3], tid); }
}

// exp2(s - m), exactly 0 for a key the row does not see (even when m is NEG_INF too).
fn masked_exp2(s: vec4f, m: vec4f, seen: vec4<bool>) -> vec4f {
  return select(vec4f(0.0), exp2(s - m), seen);
}

// Row quad rq over the step's 4 keys kb .. kb + 3: mask, one max update, p in place of the scores, the sums,
// and O rescaled when the max grew (the branch is the same in every lane: they all hold every row's state).
fn softmax_step(rq: u32, kb: u32) {
  let lk = last_key[rq];
  let k0 = i32(kb);
  let v0 = vec4<i32>(k0) <= lk;
  let v1 = vec4<i32>(k0 + 1) <= lk;
  let v2 = vec4<i32>(k0 + 2) <= lk;
  let v3 = vec4<i32>(k0 + 3) <= lk;
  let s0 = select(vec4f(NEG_INF), sc[rq], v0);
  let s1 = select(vec4f(NEG_INF), sc[4u + rq], v1);
  let s2 = select(vec4f(NEG_INF), sc[8u + rq], v2);
  let s3 = select(vec4f(NEG_INF), sc[12u + rq], v3);
  let m_old = m_run[rq];
  let m_new = max(m_old, max(max(s0, s1), max(s2, s3)));
  let p0 = masked_exp2(s0, m_new, v0);
  let p1 = masked_exp2(s1, m_new, v1);
  let p2 = masked_exp2(s2, m_new, v2);
  let p3 = masked_exp2(s3, m_new, v3);
  sc[rq] = p0;
  sc[4u + rq] = p1;
  sc[8u + rq] = p2;
  sc[12u + rq] = p3;
  m_run[rq] = m_new;
  if (any(m_new > m_old)) {
    // m_old = NEG_INF (no key seen yet) gives alpha = 0 on an all-zero accumulator.
    let alpha = exp2(m_old - m_new);
    l_run[rq] *= alpha;
    rescale_slot(0u, rq, alpha); rescale_slot(1u, rq, alpha); rescale_slot(2u, rq, alpha); rescale_slot(3u, rq, alpha);
    rescale_slot(4u, rq, alpha); rescale_slot(5u, rq, alpha); rescale_slot(6u, rq, alpha); rescale_slot(7u, rq, alpha);
    rescale_slot(8u, rq, alpha); rescale_slot(9u, rq, alpha); rescale_slot(10u, rq, alpha); rescale_slot(11u, rq, alpha);
    rescale_slot(12u, rq, alpha); rescale_slot(13u, rq, alpha); rescale_slot(14u, rq, alpha); rescale_slot(15u, rq, alpha);
  }
  l_run[rq] += (p0 + p1) + (p2 + p3);
}

fn rescale_slot(i: u32, rq: u32, alpha: vec4f) {
  if (i < CPL) {
    let o = i * QR + 4u * rq;
    acc[o] *= alpha.x;
    acc[o + 1u] *= alpha.y;
    acc[o + 2u] *= alpha.z;
    acc[o + 3u] *= alpha.w;
  }
}

// acc of rows 4 rq .. 4 rq + 3, slot i, += p_j v_j over the step's 4 keys.
fn pv_rows(i: u32, rq: u32, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
  let o = i * QR + 4u * rq;
  let p0 = sc[rq];
  let p1 = sc[4u + rq];
  let p2 = sc[8u + rq];
  let p3 = sc[12u + rq];
  acc[o] += (p0.x * v0 + p1.x * v1) + (p2.x * v2 + p3.x * v3);
  acc[o + 1u] += (p0.y * v0 + p1.y * v1) + (p2.y * v2 + p3.y * v3);
  acc[o + 2u] += (p0.z * v0 + p1.z * v1) + (p2.z * v2 + p3.z * v3);
  acc[o + 3u] += (p0.w * v0 + p1.w * v1) + (p2.w * v2 + p3.w * v3);
}

// Column slot i of every row: this lane's vec4 of the 4 V rows (at base), into the accumulators.
fn pv_slot(i: u32, base: vec4u, lane: u32) {
  if (i < CPL) {
    let c = lane_col(i, lane);
    let v0 = vec4f(v[base.x + c]);
    let v1 = vec4f(v[base.y + c]);
    let v2 = vec4f(v[base.z + c]);
    let v3 = vec4f(v[base.w + c]);
    pv_rows(i, 0u, v0, v1, v2, v3);
    if (QV > 1u) { pv_rows(i, 1u, v0, v1, v2, v3); }
    if (QV > 2u) { pv_rows(i, 2u, v0, v1, v2, v3); }
    if (QV > 3u) { pv_rows(i, 3u, v0, v1, v2, v3); }
  }
}

// acc / l for the live rows' columns of this lane (0 for a row that saw no key, like the reference).
fn store_rows(row0: u32, rows: u32, kvh: u32, lane: u32) {
  for (var r = 0u; r < QR; r++) {
    let orow = out_row(row0 + r, rows, kvh);
    let l = l_run[r / 4u][r % 4u];
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var i = 0u; i < CPL; i++) {
      if (orow >= 0 && lane + 4u * i < D4) {
        out[u32(orow) * D4 + lane + 4u * i] = vec4<elem>(acc[i * QR + r] * inv);
      }
    }
  }
}
