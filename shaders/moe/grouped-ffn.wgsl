// moe.grouped_ffn: every expert's SwiGLU FFN, y = w2(silu(w1 x) * w3 x), over its rows of the permuted
// token copies, in one launch per matmul and no per-expert loop on the CPU: the tiled matmuls for
// prefill-sized row groups (decode takes shaders/moe/grouped-ffn-gemv.wgsl). The tile pass
// (shaders/moe/expert-tiles.wgsl) numbers the BM-row tiles of all experts and writes the indirect sizes.
//   up_main     tile (BM rows x 64 columns of inter): the workgroup finds its expert by binary search in
//               the tile table, gathers its rows' tokens from x (the permute is fused into the load), runs both
//               matmuls against w1 and w3 through 16-deep K slices in workgroup memory and writes
//               h = silu(x w1^T) * (x w3^T).
//   down_main   tile (BM rows x 64 columns of dim): y = h w2^T for the same expert.
// 256 threads as 16 x 16; each thread owns BM/16 rows x 4 adjacent columns (vec4 registers and stores);
// all global loads are vec4 along K (dim and inter are multiples of 4).
// Tiles of at most FEW rows (a rare expert among the busy ones) take a split-K branch instead: the
// 256 threads are 4 K-quarters x 64 columns, each streams its quarter of one weight row straight from
// global memory for all the tile's rows, and one barrier sums the quarters. The tiled loop would spend two
// barriers per 16-deep K slice on a tile that is 1/16 full.

@group(0) @binding(0) var<uniform> params: FfnParams;

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;            // [tokens, dim]
@group(0) @binding(2) var<storage, read> sorted_tokens: array<i32>;      // [rows]
@group(0) @binding(3) var<storage, read> tiles: array<u32>;              // tiles_out of the tile pass
@group(0) @binding(4) var<storage, read> w1: array<vec4<f32>>;           // [E, inter, dim]
@group(0) @binding(5) var<storage, read> w3: array<vec4<f32>>;           // [E, inter, dim]
@group(0) @binding(6) var<storage, read> w2: array<vec4<f32>>;           // [E, dim, inter]
@group(0) @binding(7) var<storage, read_write> h: array<vec4<f32>>;      // [rows, inter]
@group(0) @binding(8) var<storage, read_write> y: array<vec4<f32>>;      // [rows, dim]

const WG = 256u;
override BM: u32 = 16u;  // rows per tile: 16, 32 or 64
const BN = 64u;          // columns per tile
const BQ = BN / 4u;      // column quads per tile row
const BK = 16u;          // K slice (4 vec4): 12.5 KB of tiles at BM = 64, inside WebGPU's guaranteed 16 KB

var<workgroup> a_tile: array<f32, BM * BK>;         // [k][row]
var<workgroup> b_tile: array<vec4<f32>, BQ * BK>;   // [k][column quad]
var<workgroup> b3_tile: array<vec4<f32>, BQ * BK>;  // w3's slice in the up pass
var<workgroup> row_src: array<u32, BM>;             // x row of each tile row (NO_ROW: past the expert's rows)

const NO_ROW = 0xffffffffu;
const FEW = 4u;    // rows a split-K tile handles (one vec4 of accumulators per weight row)
const QUARTERS = WG / BN; // K splits of the split-K branch

/** Rows of the tile -> x rows (gathered through the permutation, or the identity). */
fn load_row_sources(lid: u32, info: TileInfo) {
  for (var r = lid; r < BM; r += WG) {
    let p = info.row0 + r;
    var src = NO_ROW;
    if (p < info.row_end) { src = select(p, u32(sorted_tokens[p]), params.gather == 1u); }
    row_src[r] = src;
  }
}

// Transposed stores of one vec4 K-chunk (k = 4q .. 4q+3) of row n into the [k][row] tiles.
fn store_a(n: u32, q: u32, v: vec4f) {
  a_tile[(q * 4u) * BM + n] = v.x;
  a_tile[(q * 4u + 1u) * BM + n] = v.y;
  a_tile[(q * 4u + 2u) * BM + n] = v.z;
  a_tile[(q * 4u + 3u) * BM + n] = v.w;
}

fn store_b(n: u32, q: u32, v: vec4f) {
  let i = (q * 4u) * BQ + n / 4u;
  let c = n % 4u;
  b_tile[i][c] = v.x;
  b_tile[i + BQ][c] = v.y;
  b_tile[i + 2u * BQ][c] = v.z;
  b_tile[i + 3u * BQ][c] = v.w;
}

fn store_b3(n: u32, q: u32, v: vec4f) {
  let i = (q * 4u) * BQ + n / 4u;
  let c = n % 4u;
  b3_tile[i][c] = v.x;
  b3_tile[i + BQ][c] = v.y;
  b3_tile[i + 2u * BQ][c] = v.z;
  b3_tile[i + 3u * BQ][c] = v.w;
}

