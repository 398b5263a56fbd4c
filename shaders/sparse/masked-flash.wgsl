// The flash-attention tile loop the sparse kernels share (sliding window, block select, DSA attention).
// A workgroup owns BR rows, each a (query, head) pair of one KV head `kvh`, and walks key tiles the kernel
// chooses: it writes a tile's key positions into tile_keys (-1 = empty slot) and calls flash_tile. So a
// kernel only decides WHICH keys a row block visits (a window, selected blocks, a gathered index list) and
// supplies visible(r, key) for per-row masking; tiles it never names cost nothing.
// Per tile: gather K (and V) rows into workgroup memory as vec4 (consecutive invocations read consecutive
// vec4s of a row: coalesced), score BR x BK pairs (L lanes per dot product when the tile is small and D
// large, e.g. MLA's 576, added by lane_sum: a subgroup butterfly or workgroup memory, appended by the host),
// update the running max / sum per row (online softmax, so scores never leave the workgroup) and accumulate
// P V, each thread holding up to MAXC vec4 columns of its row's output. Storage is `elem` (f32 or f16),
// arithmetic f32.
// Split-K (decode): a kernel's keys form one sequence per row block (its spans or list, concatenated), and
// with params.splits > 1 workgroup `split` walks only positions [split * chunk, (split + 1) * chunk) of it
// (walk_split_span), ending with a partial (max m, sum l, unnormalised acc) per row instead of the output;
// merge_main then combines the partials by log-sum-exp: M = max_s m_s, out = sum_s e^(m_s - M) acc_s /
// sum_s e^(m_s - M) l_s (0 where no key was visible). A decode step with a handful of rows thus still fills
// the GPU: the keys, not the rows, supply the parallelism.
// The kernel file that follows defines: fn visible(r: u32, key: u32) -> bool, its entry points, and any
// bindings from 6 on.

@group(0) @binding(0) var<uniform> params: SparseAttnParams;
@group(0) @binding(1) var<storage, read> q: array<vec4<elem>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<elem>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<elem>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<elem>>;
// Split-K partials: acc [splits, T * Hq, DV4], then (m, l, -, -) [splits, T * Hq] (one buffer, so a kernel
// with three tensors of its own stays within 8 storage bindings).
@group(0) @binding(5) var<storage, read_write> part: array<vec4f>;

override WG: u32 = 256;
override BR: u32 = 16; // rows per workgroup
override BK: u32 = 16; // keys per tile
override L: u32 = 1; // lanes per score dot product (BR * BK * L == WG)
override D4: u32 = 16; // vec4s per q / k row
override DV4: u32 = 16; // vec4s per v / out row
override V_FROM_K: bool = false; // MLA latent mode: V is the first DV4 vec4s of each K row
override VS_LEN: u32 = 256; // BK * DV4, or 1 when V_FROM_K
// The rows' queries staged in workgroup memory, or (false) read from global memory at every tile, where they
// stay cache-resident: what lets 16 MLA heads x 576 dims share one key tile in a 32 KiB workgroup.
override Q_SHARED: bool = true;
override QS_LEN: u32 = 256; // BR * D4, or 1 without Q_SHARED
const MAXC: u32 = 8u; // output vec4s per thread: DV4 <= MAXC * (WG / BR)
const NEG: f32 = -3.0e38; // masked score; exp(NEG - m) underflows to 0 and NEG - NEG stays finite

var<workgroup> qs: array<vec4<f32>, QS_LEN>; // the rows' queries, pre-scaled (Q_SHARED)
var<workgroup> ks: array<vec4<f32>, BK * D4>;
var<workgroup> vs: array<vec4<f32>, VS_LEN>;
var<workgroup> ps: array<f32, BR * BK>; // scores
var<workgroup> tile_keys: array<i32, BK>;
var<workgroup> row_q: array<i32, BR>; // the row's q / out row (t * Hq + h), -1 for an unused row
var<workgroup> row_pos: array<u32, BR>; // the row's query position

var<private> kvh: u32; // the workgroup's KV head, set by the kernel before flash_begin
var<private> m_run: f32;
var<private> l_run: f32;
var<private> acc: array<vec4<f32>, MAXC>;

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

// Grid index g -> (work item g / splits, split g % splits): the splits of one item are neighbours in the
// grid, so they run together and share the item's queries in cache. The split is passed around as a value,
// not kept in a private variable, so that control flow depending on it stays uniform.
fn split_item(g: u32) -> vec2u {
  return vec2u(g / params.splits, g % params.splits);
}

