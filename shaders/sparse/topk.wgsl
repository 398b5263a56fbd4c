// sparse.topk: per-row top-k by radix select on the order keys (order-key.wgsl), then an order-preserving
// compaction. No sort: three histogram rounds over 11/11/10-bit digits find the exact key tau of the k-th
// largest element and how many elements equal to tau are taken (krem); then one pass writes every element
// with key > tau plus the first krem elements equal to tau, in index order (ties go to the lower index), so
// the output is the selected set in ascending position, padded with -1 / -inf when fewer than k are valid.
// Two ways to run it:
//   row_main: one workgroup per row does everything in workgroup memory (many rows, e.g. DSA prefill);
//   chunk_*:  `chunks` workgroups per row (few long rows, e.g. decode at 128K): each round histograms its
//             chunk into a global per-row histogram, one workgroup per row picks the digit; the compaction
//             gets its output offset from an exclusive scan of per-chunk counts.

@group(0) @binding(0) var<uniform> params: TopKParams;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out_val: array<f32>;
@group(0) @binding(4) var<storage, read_write> hist_g: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> state: array<RowState>;
@group(0) @binding(6) var<storage, read_write> counts: array<vec2<u32>>;

// Chunk mode's per-row progress. round: next radix round (3 = threshold known); prefix: key bits decided so
// far (the full threshold key after round 3); krem: elements matching prefix still to take; taken: final
// number of selected elements, min(k, valid count).
struct RowState {
  round: u32,
  prefix: u32,
  krem: u32,
  taken: u32,
}

const WG: u32 = 256u;
const BINS: u32 = 2048u; // 11-bit digits
const PER: u32 = 8u; // BINS / WG bins per thread in the digit search
const ITEMS: u32 = 4u; // consecutive elements per thread in a compaction tile

var<workgroup> hist: array<atomic<u32>, BINS>;
var<workgroup> scan: array<u32, WG>;
var<workgroup> rake: array<u32, RAKE>;
// The digit search's answer: (digit, elements above it, row total, 0).
var<workgroup> found: vec4<u32>;
var<workgroup> count_gt: atomic<u32>;
var<workgroup> count_eq: atomic<u32>;

const RAKE: u32 = 16u; // raking threads of the prefix sum, each owning WG / RAKE consecutive entries

fn round_shift(r: u32) -> u32 {
  return select(select(0u, 10u, r == 1u), 21u, r == 0u);
}

// Key bits fixed before round r (0, the top 11, the top 22).
fn decided_mask(r: u32) -> u32 {
  return select(select(0xfffffc00u, 0xffe00000u, r == 1u), 0u, r == 0u);
}

// Causal rows (DSA index scores): row r of R sits at position cols-R+r and sees its first cols-R+r+1 entries.
fn row_len(row: u32) -> u32 {
  if (params.causal != 0u) { return min(params.cols, params.cols - params.rows + row + 1u); }
  return params.cols;
}

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}

// Each thread zeroes the PER bins it owns in the digit search.
fn clear_own_bins(lid: u32) {
  for (var i = 0u; i < PER; i++) { atomicStore(&hist[lid * PER + i], 0u); }
}

// Inclusive prefix sum of `value` over the threads in lid order, and the total. Raking: RAKE threads each
// scan WG / RAKE consecutive entries serially, then every thread adds the raking totals before it. Two
// barriers where a Hillis-Steele scan needs sixteen (barriers dominate on CPU-emulated GPUs). Safe to call
// back to back.
fn prefix_sum(lid: u32, value: u32) -> vec2<u32> {
  const SPAN = WG / RAKE;
  scan[lid] = value;
  workgroupBarrier();
  if (lid < RAKE) {
    var s = 0u;
    for (var i = 0u; i < SPAN; i++) {
      s += scan[lid * SPAN + i];
      scan[lid * SPAN + i] = s;
    }
    rake[lid] = s;
  }
  workgroupBarrier();
  var before = 0u;
  var total = 0u;
  for (var i = 0u; i < RAKE; i++) {
    let x = rake[i];
    if (i < lid / SPAN) { before += x; }
    total += x;
  }
  return vec2<u32>(before + scan[lid], total);
}

// Count the digits of the valid elements in [begin, end) whose key matches prefix on the decided bits.
fn hist_range(lid: u32, base: u32, begin: u32, end: u32, prefix: u32, mask: u32, shift: u32) {
  for (var i = begin + lid; i < end; i += WG) {
    let v = scores[base + i];
    if (is_valid(v)) {
      let key = order_key(v);
      if ((key & mask) == prefix) { atomicAdd(&hist[(key >> shift) & (BINS - 1u)], 1u); }
    }
  }
}