fn silu(z: vec4f) -> vec4f {
  return z / (1.0 + exp(-z));
}

// The vec4 range [x, y) of K that quarter `quarter` of the split-K branch sums.
fn quarter_range(k4: u32, quarter: u32) -> vec2u {
  let per = (k4 + QUARTERS - 1u) / QUARTERS;
  return vec2u(min(k4, quarter * per), min(k4, (quarter + 1u) * per));
}

// Thread (ty, tx) owns rows ty, ty+16, ty+32, ty+48 (as many as BM/16) and columns 4tx .. 4tx+3, each row
// accumulated in a vec4 register (no private arrays: dynamic indexing would spill them to memory). Threads
// whose rows or columns are all past the tile's end skip the arithmetic (tiles of <= FEW rows never get here).

@compute @workgroup_size(WG)
fn up_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let info = find_tile(wg.y);
  let tx = lid % 16u;
  let ty = lid / 16u;
  let col0 = wg.x * BN;
  let k4 = params.dim / 4u;
  let wbase = info.expert * params.inter * k4; // expert's [inter, dim] slice, in vec4
  let busy = ty < info.row_end - info.row0 && col0 + tx * 4u < params.inter;
  let rows = info.row_end - info.row0;
  load_row_sources(lid, info);
  workgroupBarrier();
  if (rows <= FEW) { // uniform: one tile per workgroup
    let col = lid % BN;
    let n = col0 + col;
    let kr = quarter_range(k4, lid / BN);
    var g = vec4f(0.0); // component r: row r's x . w1[n]
    var u = vec4f(0.0);
    if (n < params.inter) {
      let o = wbase + n * k4;
      for (var kq = kr.x; kq < kr.y; kq++) {
        let a = w1[o + kq];
        let b = w3[o + kq];
        for (var r = 0u; r < FEW; r++) {
          if (row_src[r] == NO_ROW) { break; }
          let xv = x[row_src[r] * k4 + kq];
          g[r] += dot(xv, a);
          u[r] += dot(xv, b);
        }
      }
    }
    b_tile[lid] = g; // reused as the quarters' partial sums
    b3_tile[lid] = u;
    workgroupBarrier();
    // Thread q < 16 sums the quarters of columns 4q .. 4q+3 and stores one vec4 per row. (No early return
    // for the other threads: it would make the tiled loop's barriers below non-uniform to the compiler.)
    if (lid < BQ && col0 + lid * 4u < params.inter) {
      var hv: array<vec4f, FEW>;
      for (var j = 0u; j < 4u; j++) {
        let c = lid * 4u + j;
        let gs = b_tile[c] + b_tile[c + BN] + b_tile[c + 2u * BN] + b_tile[c + 3u * BN];
        let us = b3_tile[c] + b3_tile[c + BN] + b3_tile[c + 2u * BN] + b3_tile[c + 3u * BN];
        let hj = silu(gs) * us; // component r: row r
        hv[0][j] = hj.x; hv[1][j] = hj.y; hv[2][j] = hj.z; hv[3][j] = hj.w;
      }
      let w = params.inter / 4u;
      for (var r = 0u; r < rows; r++) { h[(info.row0 + r) * w + col0 / 4u + lid] = hv[r]; }
    }
    return;
  }
  var g0 = vec4f(0.0); var g1 = vec4f(0.0); var g2 = vec4f(0.0); var g3 = vec4f(0.0); // x w1^T
  var u0 = vec4f(0.0); var u1 = vec4f(0.0); var u2 = vec4f(0.0); var u3 = vec4f(0.0); // x w3^T
  for (var kq0 = 0u; kq0 < k4; kq0 += BK / 4u) {
    for (var i = lid; i < BM * (BK / 4u); i += WG) {
      let r = i / (BK / 4u);
      let q = i % (BK / 4u);
      var v = vec4f(0.0);
      if (row_src[r] != NO_ROW && kq0 + q < k4) { v = x[row_src[r] * k4 + kq0 + q]; }
      store_a(r, q, v);
    }
    for (var i = lid; i < BN * (BK / 4u); i += WG) {
      let n = i / (BK / 4u);
      let q = i % (BK / 4u);
      var v1 = vec4f(0.0);
      var v3 = vec4f(0.0);
      if (col0 + n < params.inter && kq0 + q < k4) {
        let o = wbase + (col0 + n) * k4 + kq0 + q;
        v1 = w1[o];
        v3 = w3[o];
      }
      store_b(n, q, v1);
      store_b3(n, q, v3);
    }
    workgroupBarrier();
    if (busy) {
      for (var kk = 0u; kk < BK; kk++) {
        let b1 = b_tile[kk * BQ + tx];
        let b3 = b3_tile[kk * BQ + tx];
        let ar = kk * BM + ty;
        let a0 = a_tile[ar];
        g0 += a0 * b1;
        u0 += a0 * b3;
        if (BM >= 32u) {
          let a1 = a_tile[ar + 16u];
          g1 += a1 * b1;
          u1 += a1 * b3;
        }
        if (BM >= 64u) {
          let a2 = a_tile[ar + 32u];
          let a3 = a_tile[ar + 48u];
          g2 += a2 * b1;
          u2 += a2 * b3;
          g3 += a3 * b1;
          u3 += a3 * b3;
        }
      }
    }
    workgroupBarrier();
  }
  if (!busy) { return; }
  let q = (col0 + tx * 4u) / 4u;
  let w = params.inter / 4u;
  let p = info.row0 + ty;
  h[p * w + q] = silu(g0) * u0;
  if (BM >= 32u && p + 16u < info.row_end) { h[(p + 16u) * w + q] = silu(g1) * u1; }
  if (BM >= 64u && p + 32u < info.row_end) { h[(p + 32u) * w + q] = silu(g2) * u2; }
  if (BM >= 64u && p + 48u < info.row_end) { h[(p + 48u) * w + q] = silu(g3) * u3; }
}

