// sparse.topk: per-row top-k by radix select on the order keys (order-key.wgsl), then an order-preserving
// compaction. No sort: three histogram rounds over 11/11/10-bit digits find the exact key tau of the k-th
// largest element and how many elements equal to tau are taken (krem); then one pass writes every element
// with key > tau plus the first krem elements equal to tau, in index order (ties go to the lower index), so
// the output is the selected set in ascending position, padded with -1 / -inf when fewer than k are valid.
// Two ways to run it:
//   row_main: one workgroup per row does everything in workgroup memory (many rows, e.g. DSA prefill);
//   chunk_*:  `chunks` workgroups per row (few long rows, e.g. decode at 128K), two dispatches:
//     chunk_hist_main   each chunk adds its top-digit histogram into the row's global one; the workgroup that
//                       arrives last (an atomic counter: no grid-wide barrier exists) picks the top digit d0;
//     chunk_finish_main each chunk copies its elements with top digit >= d0 (the sure ones and the candidates,
//                       ~k + one bin of the row, in index order) into its slice of a row-sized list; the last to
//                       arrive runs rounds 2 and 3 and the compaction on the concatenated lists alone.
//   WebGPU has no device-scope fence, so everything one workgroup hands to another (histogram, lists, list
//   lengths, counters) goes through atomics, which every backend keeps coherent across workgroups.

// Generated from src/kernels/sparse/topk.ts: the bindings params, scores, out_idx, out_val, hist_g (rows *
// BINS histogram bins, then two arrival counters per row, one per dispatch), state (a RowState per row, as
// vec4<u32>), counts (list length of each (row, chunk)) and list ((row-relative index, value bits) pairs;
// chunk c of a row owns the slots of its own element range); the constants WG, BINS (11-bit digits), PER
// (BINS / WG bins per thread in the digit search), ITEMS (consecutive elements per thread in a compaction
// tile) and RAKE (raking threads of the prefix sum); the workgroup variables hist [BINS], scan [WG], rake
// [RAKE], found (the digit search's answer: digit, elements above it, row total, 0), offs and starts [WG]
// (chunk mode's finishing workgroup: where each chunk's list starts in the concatenation, and in the row)
// and shared_u32.
#include "lib/grid.wgsl"
#include "lib/order-key.wgsl"

// Chunk mode's hand-over from the first dispatch to the second. all: 1 when every valid element is selected
// (no threshold to find); prefix: the top digit d0 in place (key bits 21..31); krem: elements of digit d0
// still to take; taken: final number of selected elements, min(k, valid count).
struct RowState {
  all: u32,
  prefix: u32,
  krem: u32,
  taken: u32,
}

fn load_state(row: u32) -> RowState {
  let x = state[row];
  return RowState(x.x, x.y, x.z, x.w);
}

fn store_state(row: u32, st: RowState) {
  state[row] = vec4<u32>(st.all, st.prefix, st.krem, st.taken);
}

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

// Element e of a source: (row-relative index, value bits). The scores row itself, or (from_list) the
// concatenation of the row's chunk lists: offs/starts map a list position to its chunk's slice.
fn load_item(from_list: bool, base: u32, e: u32) -> vec2<u32> {
  if (!from_list) { return vec2<u32>(e, bitcast<u32>(scores[base + e])); }
  var lo = 0u;
  var hi = params.chunks;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (offs[mid] <= e) { lo = mid; } else { hi = mid; }
  }
  let at = 2u * (base + starts[lo] + e - offs[lo]);
  return vec2<u32>(atomicLoad(&list[at]), atomicLoad(&list[at + 1u]));
}

