// What the MoE kernels share: the routing schema and its validation, GPU parameter structs (the golden-file
// mapping is moe-golden.ts), the routing comparison (index -> weight maps), test inputs, tile-size rules and the staged
// instance type the composite layer exposes to the bench and the UI.
import * as d from 'typegpu/data';
import type { DeviceCaps } from '../../gpu/context.ts';
import type { Comparison, CompareResult } from '../compare.ts';
import type { ConfigOf, ConfigSchema, InstanceStage, KernelInstance, ValidationIssue } from '../contract.ts';
import type { Rng } from '../random.ts';
import { numel, type HostTensor } from '../tensor.ts';
import type { GateOptions } from '../../reference/moe.ts';

/** Experts per token row the router holds in workgroup memory (8 tokens x 384 keys = 12 KiB; Kimi K2 has 384). */
export const MAX_EXPERTS = 384;
/** Groups one router workgroup scores (DeepSeek-V3 has 8). */
export const MAX_GROUPS = 64;
export const MAX_TOPK = 32;

export const routingSchema = {
  N: { type: 'int', label: 'tokens N', doc: 'tokens routed in one step (decode: the batch; prefill: the prompt)', default: 64, min: 1, max: 1 << 20 },
  dim: { type: 'int', label: 'hidden dim', default: 64, min: 4, max: 16384 },
  E: { type: 'int', label: 'routed experts E', default: 64, min: 1, max: MAX_EXPERTS },
  topk: { type: 'int', label: 'experts per token', default: 8, min: 1, max: MAX_TOPK },
  n_groups: { type: 'int', label: 'expert groups', doc: 'experts are split into n_groups equal groups (1 = no group limit)', default: 8, min: 1, max: MAX_GROUPS },
  topk_groups: { type: 'int', label: 'groups kept', doc: 'a token may only use experts of its best topk_groups groups', default: 4, min: 1, max: MAX_GROUPS },
  score_func: { type: 'enum', label: 'score function', doc: 'softmax (DeepSeek-V2) or sigmoid (DeepSeek-V3, Kimi K2); ignored by the Mixtral routing', default: 'sigmoid', values: ['softmax', 'sigmoid'] as const },
  routing: {
    type: 'enum',
    label: 'routing',
    doc: 'deepseek: DeepSeek-V3 Gate (bias for selection, group limit, route_scale); mixtral: top-k of the logits, softmax over the selected',
    default: 'deepseek',
    values: ['deepseek', 'mixtral'] as const,
  },
  bias: { type: 'bool', label: 'selection bias', doc: 'per-expert bias added to the scores for selection only (auxiliary-loss-free balancing)', default: true },
  route_scale: { type: 'number', label: 'route scale', doc: 'routing weights are multiplied by this (DeepSeek-V3: 2.5, Kimi K2: 2.827); bounded so f32 weights stay normal numbers', default: 2.5, min: 1e-3, max: 1e3 },
} satisfies ConfigSchema;

/** N tokens of width dim routed to topk of E experts; the other fields are the DeepSeek-V3 Gate's. */
export type RoutingConfig = ConfigOf<typeof routingSchema>;

/** The routing rules (groups divide the experts, top-k fits the kept groups, …), one line each naming the field and the limit. */
export function checkRouting(c: RoutingConfig): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (c.topk > c.E) issues.push({ field: 'topk', message: `${c.topk} is more than the E = ${c.E} experts` });
  if (c.E % c.n_groups !== 0) issues.push({ field: 'n_groups', message: `E = ${c.E} experts is not a multiple of n_groups = ${c.n_groups} (groups are equal slices of the experts)` });
  if (c.topk_groups > c.n_groups) issues.push({ field: 'topk_groups', message: `${c.topk_groups} is more than n_groups = ${c.n_groups}` });
  if (issues.length) return issues;
  const reachable = (c.topk_groups * c.E) / c.n_groups;
  if (c.topk > reachable) {
    issues.push({ field: 'topk', message: `${c.topk} is more than the ${reachable} experts in topk_groups = ${c.topk_groups} of ${c.n_groups} groups (topk_groups * E / n_groups)` });
  }
  if (c.bias && c.n_groups > 1 && c.E / c.n_groups < 2) {
    issues.push({ field: 'n_groups', message: `with a bias a group is scored by its top-2 experts, so groups need at least 2 experts (E / n_groups = ${c.E / c.n_groups})` });
  }
  if (c.routing === 'mixtral' && (c.n_groups !== 1 || c.bias)) {
    issues.push({ field: 'routing', message: `mixtral routing has no groups and no bias (got n_groups = ${c.n_groups}, bias = ${c.bias})` });
  }
  return issues;
}