@compute @workgroup_size(WG)
fn down_main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let info = find_tile(wg.y);
  let tx = lid % 16u;
  let ty = lid / 16u;
  let col0 = wg.x * BN;
  let k4 = params.inter / 4u;
  let wbase = info.expert * params.dim * k4; // expert's [dim, inter] slice, in vec4
  let busy = ty < info.row_end - info.row0 && col0 + tx * 4u < params.dim;
  let rows = info.row_end - info.row0;
  if (rows <= FEW) { // uniform: one tile per workgroup
    let col = lid % BN;
    let n = col0 + col;
    let kr = quarter_range(k4, lid / BN);
    var c = vec4f(0.0); // component r: row r's h . w2[n]
    if (n < params.dim) {
      let o = wbase + n * k4;
      for (var kq = kr.x; kq < kr.y; kq++) {
        let b = w2[o + kq];
        for (var r = 0u; r < rows; r++) { c[r] += dot(h[(info.row0 + r) * k4 + kq], b); }
      }
    }
    b_tile[lid] = c;
    workgroupBarrier();
    if (lid < BQ && col0 + lid * 4u < params.dim) {
      var yv: array<vec4f, FEW>;
      for (var j = 0u; j < 4u; j++) {
        let cc = lid * 4u + j;
        let cs = b_tile[cc] + b_tile[cc + BN] + b_tile[cc + 2u * BN] + b_tile[cc + 3u * BN];
        yv[0][j] = cs.x; yv[1][j] = cs.y; yv[2][j] = cs.z; yv[3][j] = cs.w;
      }
      let w = params.dim / 4u;
      for (var r = 0u; r < rows; r++) { y[(info.row0 + r) * w + col0 / 4u + lid] = yv[r]; }
    }
    return;
  }
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var kq0 = 0u; kq0 < k4; kq0 += BK / 4u) {
    for (var i = lid; i < BM * (BK / 4u); i += WG) {
      let r = i / (BK / 4u);
      let q = i % (BK / 4u);
      var v = vec4f(0.0);
      if (info.row0 + r < info.row_end && kq0 + q < k4) { v = h[(info.row0 + r) * k4 + kq0 + q]; }
      store_a(r, q, v);
    }
    for (var i = lid; i < BN * (BK / 4u); i += WG) {
      let n = i / (BK / 4u);
      let q = i % (BK / 4u);
      var v = vec4f(0.0);
      if (col0 + n < params.dim && kq0 + q < k4) { v = w2[wbase + (col0 + n) * k4 + kq0 + q]; }
      store_b(n, q, v);
    }
    workgroupBarrier();
    if (busy) {
      for (var kk = 0u; kk < BK; kk++) {
        let b = b_tile[kk * BQ + tx];
        let ar = kk * BM + ty;
        c0 += a_tile[ar] * b;
        if (BM >= 32u) { c1 += a_tile[ar + 16u] * b; }
        if (BM >= 64u) {
          c2 += a_tile[ar + 32u] * b;
          c3 += a_tile[ar + 48u] * b;
        }
      }
    }
    workgroupBarrier();
  }
  if (!busy) { return; }
  let q = (col0 + tx * 4u) / 4u;
  let w = params.dim / 4u;
  let p = info.row0 + ty;
  y[p * w + q] = c0;
  if (BM >= 32u && p + 16u < info.row_end) { y[(p + 16u) * w + q] = c1; }
  if (BM >= 64u && p + 32u < info.row_end) { y[(p + 32u) * w + q] = c2; }
  if (BM >= 64u && p + 48u < info.row_end) { y[(p + 48u) * w + q] = c3; }
}
