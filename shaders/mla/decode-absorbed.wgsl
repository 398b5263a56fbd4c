// mla.decode_absorbed: DeepSeek-V3's attn_impl = "absorb", split-K over the latent cache (flash decoding).
//   1. absorb_main : q_abs[t,h] = scale * [q_nope[t,h] W_UK[h] , q_pe[t,h]]         ([d_c + d_rope] per head)
//                    one thread per output column in small workgroups, so W_UK streams from many SMs
//   2. split_main  : per (query, block of HB heads, key range): score_s = q_abs[h] . [c_KV[s], k_pe[s]],
//                    online softmax, o[h] = sum_s p_s c_KV[s] (values live in latent space); writes the
//                    unnormalised o, the running max m and the sum l of its range
//   3. merge_main  : per (query, head, MC latent columns): combine the ranges (weights exp(m_i - M)) and
//                    divide by L; the merged latent o[t,h] goes back into q_abs's row, no longer read
//   4. uv_main     : out[t,h] = W_UV[h] o[t,h], a coalesced GEMV (a weight row's lanes read consecutive
//                    latent columns, summed by row_sum) over tiles of MT queries, W_UV read once per tile
// The heads are the M dimension of split_main's tile, as in FlashMLA: a workgroup loads a tile of BS latent
// rows into workgroup memory once (vec4 loads) and all HB heads score against it, so the cache streams from
// memory ceil(H/HB) times (once for H <= 21 at d_c + d_rope = 576) instead of once per head, and the key
// ranges spread one step over the whole GPU (the partials, a few MiB, stay in L2 for the merge).
// A head's d_c + d_rope columns are dealt to TPH threads (column lane + k*TPH, k < MAXC); each keeps its
// query slice and its slice of the latent accumulator in registers, and the per-lane partial dot products
// are summed through `red`. The layout (HB, TPH, BS) comes in the uniform and the workgroup arrays have fixed
// sizes, so one compiled pipeline serves every shape. `elem` is f32 or f16 storage; all arithmetic is f32.

@group(0) @binding(0) var<uniform> params: MlaParams;
@group(0) @binding(1) var<storage, read> q_nope: array<elem>;         // [T, H, dn]
@group(0) @binding(2) var<storage, read> q_pe: array<elem>;           // [T, H, dr]
@group(0) @binding(3) var<storage, read> kv_latent: array<vec4<elem>>; // [S, dc/4]
@group(0) @binding(4) var<storage, read> k_pe: array<vec4<elem>>;      // [S, dr/4]
@group(0) @binding(5) var<storage, read> wkv_b: array<elem>;          // [H*(dn+dv), dc]: per head W_UK rows, then W_UV rows
@group(0) @binding(6) var<storage, read_write> q_abs: array<f32>;     // [T*H, dc+dr]
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;  // [T*H, splits, dc+2]: o, then m, l
@group(0) @binding(8) var<storage, read_write> out: array<elem>;      // [T, H, dv]

const WG = 256u;
const ABSORB_WG = 64u;  // absorb_main: 64 output columns (a 32 KiB slice of W_UK at dn = 128) per workgroup
const MAXC = 48u;       // register columns per thread: TPH >= (dc+dr)/MAXC
const TILE = 2048u;     // floats of cache rows per tile: BS * (dc+dr) <= TILE
const RED = 1024u;      // per-lane partial scores: HB * BS * (TPH+1) <= RED (padded rows avoid bank conflicts)
const SC = 256u;        // scores of a tile: HB * BS <= SC
const MAX_SPLITS = 1024u;
const MC = 32u;         // merge_main: latent columns per workgroup, WG / MC threads per column
const UV_WG = 64u;      // uv_main: threads per workgroup
const TPR = 4u;         // uv_main: lanes per W_UV row (64 contiguous bytes a step; each lane walks d_c / 4)
const RPW = UV_WG / TPR; // uv_main: W_UV rows per workgroup (32 KiB of W_UV at d_c = 512)
const MT = 4u;          // uv_main: queries per tile (one vec4 of accumulators)
const NEG_INF = -3.402823466e38; // masked score; exp(NEG_INF - m) underflows to 0

var<workgroup> tile: array<f32, TILE>;
var<workgroup> red: array<f32, RED>;
var<workgroup> scores: array<f32, SC>;
var<workgroup> weights: array<f32, MAX_SPLITS>;
var<workgroup> chunk: array<f32, WG>;
var<workgroup> mred: array<f32, WG>;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