// After row_q / row_pos are written (and a barrier): stage the queries, reset the running state.
fn flash_begin(lid: u32) {
  for (var i = lid; Q_SHARED && i < BR * D4; i += WG) {
    let row = row_q[i / D4];
    var x = vec4<f32>(0.0);
    if (row >= 0) { x = vec4<f32>(q[u32(row) * D4 + i % D4]) * params.scale; }
    qs[i] = x;
  }
  m_run = NEG;
  l_run = 0.0;
  for (var i = 0u; i < MAXC; i++) { acc[i] = vec4<f32>(0.0); }
  workgroupBarrier();
}

fn v_at(j: u32, col: u32) -> vec4<f32> {
  if (V_FROM_K) { return ks[j * D4 + col]; }
  return vs[j * DV4 + col];
}

// One key tile. The caller wrote tile_keys (and anything visible() reads) before a barrier; flash_tile ends
// with a barrier, so the caller may overwrite them right after.
fn flash_tile(lid: u32) {
  for (var i = lid; i < BK * D4; i += WG) {
    let key = tile_keys[i / D4];
    var x = vec4<f32>(0.0);
    if (key >= 0) { x = vec4<f32>(k[u32(key) * params.k_row4 + kvh * D4 + i % D4]); }
    ks[i] = x;
  }
  if (!V_FROM_K) {
    for (var i = lid; i < BK * DV4; i += WG) {
      let key = tile_keys[i / DV4];
      var x = vec4<f32>(0.0);
      if (key >= 0) { x = vec4<f32>(v[u32(key) * params.v_row4 + kvh * DV4 + i % DV4]); }
      vs[i] = x;
    }
  }
  workgroupBarrier();

  // Scores: thread -> (pair lid / L, slice lid % L of the dot product); lane_sum adds the L slices.
  let pair = lid / L;
  let j = pair % BK;
  var d = 0.0;
  if (Q_SHARED) {
    for (var d4 = lid % L; d4 < D4; d4 += L) { d += dot(qs[(pair / BK) * D4 + d4], ks[j * D4 + d4]); }
  } else {
    let qb = u32(max(row_q[pair / BK], 0)) * D4; // an unused row reads row 0 and is masked below
    for (var d4 = lid % L; d4 < D4; d4 += L) { d += dot(vec4<f32>(q[qb + d4]), ks[j * D4 + d4]); }
    d *= params.scale;
  }
  if (L > 1u) { d = lane_sum(vec4f(d, 0.0, 0.0, 0.0), lid).x; }
  if (lid % L == 0u) {
    let key = tile_keys[j];
    let rr = pair / BK;
    let ok = key >= 0 && row_q[rr] >= 0 && visible(rr, u32(key));
    ps[pair] = select(NEG, d, ok);
  }
  workgroupBarrier();

  // Online softmax: every thread of a row reads the row's scores, takes the tile max and exponentiates them
  // itself (BK exps a thread instead of a barrier to share them), then accumulates P V.
  let tpr = WG / BR;
  let row = lid / tpr;
  let c = lid % tpr;
  var tmax = NEG;
  for (var jj = 0u; jj < BK; jj++) { tmax = max(tmax, ps[row * BK + jj]); }
  let m_new = max(m_run, tmax);
  let alpha = exp(m_run - m_new);
  m_run = m_new;

  for (var i = 0u; i < MAXC; i++) { acc[i] *= alpha; }
  var psum = 0.0;
  for (var jj = 0u; jj < BK; jj++) {
    let s = ps[row * BK + jj];
    if (s > NEG) {
      let p = exp(s - m_new);
      psum += p;
      for (var i = 0u; i < MAXC; i++) {
        let col = c + tpr * i;
        if (col < DV4) { acc[i] += p * v_at(jj, col); }
      }
    }
  }
  l_run = l_run * alpha + psum;
  workgroupBarrier();
}