// The digit d holding the krem-th largest element: above(d) < krem <= above(d) + hist[d], where above(d)
// counts elements with a larger digit. Each thread owns PER consecutive bins (and zeroes them for the next
// round once read); the bins of higher threads are all above its own. Leaves (digit, above, total) in
// `found` (the digit only when 1 <= krem <= total); read it with workgroupUniformLoad.
fn select_digit(lid: u32, krem: u32) {
  var local: array<u32, PER>;
  var sum = 0u;
  for (var i = 0u; i < PER; i++) {
    local[i] = atomicLoad(&hist[lid * PER + i]);
    sum += local[i];
  }
  clear_own_bins(lid);
  let ps = prefix_sum(lid, sum);
  var above = ps.y - ps.x;
  for (var i = i32(PER) - 1; i >= 0; i--) {
    let c = local[i];
    if (above < krem && krem <= above + c) {
      found.x = lid * PER + u32(i);
      found.y = above;
    }
    above += c;
  }
  if (lid == 0u) { found.z = ps.y; }
}

// Write the selected elements of [begin, end) in index order. setup = (gt taken before begin, eq seen before
// begin, eq elements to take). An element is taken when key > tau, or key == tau and fewer than setup.z equal
// ones precede it; its slot is the number of taken elements before it.
fn compact_range(lid: u32, row: u32, base: u32, begin: u32, end: u32, tau: u32, setup: vec3<u32>) {
  var gt_run = setup.x;
  var eq_run = setup.y;
  let take_eq = setup.z;
  for (var t0 = begin; t0 < end; t0 += WG * ITEMS) {
    let first = t0 + lid * ITEMS;
    var mine = 0u; // gt count in the low 16 bits, eq count in the high 16 (a tile holds WG * ITEMS = 1024 elements)
    for (var i = 0u; i < ITEMS; i++) {
      let e = first + i;
      if (e < end) {
        let v = scores[base + e];
        if (is_valid(v)) {
          let key = order_key(v);
          mine += select(0u, 1u, key > tau) + select(0u, 0x10000u, key == tau);
        }
      }
    }
    let ps = prefix_sum(lid, mine);
    let excl = ps.x - mine;
    var gt = gt_run + (excl & 0xffffu);
    var eq = eq_run + (excl >> 16u);
    for (var i = 0u; i < ITEMS; i++) {
      let e = first + i;
      if (e < end) {
        let v = scores[base + e];
        if (is_valid(v)) {
          let key = order_key(v);
          if (key > tau || (key == tau && eq < take_eq)) {
            let slot = row * params.k + gt + min(eq, take_eq);
            out_idx[slot] = i32(e);
            if (params.write_values != 0u) { out_val[slot] = v; }
          }
          if (key > tau) { gt += 1u; } else if (key == tau) { eq += 1u; }
        }
      }
    }
    gt_run += ps.y & 0xffffu;
    eq_run += ps.y >> 16u;
  }
}

// Slots past the selected elements: index -1, value -inf.
fn pad_row(lid: u32, row: u32, taken: u32) {
  for (var j = taken + lid; j < params.k; j += WG) {
    out_idx[row * params.k + j] = -1;
    if (params.write_values != 0u) { out_val[row * params.k + j] = neg_inf(); }
  }
}

@compute @workgroup_size(WG)
fn row_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.rows) { return; }
  let len = row_len(row);
  let base = row * params.cols;
  var prefix = 0u;
  var krem = params.k;
  var taken = params.k;
  clear_own_bins(lid);
  workgroupBarrier();
  for (var r = 0u; r < 3u; r++) {
    hist_range(lid, base, 0u, len, prefix, decided_mask(r), round_shift(r));
    workgroupBarrier();
    select_digit(lid, krem);
    let f = workgroupUniformLoad(&found);
    if (r == 0u && f.z <= params.k) {
      // Every valid element is selected: threshold below all valid keys, no ties to ration.
      prefix = 0u;
      krem = 0u;
      taken = f.z;
      break;
    }
    prefix |= f.x << round_shift(r);
    krem -= f.y;
  }
  compact_range(lid, row, base, 0u, len, prefix, vec3<u32>(0u, 0u, krem));
  pad_row(lid, row, taken);
}

