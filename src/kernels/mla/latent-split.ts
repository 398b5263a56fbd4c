// Host side of shaders/lib/latent-split.wgsl, the heads-as-M split-K core over latent rows shared by
// mla.decode_absorbed (key ranges of the cache) and sparse.dsa_attention's MLA mode (ranges of a top-k list):
// the tile plan, its workgroup arrays, and which slice_sum it includes.
import slicesSubgroup from '../../../shaders/lib/latent-slices-subgroup.wgsl?raw';
import slicesWorkgroup from '../../../shaders/lib/latent-slices-workgroup.wgsl?raw';
import type { DeviceCaps } from '../../gpu/context.ts';
import { workgroupArray, workgroupBytes } from '../../gpu/wgsl-declarations.ts';
import type { ValidationIssue } from '../contract.ts';
import { fitWorkgroupMemory } from '../common/rules.ts';

/** Invocations a workgroup may have everywhere (WebGPU's guaranteed maxComputeInvocationsPerWorkgroup). */
export const MAX_WG = 256;
/**
 * The key tile at most (BK); scores and probabilities of a tile (2 * HO * BK vec4s each) and the partial score
 * slices (8 vec4s for each of HO * KQ * KS invocations) at most, so it fits 16 KiB.
 */
const MAX_TILE = 32;
const MAX_TILE_QUADS = 128;
const MAX_SCORE_SLICES = 64;
/**
 * A cache-streaming dispatch fills a large GPU with >= 512 workgroups (~130 SMs x 4), or keeps each
 * workgroup's share of the cache <= 64 KiB: the splits are whichever of the two needs fewer.
 */
export const TARGET_WORKGROUPS = 512;
export const MAX_BYTES_PER_WORKGROUP = 64 * 1024;
/** The P.V tile per invocation: 8 latent columns x 8 heads (16 named vec4 accumulators). */
export const COLUMNS_PER_INVOCATION = 8;
const HEADS_PER_OCTET = 8;

export interface LatentSplitShape {
  /** Queries, heads, positions of each query's key sequence (S, or the top-k list length). */
  T: number;
  H: number;
  keys: number;
  dc: number;
  dr: number;
  /** Bytes of one cache element. */
  el: number;
  /** A forced count of ranges (0 = the rule), or forced positions per range (Infinity = one range). */
  splits?: number;
  keysPerSplit?: number;
  /** Fewest positions a range takes when the rule leaves it fewer (short caches); 1 = none. */
  minKeys?: number;
}

export interface LatentSplitPlan {
  /** Head octets per workgroup (heads per block 8 * HO), latent column groups per octet (8 columns each). */
  HO: number;
  CG: number;
  /** Key tile, key quads per tile (BK / 4) and slices of a score dot product (HO * KQ * KS <= 64). */
  BK: number;
  KQ: number;
  KS: number;
  blocks: number;
  splits: number;
  keysPerSplit: number;
}

/** Positions per range by the rule: >= TARGET_WORKGROUPS workgroups or <= 64 KiB of cache each, whichever needs fewer ranges. */
export function ruledKeysPerSplit(o: { T: number; blocks: number; keys: number; rowBytes: number }): number {
  const budget = Math.max(1, Math.floor(MAX_BYTES_PER_WORKGROUP / o.rowBytes));
  const byBytes = Math.ceil(o.keys / budget);
  const byWorkgroups = Math.ceil(TARGET_WORKGROUPS / (o.T * o.blocks));
  return byBytes <= byWorkgroups ? Math.min(budget, o.keys) : Math.max(1, Math.floor(o.keys / byWorkgroups));
}

