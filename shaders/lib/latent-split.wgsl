// Split-K attention over latent rows with the heads as the M dimension (FlashMLA's layout), shared by
// mla.decode_absorbed (a contiguous key range of the cache) and sparse.dsa_attention's MLA mode (a range of a
// query's top-k list). A walker (a workgroup of L = 4 invocations, one subgroup) takes HB heads of one query
// and one range of its key sequence: every latent row [c_KV ; k_pe] of the range is read once for all HB
// heads, scored against each head's absorbed query and accumulated as the value (its c_KV part) with an
// online softmax in base 2. It leaves the unnormalised o, the max m and the sum l of its range in `part`;
// latent_merge folds the ranges by log-sum-exp (lib/lse-merge-column.wgsl), one invocation per output vec4.
//
// Lane i owns the latent columns 4 cq + i (adjacent lanes read adjacent values of a row: coalesced): it
// keeps its columns of the HB queries and of the HB accumulators in private arrays and loads each of its
// row values once, for HB multiply-adds in the score and HB more in P.V (one sweep over a row does the
// previous key's P.V and this key's scores, so the row's values wait in registers for one key). lane_sum (lib/lane-sum-*.wgsl)
// adds the 4 lanes' partial scores; after it every lane holds every head's score, so the softmax needs no
// workgroup memory and, with subgroups, the walker has no barrier at all.
// Why the column loop is written out (sweep_all, helpers called with constant arguments):
// SwiftShader inlines every function and folds the constants, so qp[h * QC + cq] and op[h * VQ + cq] get
// compile-time indices, and a private array at a constant index is one vector load for the 4 lanes; in a
// loop the same access is a per-lane gather of ~20 instructions, 5x slower in a one-process A/B on this
// CPU (docs/environment.md). The calls are guarded by constant expressions (HB > h, QC > c), which
// spirv-opt removes before it inlines: unguarded, the 1024-quad tree took minutes to compile for any shape.
// Lazy rescale: the running max of a head moves only when a score passes it by more than RESCALE (p stays
// <= 2^RESCALE, safe in f32), so the HB x d_c accumulators are rescaled only then, not at every key.
//
// The includer declares the constants L (4), HB, DC, DR, QC = ceil((DC + DR) / 4), VQ = ceil(DC / 4); the
// bindings kv_latent and k_pe (`elem`; they may be one buffer holding whole rows) and part (f32); lane_sum
// (and lane_red for its workgroup-memory version); and
//   fn latent_q(i: u32) -> f32             element i of the query rows [T * H, DC + DR]
//   fn latent_key(t: u32, i: u32) -> i32   the cache row at position i of query t's key sequence, -1 for none
#include "lib/constants.wgsl"
#include "lib/lse-merge-column.wgsl"

// Sizes and the cache layout: latent row s is kv_latent[s * c_stride ..][0 .. DC), its RoPE part
// k_pe[s * r_stride + r_offset ..][0 .. DR).
struct LatentShape {
  T: u32,
  H: u32,
  splits: u32,
  c_stride: u32,
  r_stride: u32,
  r_offset: u32,
}

const RESCALE: f32 = 8.0;

// This lane's columns: query values qp[h * QC + cq] = q_h[4 cq + lane] (pre-scaled), accumulators
// op[h * VQ + cq], the current key's value columns vrow[cq]; per head the score, probability, max and sum.
var<private> qp: array<f32, HB * QC>;
var<private> op: array<f32, HB * VQ>;
var<private> vrow: array<f32, VQ>;
var<private> sc: array<f32, 16>;
var<private> pr: array<f32, 16>;
var<private> m_run: array<vec4f, 4>;
var<private> l_run: array<vec4f, 4>;
var<private> lane: u32;
var<private> c_base: u32;
var<private> r_base: u32;

// The lane's value of column quad cq of the current row (a column past DC + DR reads the last one; its query
// value is 0).
fn row_value(cq: u32) -> f32 {
  let c = min(4u * cq + lane, DC + DR - 1u);
  if (4u * cq + 3u < DC) { return f32(kv_latent[c_base + c]); }
  if (4u * cq >= DC) { return f32(k_pe[r_base + c - DC]); }
  let v = f32(kv_latent[c_base + min(c, DC - 1u)]); // the quad that straddles DC
  return select(f32(k_pe[r_base + max(c, DC) - DC]), v, c < DC);
}

fn score_head(h: u32, cq: u32, x: f32) {
  sc[h] += qp[h * QC + cq] * x;
}

fn pv_head(h: u32, cq: u32, v: f32) {
  op[h * VQ + cq] += pr[h] * v;
}