// One thread per (t, h, column): the latent columns are coalesced reads of W_UK's rows.
@compute @workgroup_size(ABSORB_WG)
fn absorb_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let dk = params.dc + params.dr;
  let i = linear_group(wg, nwg) * ABSORB_WG + lid;
  if (i >= params.T * params.H * dk) { return; }
  let row = i / dk;
  let col = i % dk;
  var v = 0.0;
  if (col < params.dc) {
    let h = row % params.H;
    let w = h * (params.dn + params.dv) * params.dc + col;
    for (var d = 0u; d < params.dn; d++) {
      v += f32(q_nope[row * params.dn + d]) * f32(wkv_b[w + d * params.dc]);
    }
  } else {
    v = f32(q_pe[row * params.dr + col - params.dc]);
  }
  q_abs[i] = v * params.scale;
}

@compute @workgroup_size(WG)
fn split_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let HB = params.heads_per_block;
  let TPH = params.threads_per_head;
  let BS = params.tile_rows;
  let blocks = (params.H + HB - 1u) / HB;
  let per_query = blocks * params.splits;
  let g = linear_group(wg, nwg);
  if (g >= params.T * per_query) { return; } // uniform per workgroup, so the barriers below are safe
  let t = g / per_query;
  let block = (g % per_query) / params.splits;
  let split = g % params.splits;
  let hl = lid / TPH;
  let lane = lid % TPH;
  let h = block * HB + hl;
  let head_ok = hl < HB && h < params.H; // threads past HB * TPH only help with the loads
  let dk = params.dc + params.dr;
  let dc4 = params.dc / 4u;
  let dk4 = dc4 + params.dr / 4u;
  let row = t * params.H + h;

  var q: array<f32, MAXC>;
  var acc: array<f32, MAXC>;
  if (head_ok) {
    for (var k = 0u; k < MAXC; k++) {
      let col = lane + k * TPH;
      if (col >= dk) { break; }
      q[k] = q_abs[row * dk + col];
    }
  }

  // Keys this workgroup owns: its split's range, cut at the causal horizon of query t (may be empty).
  let horizon = select(params.S, min(params.S, params.S - params.T + t + 1u), params.causal != 0u);
  let s_begin = split * params.keys_per_split;
  let s_end = min(s_begin + params.keys_per_split, horizon);
  var m = NEG_INF;
  var l = 0.0;
  for (var s0 = s_begin; s0 < s_end; s0 += BS) {
    workgroupBarrier(); // the previous tile is no longer read
    for (var i = lid; i < BS * dk4; i += WG) {
      let r = i / dk4;
      let c4 = i % dk4;
      let s = s0 + r;
      var v = vec4<f32>(0.0);
      if (s < s_end) {
        if (c4 < dc4) {
          v = vec4<f32>(kv_latent[s * dc4 + c4]);
        } else {
          v = vec4<f32>(k_pe[s * (dk4 - dc4) + c4 - dc4]);
        }
      }
      let o = r * dk + c4 * 4u;
      tile[o] = v.x;
      tile[o + 1u] = v.y;
      tile[o + 2u] = v.z;
      tile[o + 3u] = v.w;
    }
    workgroupBarrier();
    if (head_ok) {
      // Each lane dots its column slice of the head's query with every row of the tile.
      for (var s = 0u; s < BS; s++) {
        var part = 0.0;
        for (var k = 0u; k < MAXC; k++) {
          let col = lane + k * TPH;
          if (col >= dk) { break; }
          part += q[k] * tile[s * dk + col];
        }
        red[(hl * BS + s) * (TPH + 1u) + lane] = part;
      }
    }
    workgroupBarrier();
    if (head_ok) {
      for (var s = lane; s < BS; s += TPH) { // a tile can be taller than a head has lanes
        var sum = 0.0;
        for (var j = 0u; j < TPH; j++) { sum += red[(hl * BS + s) * (TPH + 1u) + j]; }
        scores[hl * BS + s] = select(NEG_INF, sum, s0 + s < s_end);
      }
    }
    workgroupBarrier();
    if (head_ok) {
      // Online softmax: every lane of a head runs the same update, so no broadcast is needed.
      var m_new = m;
      for (var s = 0u; s < BS; s++) { m_new = max(m_new, scores[hl * BS + s]); }
      let alpha = exp(m - m_new);
      l *= alpha;
      for (var k = 0u; k < MAXC; k++) { acc[k] *= alpha; }
      for (var s = 0u; s < BS; s++) {
        let x = scores[hl * BS + s];
        let p = select(exp(x - m_new), 0.0, x <= NEG_INF);
        l += p;
        for (var k = 0u; k < MAXC; k++) {
          let col = lane + k * TPH;
          // The values are the latent part of the same rows: P . c_KV (W_UV comes in merge_main).
          if (col >= params.dc) { break; }
          acc[k] += p * tile[s * dk + col];
        }
      }
      m = m_new;
    }
  }

  if (head_ok) {
    let base = (row * params.splits + split) * (params.dc + 2u);
    for (var k = 0u; k < MAXC; k++) {
      let col = lane + k * TPH;
      if (col >= params.dc) { break; }
      partials[base + col] = acc[k];
    }
    if (lane == 0u) {
      partials[base + params.dc] = m;
      partials[base + params.dc + 1u] = l;
    }
  }
}