/** The split-K layout for a shape: a function of the shape only, so one plan serves check, plan and create. */
export function planLatentSplit(c: LatentSplitShape): LatentSplitPlan {
  const CG = Math.max(16, Math.ceil(c.dc / COLUMNS_PER_INVOCATION));
  const octets = Math.ceil(c.H / HEADS_PER_OCTET);
  const blocks = Math.ceil(octets / Math.floor(MAX_WG / CG));
  const HO = Math.ceil(octets / blocks); // balanced blocks: 5 octets at most 4 per block -> 3 + 2, not 4 + 1
  const keys = Math.max(1, c.keys);
  const ruled = ruledKeysPerSplit({ T: c.T, blocks, keys, rowBytes: (c.dc + c.dr) * c.el });
  let keysPerSplit: number;
  if (c.splits) keysPerSplit = Math.ceil(keys / c.splits);
  else if (c.keysPerSplit !== undefined) keysPerSplit = Math.min(keys, Math.max(1, c.keysPerSplit));
  else keysPerSplit = Math.min(keys, Math.max(ruled, c.minKeys ?? 1));
  // Whole key quads; roles b, c take one (quad, key) per invocation (2 * HO * BK <= HO * CG).
  const most = Math.min(MAX_TILE, MAX_TILE_QUADS / (2 * HO), CG / 2, (MAX_SCORE_SLICES / HO) * 4, Math.ceil(keysPerSplit / 4) * 4);
  const BK = Math.max(4, 4 * Math.floor(most / 4));
  const KQ = BK / 4;
  // Slices per key quad: a multiple of 4 where possible, so a SIMD group of 4 (CPU emulation) reads one row.
  const fit = Math.floor(Math.min(MAX_SCORE_SLICES, HO * CG) / (HO * KQ));
  const KS = fit >= 4 ? 4 * Math.floor(fit / 4) : fit;
  return { HO, CG, BK, KQ, KS, blocks, splits: Math.ceil(keys / keysPerSplit), keysPerSplit };
}

/** The constants latent-split.wgsl reads. */
export function latentConstants(p: LatentSplitPlan) {
  return { SPLIT_WG: p.HO * p.CG, HO: p.HO, CG: p.CG, BK: p.BK, KQ: p.KQ, KS: p.KS };
}

/**
 * slice_sum: the subgroup butterfly over 4 adjacent slices where the device has subgroups (and the knob allows)
 * and KS is a multiple of 4; otherwise every slice goes through workgroup memory.
 */
export function latentSlices(p: LatentSplitPlan, subgroups: boolean): { wgsl: string; enable: string[]; lanes: 1 | 4 } {
  return subgroups && p.KS % 4 === 0 ? { wgsl: slicesSubgroup, enable: ['subgroups'], lanes: 4 } : { wgsl: slicesWorkgroup, enable: [], lanes: 1 };
}

/**
 * The core's workgroup arrays: role a's partial scores (a quarter with the subgroup slice sum), a tile's
 * scores and probabilities, per head quad alpha, m, l, and the tile's cache rows.
 */
export function latentWorkgroup(p: LatentSplitPlan, sliceLanes: 1 | 4 = 1) {
  const quads = 2 * p.HO;
  return {
    red: workgroupArray('vec4<f32>', (8 * p.HO * p.KQ * p.KS) / sliceLanes),
    scores_ws: workgroupArray('vec4<f32>', quads * p.BK),
    probs_ws: workgroupArray('vec4<f32>', quads * p.BK),
    alpha_ws: workgroupArray('vec4<f32>', quads),
    m_ws: workgroupArray('vec4<f32>', quads),
    l_ws: workgroupArray('vec4<f32>', quads),
    key_rows: workgroupArray('u32', p.BK),
  };
}

/** latent_merge's: one weight per split, and workgroup_max / workgroup_sum's scratch (WG invocations). */
export function mergeWorkgroup(splits: number, wg: number) {
  return { weights: workgroupArray('f32', splits), reduce_scratch: workgroupArray('f32', wg) };
}

/** Bytes of the partials: per (row, split) dc floats of o and the (m, l) pair. */
export function latentPartialBytes(rows: number, splits: number, dc: number): number {
  return rows * splits * (dc + 2) * 4;
}

/**
 * The core's limits for a plan: d_c within 8 columns for each of MAX_WG invocations, split_main's and
 * merge_main's workgroup memory. `fields` names the config fields each limit is reported on; `wider` says what
 * to use past the widest latent.
 */
export function checkLatentSplit(
  p: LatentSplitPlan,
  dc: number,
  caps: DeviceCaps,
  fields: { dc: string; keys: string },
  mergeWg: number,
  extra: Parameters<typeof workgroupBytes>[0] = {},
  wider = '',
): ValidationIssue[] {
  const most = COLUMNS_PER_INVOCATION * MAX_WG;
  if (dc > most) {
    return [{ field: fields.dc, message: `${dc} latent columns exceed this kernel's ${most} (${COLUMNS_PER_INVOCATION} columns for each of ${MAX_WG} invocations${wider})` }];
  }
  return [
    ...fitWorkgroupMemory(fields.dc, workgroupBytes({ ...latentWorkgroup(p), ...extra }), 'split_main', caps),
    ...fitWorkgroupMemory(fields.keys, workgroupBytes(mergeWorkgroup(p.splits, mergeWg)), `merge_main with ${p.splits} splits`, caps),
  ];
}