// Column quad cq of one sweep: P.V of the previous key (its probabilities pr, its values vrow) and the
// current key's partial scores; the current key's values replace the previous ones in vrow.
fn sweep_quad(cq: u32) {
  if (cq >= QC) { return; }
  let x = row_value(cq);
  if (cq < VQ) {
    let v = vrow[cq];
    if (HB > 0u) { pv_head(0u, cq, v); } if (HB > 1u) { pv_head(1u, cq, v); } if (HB > 2u) { pv_head(2u, cq, v); } if (HB > 3u) { pv_head(3u, cq, v); }
    if (HB > 4u) { pv_head(4u, cq, v); } if (HB > 5u) { pv_head(5u, cq, v); } if (HB > 6u) { pv_head(6u, cq, v); } if (HB > 7u) { pv_head(7u, cq, v); }
    if (HB > 8u) { pv_head(8u, cq, v); } if (HB > 9u) { pv_head(9u, cq, v); } if (HB > 10u) { pv_head(10u, cq, v); } if (HB > 11u) { pv_head(11u, cq, v); }
    if (HB > 12u) { pv_head(12u, cq, v); } if (HB > 13u) { pv_head(13u, cq, v); } if (HB > 14u) { pv_head(14u, cq, v); } if (HB > 15u) { pv_head(15u, cq, v); }
    vrow[cq] = x;
  }
  if (HB > 0u) { score_head(0u, cq, x); } if (HB > 1u) { score_head(1u, cq, x); } if (HB > 2u) { score_head(2u, cq, x); } if (HB > 3u) { score_head(3u, cq, x); }
  if (HB > 4u) { score_head(4u, cq, x); } if (HB > 5u) { score_head(5u, cq, x); } if (HB > 6u) { score_head(6u, cq, x); } if (HB > 7u) { score_head(7u, cq, x); }
  if (HB > 8u) { score_head(8u, cq, x); } if (HB > 9u) { score_head(9u, cq, x); } if (HB > 10u) { score_head(10u, cq, x); } if (HB > 11u) { score_head(11u, cq, x); }
  if (HB > 12u) { score_head(12u, cq, x); } if (HB > 13u) { score_head(13u, cq, x); } if (HB > 14u) { score_head(14u, cq, x); } if (HB > 15u) { score_head(15u, cq, x); }
}

fn sweep_8(c: u32) {
  sweep_quad(c); sweep_quad(c + 1u); sweep_quad(c + 2u); sweep_quad(c + 3u);
  sweep_quad(c + 4u); sweep_quad(c + 5u); sweep_quad(c + 6u); sweep_quad(c + 7u);
}

// The guards are constant expressions, so the calls past the row are dropped before inlining.
fn sweep_all() {
  if (QC > 0u) { sweep_8(0u); } if (QC > 8u) { sweep_8(8u); } if (QC > 16u) { sweep_8(16u); } if (QC > 24u) { sweep_8(24u); }
  if (QC > 32u) { sweep_8(32u); } if (QC > 40u) { sweep_8(40u); } if (QC > 48u) { sweep_8(48u); } if (QC > 56u) { sweep_8(56u); }
  if (QC > 64u) { sweep_8(64u); } if (QC > 72u) { sweep_8(72u); } if (QC > 80u) { sweep_8(80u); } if (QC > 88u) { sweep_8(88u); }
  if (QC > 96u) { sweep_8(96u); } if (QC > 104u) { sweep_8(104u); } if (QC > 112u) { sweep_8(112u); } if (QC > 120u) { sweep_8(120u); }
  if (QC > 128u) { sweep_8(128u); } if (QC > 136u) { sweep_8(136u); } if (QC > 144u) { sweep_8(144u); } if (QC > 152u) { sweep_8(152u); }
  if (QC > 160u) { sweep_8(160u); } if (QC > 168u) { sweep_8(168u); } if (QC > 176u) { sweep_8(176u); } if (QC > 184u) { sweep_8(184u); }
  if (QC > 192u) { sweep_8(192u); } if (QC > 200u) { sweep_8(200u); } if (QC > 208u) { sweep_8(208u); } if (QC > 216u) { sweep_8(216u); }
  if (QC > 224u) { sweep_8(224u); } if (QC > 232u) { sweep_8(232u); } if (QC > 240u) { sweep_8(240u); } if (QC > 248u) { sweep_8(248u); }
}

// Heads 4j .. 4j+3: the lanes' partial scores summed, the running max moved where a score passed it by more
// than RESCALE (the group's accumulators and sum rescaled then; a rare, uniform branch: every lane holds the
// same scores), and the probabilities. Uniform control flow (lane_sum).
fn softmax_group(j: u32, tid: u32) {
  if (4u * j >= HB) { return; }
  let s = lane_sum(vec4f(sc[4u * j], sc[4u * j + 1u], sc[4u * j + 2u], sc[4u * j + 3u]), tid);
  let m = m_run[j];
  let up = s > m + RESCALE;
  if (any(up)) {
    let mn = select(m, s, up);
    if (any(l_run[j] > vec4f(0.0))) {
      let a = exp2(m - mn);
      l_run[j] *= a;
      for (var x = 0u; x < 4u; x++) {
        let h = 4u * j + x;
        if (h < HB && a[x] != 1.0) {
          for (var cq = 0u; cq < VQ; cq++) { op[h * VQ + cq] *= a[x]; }
        }
      }
    }
    m_run[j] = mn;
  }
  let p = exp2(s - m_run[j]);
  l_run[j] += p;
  pr[4u * j] = p.x;
  pr[4u * j + 1u] = p.y;
  pr[4u * j + 2u] = p.z;
  pr[4u * j + 3u] = p.w;
}

