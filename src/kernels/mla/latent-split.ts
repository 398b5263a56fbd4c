// Host side of shaders/lib/latent-split.wgsl, the heads-as-M split-K core over latent rows shared by
// mla.decode_absorbed (key ranges of the cache) and sparse.dsa_attention's MLA mode (ranges of a top-k list):
// the walker plan, its constants, and which lane_sum it includes.
import type { WorkgroupRecord } from '../../gpu/wgsl-declarations.ts';
import type { ValidationIssue } from '../contract.ts';
import { laneSumSource } from '../attention/flash-lanes.ts';

/** Invocations of a walker: 4, the smallest subgroup WebGPU allows, so its lanes always share one. */
export const LANES = 4;
/** Heads a walker takes at most (its score registers), and the latent columns the written-out loops cover (256 quads). */
export const MAX_HEADS = 16;
export const MAX_COLUMNS = 1024;
/**
 * Private floats per lane for the query and accumulator columns of its heads (HB * (QC + VQ)): 8 heads at
 * DeepSeek-V3's 512 + 64, 16 at narrower latents; wider latents take fewer heads per walker. SwiftShader's
 * compile of the written-out sweep grows faster than HB: at 512 + 64, 16 heads took 16 s and 6 GB of host
 * memory to build (a browser tab that size is killed), 8 heads take 8 s and 2.6 GB and run as fast within
 * the noise (the row is still read once for 8 heads; a real GPU keeps half the per-thread state).
 */
export const PRIVATE_FLOATS = 8 * (144 + 128);
/**
 * A cache-streaming dispatch fills a large GPU with >= 512 workgroups (~130 SMs x 4), or keeps each
 * workgroup's share of the cache <= 64 KiB: the splits are whichever of the two needs fewer.
 */
export const TARGET_WORKGROUPS = 512;
export const MAX_BYTES_PER_WORKGROUP = 64 * 1024;

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
  /** Heads per walker (HB), head blocks, ranges and positions per range. */
  HB: number;
  blocks: number;
  splits: number;
  keysPerSplit: number;
  /** Column quads a lane covers: of the whole row (d_c + d_rope) and of its value part. */
  QC: number;
  VQ: number;
  dc: number;
  dr: number;
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
  const QC = Math.ceil((c.dc + c.dr) / LANES);
  const VQ = Math.ceil(c.dc / LANES);
  const most = Math.max(1, Math.min(MAX_HEADS, Math.floor(PRIVATE_FLOATS / (QC + VQ))));
  const blocks = Math.ceil(c.H / most);
  const HB = Math.ceil(c.H / blocks); // balanced blocks: 20 heads -> 10 + 10, not 16 + 4
  const keys = Math.max(1, c.keys);
  const ruled = ruledKeysPerSplit({ T: c.T, blocks, keys, rowBytes: (c.dc + c.dr) * c.el });
  let keysPerSplit: number;
  if (c.splits) keysPerSplit = Math.ceil(keys / c.splits);
  else if (c.keysPerSplit !== undefined) keysPerSplit = Math.min(keys, Math.max(1, c.keysPerSplit));
  else keysPerSplit = Math.min(keys, Math.max(ruled, c.minKeys ?? 1));
  return { HB, blocks, splits: Math.ceil(keys / keysPerSplit), keysPerSplit, QC, VQ, dc: c.dc, dr: c.dr };
}

/** The constants latent-split.wgsl reads. */
export function latentConstants(p: LatentSplitPlan) {
  return { L: LANES, HB: p.HB, DC: p.dc, DR: p.dr, QC: p.QC, VQ: p.VQ };
}

/** lane_sum over a walker's 4 lanes: the subgroup butterfly where the device has subgroups (and the knob allows), else workgroup memory. */
export function latentLanes(subgroups: boolean): { wgsl: string; enable: string[]; workgroup: WorkgroupRecord; subgroups: boolean } {
  return { ...laneSumSource(subgroups, LANES), subgroups };
}

/** Bytes of the partials: per (row, split) dc floats of o and the (m, l) pair. */
export function latentPartialBytes(rows: number, splits: number, dc: number): number {
  return rows * splits * (dc + 2) * 4;
}

/** Merge invocations (one per output column quad) and their workgroups of `wg`. */
export function latentMergeWorkgroups(p: LatentSplitPlan, T: number, H: number, wg: number): number {
  return Math.ceil((T * H * p.VQ) / wg);
}

/**
 * The core's limits: d_c and the whole row within what the written-out loops cover. `fields` names the
 * config fields each limit is reported on; `wider` says what to use past the widest latent.
 */
export function checkLatentSplit(p: LatentSplitPlan, fields: { dc: string; dr: string }, wider = ''): ValidationIssue[] {
  if (p.dc > MAX_COLUMNS) return [{ field: fields.dc, message: `${p.dc} latent columns exceed this kernel's ${MAX_COLUMNS}${wider}` }];
  if (p.dc + p.dr > MAX_COLUMNS) return [{ field: fields.dr, message: `${p.dc} + ${p.dr} columns per latent row exceed this kernel's ${MAX_COLUMNS}` }];
  return [];
}