// Normalise and store the rows (a row that saw no key writes zeros), or with splits, the split's partial.
fn flash_end(lid: u32, split: u32) {
  let tpr = WG / BR;
  let row = row_q[lid / tpr];
  if (row < 0) { return; }
  if (params.splits > 1u) {
    let prow = split * params.T * params.Hq + u32(row);
    for (var i = 0u; i < MAXC; i++) {
      let col = lid % tpr + tpr * i;
      if (col < DV4) { part[prow * DV4 + col] = acc[i]; }
    }
    if (lid % tpr == 0u) { part[ml_base() + prow] = vec4f(m_run, l_run, 0.0, 0.0); }
    return;
  }
  let inv = select(1.0 / l_run, 0.0, l_run == 0.0);
  for (var i = 0u; i < MAXC; i++) {
    let col = lid % tpr + tpr * i;
    if (col < DV4) { out[u32(row) * DV4 + col] = vec4<elem>(acc[i] * inv); }
  }
}

fn ml_base() -> u32 {
  return params.splits * params.T * params.Hq * DV4;
}

// The log-sum-exp merge of the splits' partials, one workgroup per out row: thread (lane, col) folds the
// splits lane, lane + lanes, ... of vec4 column col into a running (m, l, acc) (rescaled when m grows, so
// no second pass over the splits), then the lanes are folded the same way. A split that saw no key has
// m = NEG, l = 0, acc = 0: its weight underflows to 0, or is 1 against l = 0 when no split saw one.
var<workgroup> merge_ml: array<vec2f, WG>;
var<workgroup> merge_acc: array<vec4f, WG>;

struct Lse {
  m: f32,
  l: f32,
  o: vec4f,
}

fn lse_fold(a: Lse, m: f32, l: f32, o: vec4f) -> Lse {
  let big = max(a.m, m);
  let wa = exp(a.m - big);
  let wb = exp(m - big);
  return Lse(big, a.l * wa + l * wb, a.o * wa + o * wb);
}

@compute @workgroup_size(WG)
fn merge_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let rows = params.T * params.Hq;
  let row = linear_group(wg, nwg);
  if (row >= rows) { return; }
  let lanes = WG / DV4; // DV4 <= WG: MAXC * WG / BR covers it
  let lane = lid / DV4;
  let col = lid % DV4;
  var r = Lse(NEG, 0.0, vec4f(0.0));
  if (lane < lanes) {
    for (var s = lane; s < params.splits; s += lanes) {
      let ml = part[ml_base() + s * rows + row];
      r = lse_fold(r, ml.x, ml.y, part[(s * rows + row) * DV4 + col]);
    }
  }
  merge_ml[lid] = vec2f(r.m, r.l);
  merge_acc[lid] = r.o;
  workgroupBarrier();
  if (lane == 0u) {
    for (var x = 1u; x < lanes; x++) {
      let t = x * DV4 + col;
      r = lse_fold(r, merge_ml[t].x, merge_ml[t].y, merge_acc[t]);
    }
    out[row * DV4 + col] = vec4<elem>(r.o * select(1.0 / r.l, 0.0, r.l == 0.0));
  }
}

// Rows = (query, head) pairs of KV head kvh, query-major: R = t * group + g covers queries of a row block
// in order, all heads of a query side by side (window and block select).
fn rows_by_query(lid: u32, rb: u32) {
  if (lid < BR) {
    let R = rb * BR + lid;
    if (R < params.T * params.group) {
      let t = R / params.group;
      row_q[lid] = i32(t * params.Hq + kvh * params.group + R % params.group);
      row_pos[lid] = params.S - params.T + t;
    } else {
      row_q[lid] = -1;
      row_pos[lid] = 0u;
    }
  }
  workgroupBarrier();
}

// Keys [begin, end) in tiles of BK, for a span every row of the block may see (visible() masks per row).
fn walk_span(lid: u32, begin: u32, end: u32) {
  for (var s0 = begin; s0 < end; s0 += BK) {
    if (lid < BK) {
      let s = s0 + lid;
      tile_keys[lid] = select(-1, i32(s), s < end);
    }
    workgroupBarrier();
    flash_tile(lid);
  }
}

// The span of keys [begin, end) sits at positions vbase .. of the row block's key sequence: walk the part of
// it that falls in this workgroup's split.
fn walk_split_span(lid: u32, split: u32, vbase: u32, begin: u32, end: u32) {
  if (end <= begin) { return; }
  let lo = max(vbase, split * params.chunk);
  let hi = min(vbase + (end - begin), (split + 1u) * params.chunk);
  if (lo < hi) { walk_span(lid, begin + lo - vbase, begin + hi - vbase); }
}