/** vec4 loads along a matmul's reduction dimension. */
export function checkVec4(field: string, value: number): ValidationIssue[] {
  return value % 4 === 0 ? [] : [{ field, message: `${value} must be a multiple of 4 (the matmuls load vec4 along it)` }];
}

/** Threads of the dispatch, scan and tile passes, and the most a GEMV launches (the matmuls use 16 to 64). */
export const WG = 256;
export function checkWorkgroup(caps: DeviceCaps): ValidationIssue[] {
  const l = caps.limits;
  if (l.maxComputeInvocationsPerWorkgroup < WG || l.maxComputeWorkgroupSizeX < WG) {
    return [{ field: 'device', message: `the MoE kernels need ${WG}-thread workgroups; this device allows ${Math.min(l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX)}` }];
  }
  return [];
}

export function gateOptions(c: RoutingConfig): GateOptions {
  return {
    N: c.N,
    dim: c.dim,
    E: c.E,
    topk: c.topk,
    n_groups: c.n_groups,
    topk_groups: c.topk_groups,
    score_func: c.score_func as 'softmax' | 'sigmoid',
    routing: c.routing as 'deepseek' | 'mixtral',
    route_scale: c.route_scale,
  };
}

/**
 * Routing compared per row as a map expert -> weight: the same experts must be chosen (in any order) and
 * the weights, matched by expert, must agree to `tolerance` relative L2 over the whole output.
 */
export function routingComparison(topk: number, tolerance = 1e-4): Comparison {
  return {
    kind: 'custom',
    describe: `per row the same experts (any order), weights matched by expert within ${tolerance} relative L2`,
    fn(got, want): CompareResult {
      const gw = got.weights?.data;
      const gi = got.indices?.data;
      const ww = want.weights!.data;
      const wi = want.indices!.data;
      if (!gw || !gi || gw.length !== ww.length || gi.length !== wi.length) {
        return { name: 'weights', ok: false, maxAbs: Infinity, relL2: Infinity, nonFinite: 0, detail: 'weights/indices missing or of the wrong size' };
      }
      const rows = ww.length / topk;
      let badRows = 0;
      let firstBad = -1;
      let nonFinite = 0;
      let num = 0;
      let den = 0;
      let maxAbs = 0;
      for (let r = 0; r < rows; r++) {
        const g = new Map<number, number>();
        for (let k = 0; k < topk; k++) g.set(gi[r * topk + k]!, gw[r * topk + k]!);
        let same = g.size === topk;
        for (let k = 0; k < topk && same; k++) {
          const w = ww[r * topk + k]!;
          const v = g.get(wi[r * topk + k]!);
          if (v === undefined) {
            same = false;
            break;
          }
          if (!Number.isFinite(v)) {
            nonFinite++;
            continue;
          }
          num += (v - w) ** 2;
          den += w * w;
          maxAbs = Math.max(maxAbs, Math.abs(v - w));
        }
        if (!same) {
          badRows++;
          if (firstBad < 0) firstBad = r;
        }
      }
      const rel = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
      const ok = badRows === 0 && nonFinite === 0 && rel <= tolerance;
      const detail = badRows
        ? `${badRows} of ${rows} row(s) chose different experts (first: row ${firstBad}, want [${Array.from(wi.slice(firstBad * topk, (firstBad + 1) * topk))}], got [${Array.from(gi.slice(firstBad * topk, (firstBad + 1) * topk))}])`
        : nonFinite
          ? `${nonFinite} non-finite weight(s)`
          : undefined;
      return { name: 'weights', ok, maxAbs: badRows || nonFinite ? Infinity : maxAbs, relL2: badRows || nonFinite ? Infinity : rel, nonFinite, detail };
    },
  };
}

