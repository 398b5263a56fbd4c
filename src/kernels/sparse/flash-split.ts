// Split-K for the key-walk core (shaders/sparse/key-walk.wgsl): how many workgroups share one row block's
// key sequence. A decode step has a few
// rows per KV head, so without splits a window of 2048 keys or a DSA list of 2048 would run on 1-4
// workgroups of a GPU that holds hundreds.
import { sparseAttnParams, type SparseAttnValues } from './sparse-config.ts';
import type { FlashOptions } from '../attention/flash-lanes.ts';

/**
 * Workgroups a split dispatch aims for, as attention.flash_decode: about 2 resident 256-invocation workgroups
 * per SM of a 132-SM GPU. More cost partials, merge work and, on CPU emulation, a fixed price per workgroup.
 */
export const SPLIT_TARGET_WORKGROUPS = 256;
/** Most K/V bytes one workgroup streams, whatever the target: a long sequence always spreads out. */
export const SPLIT_MAX_BYTES = 64 * 1024;
/** Fewest positions per split: below this the split's fixed cost (queries, partial, merge) dominates. */
export const SPLIT_MIN_KEYS = 16;
/** chunk of an unsplit dispatch: larger than any key sequence. */
const WHOLE = 0x7fffffff;

export interface FlashSplit {
  /** Workgroups per row block, and positions of the row block's key sequence each walks. */
  splits: number;
  chunk: number;
}

/** Internal knobs of the split kernels (tests reach every path): a forced chunk (Infinity = one split). */
export interface SplitOptions extends FlashOptions {
  chunk?: number;
}

/**
 * Splits for `items` row blocks whose key sequences are at most `keys` positions of `bytesPerKey` each:
 * about SPLIT_TARGET_WORKGROUPS in all, with chunks of at least one key tile (BK) and SPLIT_MIN_KEYS
 * positions, in whole tiles; the SPLIT_MAX_BYTES bound per workgroup wins over all of those.
 */
export function flashSplit(o: { items: number; keys: number; bytesPerKey: number; BK: number }, opts: SplitOptions = {}): FlashSplit {
  let chunk: number;
  if (opts.chunk !== undefined) {
    chunk = opts.chunk;
  } else {
    const wanted = Math.ceil(SPLIT_TARGET_WORKGROUPS / o.items);
    const byteCap = Math.max(1, Math.floor(SPLIT_MAX_BYTES / o.bytesPerKey));
    chunk = Math.min(byteCap, Math.max(SPLIT_MIN_KEYS, o.BK, Math.floor(o.keys / wanted)));
    if (chunk >= o.BK) chunk -= chunk % o.BK;
  }
  const splits = Number.isFinite(chunk) ? Math.max(1, Math.ceil(o.keys / Math.max(1, chunk))) : 1;
  return splits === 1 ? { splits: 1, chunk: WHOLE } : { splits, chunk };
}

/** Core parameters for K / V laid out [S, Hkv, D] (MLA: Hkv = 1 latent row of D), with the split; `extra` holds the kernel's own fields. */
export function splitParams(c: { T: number; S: number; Hq: number; Hkv: number; D: number }, scale: number, split: FlashSplit, extra: Partial<SparseAttnValues> = {}): SparseAttnValues {
  const row4 = (c.Hkv * c.D) / 4;
  return sparseAttnParams({ T: c.T, S: c.S, Hq: c.Hq, Hkv: c.Hkv, k_row4: row4, v_row4: row4, scale, splits: split.splits, chunk: split.chunk, ...extra });
}