// Workgroup g of a split dispatch over T queries x blocks of HB heads x splits ranges (split fastest).
struct LatentItem {
  t: u32,
  head0: u32,
  split: u32,
  ok: bool,
}

fn latent_item(g: u32, T: u32, blocks: u32, splits: u32) -> LatentItem {
  return LatentItem(g / (splits * blocks), ((g / splits) % blocks) * HB, g % splits, g < T * blocks * splits);
}

// Walker (query t, heads head0 .. head0 + HB - 1, split) over positions [begin, end) of t's key sequence,
// scores multiplied by score_scale (base 2). tid: the invocation in the walker. Call in uniform control flow
// with uniform arguments (lane_sum).
fn latent_split(sh: LatentShape, t: u32, head0: u32, split: u32, begin: u32, end: u32, score_scale: f32, tid: u32) {
  lane = tid;
  // The lane's query columns (a head past H reads head H - 1 and is never stored; columns past the row 0).
  // Heads outer, quads inner: no division per element (a u32 division is per lane on CPU emulation).
  for (var h = 0u; h < HB; h++) {
    let row = (t * sh.H + min(head0 + h, sh.H - 1u)) * (DC + DR);
    for (var cq = 0u; cq < QC; cq++) {
      let c = 4u * cq + tid;
      var v = 0.0;
      if (c < DC + DR) { v = latent_q(row + c) * score_scale; }
      qp[h * QC + cq] = v;
    }
  }
  for (var j = 0u; j < 4u; j++) {
    m_run[j] = vec4f(NEG_INF);
    l_run[j] = vec4f(0.0);
  }
  // Per key: a sweep over its row (the previous key's P.V and its own partial scores), lane-summed, the
  // softmax step. A position with no key is skipped (uniform per walker). i = end is one more sweep over the
  // last row read (row 0 if none, with pr = 0) for the last key's P.V, its scores unused.
  for (var i = begin; i <= end; i++) {
    if (i < end) {
      let key = latent_key(t, i);
      if (key < 0) { continue; }
      c_base = u32(key) * sh.c_stride;
      r_base = u32(key) * sh.r_stride + sh.r_offset;
    }
    sc = array<f32, 16>();
    sweep_all();
    if (i < end) {
      softmax_group(0u, tid);
      softmax_group(1u, tid);
      softmax_group(2u, tid);
      softmax_group(3u, tid);
    }
  }
  // The partial of each head inside H: its d_c columns, and from lane 0 its (m, l).
  for (var h = 0u; h < min(HB, sh.H - head0); h++) {
    let row = ((t * sh.H + head0 + h) * sh.splits + split) * DC;
    for (var cq = 0u; cq < VQ; cq++) {
      let c = 4u * cq + tid;
      if (c < DC) { part[row + c] = op[h * VQ + cq]; }
    }
  }
  if (tid == 0u) {
    for (var h = 0u; h < HB; h++) {
      if (head0 + h < sh.H) {
        let pr_row = (t * sh.H + head0 + h) * sh.splits + split;
        part[ml_base(sh) + 2u * pr_row] = m_run[h / 4u][h % 4u];
        part[ml_base(sh) + 2u * pr_row + 1u] = l_run[h / 4u][h % 4u];
      }
    }
  }
}

// part holds the splits' o [T * H, splits, DC], then their (m, l) [T * H, splits, 2].
fn ml_base(sh: LatentShape) -> u32 {
  return sh.T * sh.H * sh.splits * DC;
}

// lse_merge_column's view of the partials (merge_shape is set by latent_merge): the (m, l) of split s of a
// row, and its accumulator columns 4 col .. 4 col + 3 (0 past DC).
var<private> merge_shape: LatentShape;

fn merge_ml(s: u32, row: u32) -> vec2f {
  let i = ml_base(merge_shape) + 2u * (row * merge_shape.splits + s);
  return vec2f(part[i], part[i + 1u]);
}

fn merge_acc(s: u32, row: u32, col: u32) -> vec4f {
  let base = (row * merge_shape.splits + s) * DC;
  let c = vec4u(4u * col) + vec4u(0u, 1u, 2u, 3u);
  let i = base + min(c, vec4u(DC - 1u));
  return select(vec4f(0.0), vec4f(part[i.x], part[i.y], part[i.z], part[i.w]), c < vec4u(DC));
}

// Merge invocation g, one per (row = t * H + h, column quad): the merged latent columns 4 col .. 4 col + 3 of
// the row (those inside DC are stored by the includer); ok is false past the grid. No barrier.
struct MergedQuad {
  row: u32,
  col: u32,
  v: vec4f,
  ok: bool,
}

fn latent_merge(sh: LatentShape, g: u32) -> MergedQuad {
  if (g >= sh.T * sh.H * VQ) { return MergedQuad(0u, 0u, vec4f(0.0), false); }
  merge_shape = sh;
  let row = g / VQ;
  let col = g % VQ;
  return MergedQuad(row, col, lse_merge_column(row, col, sh.splits), true);
}