// ---- test inputs --------------------------------------------------------------------------------------
// Router inputs are drawn on dyadic grids so every logit is exact in f32 whatever the summation order:
// x in steps of 1/4 (|x| <= 2), gate weights in steps of 1/64, so products are multiples of 2^-8 and any
// sum of up to 2^16 of them fits f32's 24-bit mantissa. Equal logits are then equal on the GPU too (ties
// are common and resolved the same way, lower index first) and distinct logits differ by >= 2^-8, far
// above f32 rounding of the softmax/sigmoid: the GPU's selection can be compared exactly with float64's.

function gridNormal(rng: Rng, shape: number[], std: number, step: number, limit: number): HostTensor {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) {
    const v = Math.round((rng.normal() * std) / step) * step;
    data[i] = Math.max(-limit, Math.min(limit, v));
  }
  return { shape, data };
}

export function routingInputs(c: RoutingConfig, rng: Rng): Record<string, HostTensor> {
  const x = gridNormal(rng, [c.N, c.dim], 1, 1 / 4, 2);
  const gate = gridNormal(rng, [c.E, c.dim], 1.2 / Math.sqrt(c.dim), 1 / 64, 0.5);
  // Duplicate some gate rows so that exact ties between experts are frequent, in and across groups.
  for (let e = 3; e < c.E; e += 7) {
    const src = rng.int(0, e - 1);
    gate.data.copyWithin(e * c.dim, src * c.dim, (src + 1) * c.dim);
  }
  const out: Record<string, HostTensor> = { x, gate_weight: gate };
  if (c.bias) out.gate_bias = gridNormal(rng, [c.E], 0.1, 1 / 32, 0.5);
  return out;
}

/** Expert weights scaled by 1/sqrt(fan-in) so activations stay O(1). */
export function ffnWeights(rng: Rng, prefix: string, experts: number | undefined, dim: number, inter: number): Record<string, HostTensor> {
  const lead = experts === undefined ? [] : [experts];
  const normal = (shape: number[], std: number) => {
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    return { shape, data };
  };
  return {
    [`${prefix}w1`]: normal([...lead, inter, dim], 1 / Math.sqrt(dim)),
    [`${prefix}w2`]: normal([...lead, dim, inter], 1 / Math.sqrt(inter)),
    [`${prefix}w3`]: normal([...lead, inter, dim], 1 / Math.sqrt(dim)),
  };
}

/**
 * Random top-k choices (distinct experts per token) from a Zipf-like popularity so some experts are hot
 * (capacity drops happen) and some may be empty.
 */
export function skewedIndices(rng: Rng, N: number, topk: number, E: number, skew = 0.8): HostTensor {
  const pop = Array.from({ length: E }, (_, e) => 1 / (e + 1) ** skew);
  const perm = Array.from({ length: E }, (_, e) => e).sort(() => rng.next() - 0.5);
  const data = new Int32Array(N * topk);
  for (let t = 0; t < N; t++) {
    const taken = new Set<number>();
    for (let k = 0; k < topk; k++) {
      let total = 0;
      for (let e = 0; e < E; e++) if (!taken.has(e)) total += pop[e]!;
      let u = rng.next() * total;
      let pick = -1;
      for (let e = 0; e < E; e++) {
        if (taken.has(e)) continue;
        pick = e;
        u -= pop[e]!;
        if (u < 0) break;
      }
      taken.add(pick);
      data[t * topk + k] = perm[pick]!;
    }
  }
  return { shape: [N, topk], data };
}

// ---- GPU parameter structs -----------------------------------------------------------------------------

export const RouterParams = d
  .struct({
    N: d.u32,
    dim: d.u32,
    E: d.u32,
    topk: d.u32,
    n_groups: d.u32,
    topk_groups: d.u32,
    group_size: d.u32,
    /** 0 softmax, 1 sigmoid */
    sigmoid: d.u32,
    /** 1 = Mixtral routing: select on logits, softmax over the selected */
    mixtral: d.u32,
    has_bias: d.u32,
    route_scale: d.f32,
    /** dim slices of the partial logits ([splits, N, E]; 1 for the tiled logits) */
    splits: d.u32,
  })
  .$name('RouterParams');

export const DispatchParams = d
  .struct({
    N: d.u32,
    topk: d.u32,
    E: d.u32,
    /** token blocks of the rank pass */
    blocks: d.u32,
    /** copies kept per expert */
    capacity: d.u32,
    /** 32-bit words of one token's expert bitmap */
    words: d.u32,
  })
  .$name('DispatchParams');