// One workgroup per (t, h, MC latent columns): every workgroup of a head recomputes M and L from the
// splits' (m, l) (2 floats per split, from L2), then WG / MC threads per column sum the splits' o in strides.
@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let chunks = (params.dc + MC - 1u) / MC;
  let g = linear_group(wg, nwg);
  if (g >= params.T * params.H * chunks) { return; } // uniform per workgroup
  let row = g / chunks;
  let c0 = (g % chunks) * MC;
  let stride = params.dc + 2u;
  let base = row * params.splits;

  var mx = NEG_INF;
  for (var i = lid; i < params.splits; i += WG) { mx = max(mx, partials[(base + i) * stride + params.dc]); }
  mred[lid] = mx;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { mred[lid] = max(mred[lid], mred[lid + span]); }
    workgroupBarrier();
  }
  let big_m = mred[0];
  workgroupBarrier();

  var lsum = 0.0;
  for (var i = lid; i < params.splits; i += WG) {
    let mi = partials[(base + i) * stride + params.dc];
    let w = select(exp(mi - big_m), 0.0, mi <= NEG_INF);
    weights[i] = w;
    lsum += w * partials[(base + i) * stride + params.dc + 1u];
  }
  mred[lid] = lsum;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lid < span) { mred[lid] += mred[lid + span]; }
    workgroupBarrier();
  }
  // A query with no visible key would have L = 0: its output is 0 (the reference's convention).
  let inv = select(1.0 / mred[0], 0.0, mred[0] == 0.0);

  let c = c0 + lid % MC;
  var x = 0.0;
  if (c < params.dc) {
    for (var i = lid / MC; i < params.splits; i += WG / MC) { x += weights[i] * partials[(base + i) * stride + c]; }
  }
  chunk[lid] = x;
  workgroupBarrier();
  if (lid < MC && c < params.dc) {
    var sum = 0.0;
    for (var j = lid; j < WG; j += MC) { sum += chunk[j]; }
    q_abs[row * (params.dc + params.dr) + c] = sum * inv;
  }
}

// Workgroup (query tile, block of RPW output rows (h, d)): out[t, h, d] = W_UV[h][d] . o[t, h].
@compute @workgroup_size(UV_WG)
fn uv_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lanes = lane_setup(lid);
  let t0 = wg.x * MT;
  let rows = min(params.T - t0, MT);
  let n = wg.y * RPW + lanes.p / TPR; // h * dv + d
  let h = n / params.dv;
  let d = n % params.dv;
  let dk = params.dc + params.dr;
  // o rows of queries t0 .. t0+3 (past the tile: its last query again, computed and not stored)
  let o = (min(vec4u(t0) + vec4u(0u, 1u, 2u, 3u), vec4u(t0 + rows - 1u)) * params.H + h) * dk;
  var acc = vec4f(0.0);
  if (n < params.H * params.dv) {
    let w = (h * (params.dn + params.dv) + params.dn + d) * params.dc;
    for (var k = lanes.p % TPR; k < params.dc; k += TPR) {
      let wv = f32(wkv_b[w + k]);
      if (rows == 1u) {
        acc.x += wv * q_abs[o.x + k];
      } else {
        acc += wv * vec4f(q_abs[o.x + k], q_abs[o.y + k], q_abs[o.z + k], q_abs[o.w + k]);
      }
    }
  }
  let sums = row_sum(acc, lanes);
  if (lanes.p % TPR == 0u && n < params.H * params.dv) {
    for (var r = 0u; r < rows; r++) { out[(t0 + r) * params.H * params.dv + n] = elem(sums[r]); }
  }
}