fn chunk_range(row: u32, chunk: u32) -> vec2<u32> {
  let end = min((chunk + 1u) * params.chunk_len, row_len(row));
  return vec2<u32>(min(chunk * params.chunk_len, end), end);
}

// Chunk mode, once per run: zero the row's global histogram and progress.
@compute @workgroup_size(WG)
fn chunk_init_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.rows) { return; }
  for (var i = lid; i < BINS; i += WG) { atomicStore(&hist_g[row * BINS + i], 0u); }
  if (lid == 0u) { state[row] = RowState(0u, 0u, params.k, params.k); }
}

// Chunk mode, per round: this chunk's digit histogram, added into the row's global one.
@compute @workgroup_size(WG)
fn chunk_hist_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * params.chunks) { return; }
  let row = g / params.chunks;
  let range = chunk_range(row, g % params.chunks);
  clear_own_bins(lid);
  workgroupBarrier();
  let st = state[row];
  if (st.round < 3u) {
    hist_range(lid, row * params.cols, range.x, range.y, st.prefix, decided_mask(st.round), round_shift(st.round));
  }
  workgroupBarrier();
  for (var i = lid; i < BINS; i += WG) {
    let c = atomicLoad(&hist[i]);
    if (c != 0u) { atomicAdd(&hist_g[row * BINS + i], c); }
  }
}

// Chunk mode, per round: one workgroup per row picks the digit and clears the global histogram.
@compute @workgroup_size(WG)
fn chunk_select_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.rows) { return; }
  for (var i = lid; i < BINS; i += WG) {
    atomicStore(&hist[i], atomicExchange(&hist_g[row * BINS + i], 0u));
  }
  workgroupBarrier();
  let st = state[row];
  select_digit(lid, st.krem);
  workgroupBarrier();
  if (lid == 0u && st.round < 3u) {
    var next = st;
    if (st.round == 0u && found.z <= params.k) {
      next = RowState(3u, 0u, 0u, found.z);
    } else {
      next.prefix = st.prefix | (found.x << round_shift(st.round));
      next.krem = st.krem - found.y;
      next.round = st.round + 1u;
    }
    state[row] = next;
  }
}

// Chunk mode: how many elements of this chunk are above / equal to the threshold.
@compute @workgroup_size(WG)
fn chunk_count_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * params.chunks) { return; }
  let row = g / params.chunks;
  let range = chunk_range(row, g % params.chunks);
  let tau = state[row].prefix;
  if (lid == 0u) {
    atomicStore(&count_gt, 0u);
    atomicStore(&count_eq, 0u);
  }
  workgroupBarrier();
  var gt = 0u;
  var eq = 0u;
  for (var i = range.x + lid; i < range.y; i += WG) {
    let v = scores[row * params.cols + i];
    if (is_valid(v)) {
      let key = order_key(v);
      gt += select(0u, 1u, key > tau);
      eq += select(0u, 1u, key == tau);
    }
  }
  if (gt != 0u) { atomicAdd(&count_gt, gt); }
  if (eq != 0u) { atomicAdd(&count_eq, eq); }
  workgroupBarrier();
  if (lid == 0u) { counts[g] = vec2<u32>(atomicLoad(&count_gt), atomicLoad(&count_eq)); }
}

// Chunk mode: exclusive prefix of the chunk counts along each row (in place), and the row's padding.
@compute @workgroup_size(WG)
fn chunk_scan_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = linear_group(wg, nwg);
  if (row >= params.rows) { return; }
  var carry = vec2<u32>(0u);
  for (var c0 = 0u; c0 < params.chunks; c0 += WG) {
    let c = c0 + lid;
    var mine = vec2<u32>(0u);
    if (c < params.chunks) { mine = counts[row * params.chunks + c]; }
    let gt = prefix_sum(lid, mine.x);
    let eq = prefix_sum(lid, mine.y);
    if (c < params.chunks) { counts[row * params.chunks + c] = carry + vec2<u32>(gt.x, eq.x) - mine; }
    carry += vec2<u32>(gt.y, eq.y);
  }
  pad_row(lid, row, state[row].taken);
}

// Chunk mode: write this chunk's selected elements at the offsets the scan gave it.
@compute @workgroup_size(WG)
fn chunk_write_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * params.chunks) { return; }
  let row = g / params.chunks;
  let range = chunk_range(row, g % params.chunks);
  let st = state[row];
  let before = counts[g];
  compact_range(lid, row, row * params.cols, range.x, range.y, st.prefix, vec3<u32>(before.x, before.y, st.krem));
}