// Count the digits of the valid elements in [begin, end) whose key matches prefix on the decided bits.
fn hist_range(lid: u32, from_list: bool, base: u32, begin: u32, end: u32, prefix: u32, mask: u32, shift: u32) {
  for (var i = begin + lid; i < end; i += WG) {
    let v = bitcast<f32>(load_item(from_list, base, i).y);
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

// Write the selected elements of [begin, end) in index order to slots dst + rank: to out_idx / out_val, or
// (to_list) as pairs into the list. run = (gt taken before begin, eq seen before begin); an element is taken
// when key > tau, or key == tau and fewer than take_eq equal ones precede it. Returns the updated run.
fn compact_range(lid: u32, from_list: bool, base: u32, begin: u32, end: u32, tau: u32, run: vec2<u32>, take_eq: u32, dst: u32, to_list: bool) -> vec2<u32> {
  var gt_run = run.x;
  var eq_run = run.y;
  for (var t0 = begin; t0 < end; t0 += WG * ITEMS) {
    let first = t0 + lid * ITEMS;
    var items: array<vec2<u32>, ITEMS>;
    var mine = 0u; // gt count in the low 16 bits, eq count in the high 16 (a tile holds WG * ITEMS = 1024 elements)
    for (var i = 0u; i < ITEMS; i++) {
      let e = first + i;
      items[i] = vec2<u32>(0u, NEG_INF_BITS);
      if (e < end) { items[i] = load_item(from_list, base, e); }
      let v = bitcast<f32>(items[i].y);
      if (is_valid(v)) {
        let key = order_key(v);
        mine += select(0u, 1u, key > tau) + select(0u, 0x10000u, key == tau);
      }
    }
    let ps = prefix_sum(lid, mine);
    let excl = ps.x - mine;
    var gt = gt_run + (excl & 0xffffu);
    var eq = eq_run + (excl >> 16u);
    for (var i = 0u; i < ITEMS; i++) {
      let v = bitcast<f32>(items[i].y);
      if (is_valid(v)) {
        let key = order_key(v);
        if (key > tau || (key == tau && eq < take_eq)) {
          let slot = dst + gt + min(eq, take_eq);
          if (to_list) {
            atomicStore(&list[2u * slot], items[i].x);
            atomicStore(&list[2u * slot + 1u], items[i].y);
          } else {
            out_idx[slot] = i32(items[i].x);
            if (params.write_values != 0u) { out_val[slot] = v; }
          }
        }
        if (key > tau) { gt += 1u; } else if (key == tau) { eq += 1u; }
      }
    }
    gt_run += ps.y & 0xffffu;
    eq_run += ps.y >> 16u;
  }
  return vec2<u32>(gt_run, eq_run);
}

// Slots past the selected elements: index -1, value -inf.
fn pad_row(lid: u32, row: u32, taken: u32) {
  for (var j = taken + lid; j < params.k; j += WG) {
    out_idx[row * params.k + j] = -1;
    if (params.write_values != 0u) { out_val[row * params.k + j] = neg_inf(); }
  }
}

// Thread 0's x as a value every thread may branch on (uniform), e.g. a loop bound read from storage.
fn share(lid: u32, x: u32) -> u32 {
  workgroupBarrier(); // the previous share's readers are done
  if (lid == 0u) { shared_u32 = x; }
  return workgroupUniformLoad(&shared_u32);
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
    hist_range(lid, false, base, 0u, len, prefix, decided_mask(r), round_shift(r));
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
  compact_range(lid, false, base, 0u, len, prefix, vec2<u32>(0u), krem, row * params.k, false);
  pad_row(lid, row, taken);
}

fn chunk_range(row: u32, chunk: u32) -> vec2<u32> {
  let end = min((chunk + 1u) * params.chunk_len, row_len(row));
  return vec2<u32>(min(chunk * params.chunk_len, end), end);
}

// Count this workgroup's arrival at the row's counter `which`; true in the last of the row's chunks to
// arrive (which then resets the counter for the next run). The storage barrier orders this workgroup's
// hand-over atomics before its arrival.
fn arrive_last(lid: u32, row: u32, which: u32) -> bool {
  storageBarrier();
  if (lid == 0u) {
    let counter = params.rows * BINS + 2u * row + which;
    let before = atomicAdd(&hist_g[counter], 1u);
    let last = before + 1u == params.chunks;
    if (last) { atomicStore(&hist_g[counter], 0u); }
    shared_u32 = select(0u, 1u, last);
  }
  return workgroupUniformLoad(&shared_u32) != 0u;
}

// Chunk mode, dispatch 1: this chunk's top-digit histogram into the row's global one; the last chunk to
// arrive picks the top digit (and leaves the global histogram zeroed for the next run).
@compute @workgroup_size(WG)
fn chunk_hist_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * params.chunks) { return; }
  let row = g / params.chunks;
  let range = chunk_range(row, g % params.chunks);
  clear_own_bins(lid);
  workgroupBarrier();
  hist_range(lid, false, row * params.cols, range.x, range.y, 0u, decided_mask(0u), round_shift(0u));
  workgroupBarrier();
  for (var i = lid; i < BINS; i += WG) {
    let c = atomicLoad(&hist[i]);
    if (c != 0u) { atomicAdd(&hist_g[row * BINS + i], c); }
  }
  if (!arrive_last(lid, row, 0u)) { return; }
  for (var i = lid; i < BINS; i += WG) {
    atomicStore(&hist[i], atomicExchange(&hist_g[row * BINS + i], 0u));
  }
  workgroupBarrier();
  select_digit(lid, params.k);
  let f = workgroupUniformLoad(&found);
  if (lid == 0u) {
    if (f.z <= params.k) {
      store_state(row, RowState(1u, 0u, 0u, f.z));
    } else {
      store_state(row, RowState(0u, f.x << round_shift(0u), params.k - f.y, params.k));
    }
  }
}

// Chunk mode, dispatch 2: list this chunk's elements with top digit >= d0 (all valid ones when everything is
// selected); the last chunk to arrive finds the exact threshold in the lists and writes the row.
@compute @workgroup_size(WG)
fn chunk_finish_main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = linear_group(wg, nwg);
  if (g >= params.rows * params.chunks) { return; }
  let row = g / params.chunks;
  let base = row * params.cols;
  let range = chunk_range(row, g % params.chunks);
  let st = load_state(row);
  // key >= d0 << 21 is key > tau0; with everything selected (prefix 0) tau0 = 0, below every valid key.
  let tau0 = max(st.prefix, 1u) - 1u;
  let n = compact_range(lid, false, base, range.x, range.y, tau0, vec2<u32>(0u), 0u, base + range.x, true).x;
  if (lid == 0u) { atomicStore(&counts[g], n); }
  if (!arrive_last(lid, row, 1u)) { return; }

  // Where each chunk's list sits in the concatenation (chunks <= WG).
  var len = 0u;
  if (lid < params.chunks) {
    len = atomicLoad(&counts[row * params.chunks + lid]);
    starts[lid] = chunk_range(row, lid).x;
  }
  let ps = prefix_sum(lid, len);
  if (lid < params.chunks) { offs[lid] = ps.x - len; }
  let total = share(lid, ps.y);
  let all = share(lid, st.all);
  var prefix = share(lid, st.prefix);
  var krem = share(lid, st.krem);
  clear_own_bins(lid);
  workgroupBarrier();
  if (all == 0u) {
    for (var r = 1u; r < 3u; r++) {
      hist_range(lid, true, base, 0u, total, prefix, decided_mask(r), round_shift(r));
      workgroupBarrier();
      select_digit(lid, krem);
      let f = workgroupUniformLoad(&found);
      prefix |= f.x << round_shift(r);
      krem -= f.y;
    }
  }
  compact_range(lid, true, base, 0u, total, prefix, vec2<u32>(0u), krem, row * params.k, false);
  pad_row(lid, row, st.taken);
}