export const FfnParams = d
  .struct({
    /** rows of h / y (token copies in expert order) */
    rows: d.u32,
    dim: d.u32,
    inter: d.u32,
    E: d.u32,
    /** 1: row p computes token sorted_tokens[p]; 0: row p is token p (shared experts, dense FFN) */
    gather: d.u32,
    col_tiles_up: d.u32,
    col_tiles_down: d.u32,
  })
  .$name('FfnParams');

export const CombineParams = d
  .struct({
    N: d.u32,
    topk: d.u32,
    /** dim / 4 */
    dim4: d.u32,
    has_shared: d.u32,
  })
  .$name('CombineParams');

// ---- tiling ----------------------------------------------------------------------------------------------

/** Rows per GEMM block (the expert FFN's row tiles, the router's token tiles), matched to the rows a group usually gets. */
export function tileRows(avgRowsPerGroup: number): 16 | 32 | 64 {
  return avgRowsPerGroup >= 48 ? 64 : avgRowsPerGroup >= 24 ? 32 : 16;
}

/** Upper bound of sum_e ceil(rows_e / BM) over E experts holding `rows` rows, each at most `perExpert`. */
export function maxRowTiles(rows: number, E: number, perExpert: number, bm: number): number {
  return Math.min(Math.floor((rows + E * (bm - 1)) / bm), E * Math.ceil(perExpert / bm));
}

export function checkGrid(field: string, groups: number, caps: DeviceCaps): ValidationIssue[] {
  const max = caps.limits.maxComputeWorkgroupsPerDimension;
  return groups > max ? [{ field, message: `needs ${groups} workgroups in one grid dimension, over this device's maxComputeWorkgroupsPerDimension of ${max}` }] : [];
}

/** A weight-streaming dispatch fills a large GPU: >= 512 workgroups, or <= 64 KiB of weights per workgroup. */
export const FILL_WORKGROUPS = 512;
export const FILL_BYTES_PER_WORKGROUP = 64 * 1024;

export interface GemvShape {
  /** threads per workgroup */
  wg: 64 | 256;
  /** logical lanes per weight row (TPR); a workgroup holds wg / lanes rows */
  lanes: 4 | 8 | 16 | 32 | 64;
}

/**
 * Workgroup size and lanes per weight row of a GEMV launch: of the shapes that fill the GPU by the rule
 * above, the one with the fewest invocations (each lane then walks the most of K: the loop, not launch and
 * reduction overhead, is what remains); 256 x 64 (the most workgroups) where none does. A row's lanes read
 * lanes * 16 contiguous bytes per step: with 4 lanes a 32-wide warp still uses every 32-byte sector it loads.
 */
export function gemvShape(o: { tiles: number; outRows: number; K: number; matrices: number; bytesPerElem: number }): GemvShape {
  let best: (GemvShape & { invocations: number }) | undefined;
  for (const wg of [64, 256] as const) {
    for (const lanes of [4, 8, 16, 32, 64] as const) {
      const rows = wg / lanes;
      const groups = o.tiles * Math.ceil(o.outRows / rows);
      const fills = groups >= FILL_WORKGROUPS || rows * o.K * o.matrices * o.bytesPerElem <= FILL_BYTES_PER_WORKGROUP;
      const invocations = groups * wg;
      if (fills && (!best || invocations < best.invocations)) best = { wg, lanes, invocations };
    }
  }
  return best ? { wg: best.wg, lanes: best.lanes } : { wg: 256, lanes: 64 };
}

// ---- instances -------------------------------------------------------------------------------------------

/** One stage of a multi-stage kernel: its dispatches, recordable alone for per-stage timing. */
export interface Stage {
  name: string;
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

/** A kernel instance whose stages can also be encoded one by one (dispatches within a stage stay in order). */
export interface StagedInstance extends KernelInstance {
  stages: InstanceStage[];
}

/** Fields shared by every MoE schema that picks a subset of the routing fields. */
export function pickSchema<K extends keyof RoutingConfig>(keys: readonly K[]): Pick<typeof routingSchema, K> {
  return Object.fromEntries(keys.map((k) => [k, routingSchema[k]])) as Pick<typeof routingSchema, K>;
}
