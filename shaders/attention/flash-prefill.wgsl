// attention.flash_prefill: FlashAttention (Dao et al. 2022, with FlashAttention-2's split of the query rows
// over workgroups) in one dispatch. Scores live in registers only; nothing but `out` is written.
//
// A workgroup owns R = WG / L rows of ONE KV head. Row rr = t * G + g is query t through the g-th query head
// of the GQA group (G = Hq / Hkv), so every K/V tile the workgroup stages in workgroup memory serves all G
// heads of about R / G queries: K and V are read once per row block, not once per query head.
// Each row is handled by L consecutive lanes; lane `lane` keeps the vec4 chunks c = lane + i * L (i < CPT)
// of its row's q (pre-scaled by scale * log2 e, so the softmax uses exp2) and of its output accumulator.
// Per K/V tile of BK keys:
//   1. store the tile, fetched into registers during the previous tile, to workgroup memory, and start
//      fetching the next one (vec4 loads, coalesced along D; keys past S are zeros): the global-memory
//      latency overlaps this tile's arithmetic;
//   2. KS keys at a time: partial q.k over the lane's chunks, summed over the L lanes by lane_sum (a subgroup
//      xor butterfly, or workgroup memory on devices without subgroups); the KS / 4 sums are independent;
//   3. online softmax over those KS keys: m' = max(m, max_j s_j), alpha = 2^(m - m'), p_j = 2^(s_j - m'),
//      l = l * alpha + sum p_j, acc = acc * alpha + sum_j p_j v_j (masked keys get p = 0).
// The output is acc / l (0 for a row that saw no key, like the reference). Under the causal mask a block
// stops at the last key its last row can see, so tiles above the diagonal are never loaded.
// `elem` is f32 or f16 storage (src/gpu/shader.ts); all arithmetic is f32. lane_sum is appended by the host.

@group(0) @binding(0) var<uniform> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<vec4<elem>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<elem>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<elem>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<elem>>;

override WG: u32 = 256; // invocations per workgroup
override L: u32 = 4; // lanes per row: a power of two <= 4
override CPT: u32 = 4; // vec4 chunks of a row per lane: ceil(D / 4 / L) <= MAX_CPT
override BK: u32 = 32; // keys per K/V tile: a multiple of KS
override KS: u32 = 8; // keys per softmax step: 4, 8 or 16, <= BK
override PF: u32 = 2; // tile vec4s each invocation fetches: ceil(BK * CPT * L / WG) <= MAX_PF

const MAX_CPT = 16u; // D = 256 with 4 lanes
const MAX_KS4 = 4u; // KS / 4
const MAX_PF = 8u;
const LOG2E = 1.4426950408889634;
const NEG_INF = -3.402823466e38; // finite, so m - m' never makes inf - inf

// One tile row per key, D / 4 vec4 used of its CPT * L slots (row stride D / 4).
var<workgroup> k_tile: array<vec4<elem>, BK * CPT * L>;
var<workgroup> v_tile: array<vec4<elem>, BK * CPT * L>;

// One invocation's share of a K/V tile, held in registers between its load and its store.
struct Fetched {
  k: array<vec4<elem>, MAX_PF>,
  v: array<vec4<elem>, MAX_PF>,
}

fn fetch_tile(kb: u32, kvh: u32, D4: u32, tid: u32) -> Fetched {
  var f: Fetched;
  for (var w = 0u; w < PF; w++) {
    let idx = tid + w * WG;
    let s = kb + idx / D4;
    f.k[w] = vec4<elem>(0.0);
    f.v[w] = vec4<elem>(0.0);
    if (idx < BK * D4 && s < params.S) {
      let g = (s * params.Hkv + kvh) * D4 + idx % D4;
      f.k[w] = k[g];
      f.v[w] = v[g];
    }
  }
  return f;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let G = params.group;
  let rows = params.T * G; // rows of one KV head
  let R = WG / L;
  let blocks = (rows + R - 1u) / R;
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= blocks * params.Hkv) { return; } // the whole workgroup leaves: barriers below stay uniform
  let kvh = wid / blocks;
  let row0 = (wid % blocks) * R;
  let D4 = params.D / 4u;

  let lane = tid % L;
  let rr = row0 + tid / L;
  let live = rr < rows; // dead rows (past the last query) still take part in barriers and lane sums
  let t = min(rr, rows - 1u) / G;
  let qrow = (t * params.Hq + kvh * G + rr % G) * D4;
  // Keys this row may see: [0, row_end). Query t sits at position S - T + t.
  let row_end = select(params.S, params.S - params.T + t + 1u, params.causal != 0u);
  // Keys the whole block may see (uniform): the causal diagonal of its last row.
  let last_t = (min(row0 + R, rows) - 1u) / G;
  let block_end = select(params.S, params.S - params.T + last_t + 1u, params.causal != 0u);

  let qscale = params.scale * LOG2E;
  var qv: array<vec4f, MAX_CPT>;
  var acc: array<vec4f, MAX_CPT>;
  for (var i = 0u; i < CPT; i++) {
    let c = lane + i * L;
    qv[i] = vec4f(0.0);
    acc[i] = vec4f(0.0);
    if (live && c < D4) {
      qv[i] = vec4f(q[qrow + c]) * qscale;
    }
  }
  var m = NEG_INF;
  var l = 0.0;

  var next = fetch_tile(0u, kvh, D4, tid);
  for (var kb = 0u; kb < block_end; kb += BK) {
    // 1. Store the prefetched tile (rows of D / 4 vec4s), then fetch the next one.
    for (var w = 0u; w < PF; w++) {
      let idx = tid + w * WG;
      if (idx < BK * D4) {
        k_tile[idx] = next.k[w];
        v_tile[idx] = next.v[w];
      }
    }
    workgroupBarrier();
    if (kb + BK < block_end) {
      next = fetch_tile(kb + BK, kvh, D4, tid);
    }

    // 2 + 3, KS keys per step. The step count is a runtime value: a tile cut by the causal diagonal or by S
    // stops early; the keys of a last, partial step are masked.
    let steps = (min(BK, block_end - kb) + KS - 1u) / KS;
    for (var st = 0u; st < steps; st++) {
      let j0 = st * KS;
      var s4: array<vec4f, MAX_KS4>; // scores of keys kb + j0 + 4 x + 0..3, in log2 units
      for (var x = 0u; x < KS / 4u; x++) {
        var part = vec4f(0.0);
        for (var i = 0u; i < CPT; i++) {
          let c = lane + i * L;
          if (c < D4) {
            let o = (j0 + 4u * x) * D4 + c;
            let qc = qv[i];
            part += vec4f(
              dot(qc, vec4f(k_tile[o])),
              dot(qc, vec4f(k_tile[o + D4])),
              dot(qc, vec4f(k_tile[o + 2u * D4])),
              dot(qc, vec4f(k_tile[o + 3u * D4])),
            );
          }
        }
        s4[x] = part;
      }
      var m_new = m;
      for (var x = 0u; x < KS / 4u; x++) {
        let keys = vec4u(kb + j0 + 4u * x) + vec4u(0u, 1u, 2u, 3u);
        let sc = select(vec4f(NEG_INF), lane_sum(s4[x], tid), keys < vec4u(row_end));
        s4[x] = sc;
        m_new = max(m_new, max(max(sc.x, sc.y), max(sc.z, sc.w)));
      }
      let alpha = exp2(m - m_new);
      m = m_new;
      l *= alpha;
      for (var i = 0u; i < CPT; i++) {
        acc[i] *= alpha;
      }
      for (var x = 0u; x < KS / 4u; x++) {
        let keys = vec4u(kb + j0 + 4u * x) + vec4u(0u, 1u, 2u, 3u);
        let p = select(vec4f(0.0), exp2(s4[x] - m_new), keys < vec4u(row_end));
        l += p.x + p.y + p.z + p.w;
        for (var i = 0u; i < CPT; i++) {
          let c = lane + i * L;
          if (c < D4) {
            let o = (j0 + 4u * x) * D4 + c;
            acc[i] += p.x * vec4f(v_tile[o]) + p.y * vec4f(v_tile[o + D4]) + p.z * vec4f(v_tile[o + 2u * D4]) + p.w * vec4f(v_tile[o + 3u * D4]);
          }
        }
      }
    }
    workgroupBarrier(); // the next tile overwrites k_tile / v_tile
  }

  if (live) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var i = 0u; i < CPT; i++) {
      let c = lane + i * L;
      if (c < D4) {
        out[qrow + c] = vec4<elem>(acc[i] * inv);
      }
    }
  }
}
