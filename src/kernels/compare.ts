// How a kernel's output is judged against the float64 reference. Relative L2 error ||got-want|| / ||want||
// is the headline number (max-abs alone punishes large outputs); a non-finite value where the reference is
// finite always fails, so a NaN can never pass as "small error".
import type { HostTensor, TensorDType } from './tensor.ts';

export type Comparison =
  | { kind: 'rel-l2'; tolerance?: number }
  /** Integer outputs that must match exactly. */
  | { kind: 'exact' }
  /** Index lists compared per row as sets (order-free), -1 meaning "no entry"; `cols` = row length. */
  | { kind: 'row-sets'; cols: number }
  /** Anything else (e.g. MoE routing compared as index->weight maps): reads all outputs. */
  | { kind: 'custom'; describe: string; fn(got: Record<string, HostTensor>, want: Record<string, HostTensor>): CompareResult };

export interface CompareResult {
  name: string;
  ok: boolean;
  maxAbs: number;
  relL2: number;
  /** Count of elements that are NaN/Inf where the reference is finite (or differ in infinite sign). */
  nonFinite: number;
  detail?: string;
}

export const DEFAULT_TOLERANCE: Record<TensorDType, number> = { f32: 1e-4, f16: 1e-2, i32: 0, u32: 0 };

export function relL2(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): CompareResult {
  if (got.length !== want.length) {
    return { name, ok: false, maxAbs: Infinity, relL2: Infinity, nonFinite: 0, detail: `length ${got.length} != expected ${want.length}` };
  }
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let nonFinite = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (!Number.isFinite(w)) {
      // Masked entries (-inf) must come back as the same infinity.
      if (g !== w) nonFinite++;
      continue;
    }
    if (!Number.isFinite(g)) {
      nonFinite++;
      continue;
    }
    const e = g - w;
    num += e * e;
    den += w * w;
    maxAbs = Math.max(maxAbs, Math.abs(e));
  }
  const rel = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
  const ok = nonFinite === 0 && rel <= tolerance;
  return {
    name,
    ok,
    maxAbs: nonFinite ? Infinity : maxAbs,
    relL2: nonFinite ? Infinity : rel,
    nonFinite,
    detail: nonFinite ? `${nonFinite} non-finite value(s) where the reference is finite` : undefined,
  };
}

export function exact(name: string, got: ArrayLike<number>, want: ArrayLike<number>): CompareResult {
  let wrong = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) wrong++;
  if (got.length !== want.length) wrong = Math.max(wrong, 1);
  return { name, ok: wrong === 0, maxAbs: wrong ? 1 : 0, relL2: wrong / Math.max(1, want.length), nonFinite: 0, detail: wrong ? `${wrong} element(s) differ` : undefined };
}

export function rowSets(name: string, got: ArrayLike<number>, want: ArrayLike<number>, cols: number): CompareResult {
  const rows = Math.floor(want.length / cols);
  let badRows = 0;
  let firstBad = -1;
  for (let r = 0; r < rows; r++) {
    const a = new Set<number>();
    const b = new Set<number>();
    for (let c = 0; c < cols; c++) {
      a.add(got[r * cols + c]!);
      b.add(want[r * cols + c]!);
    }
    let same = a.size === b.size;
    if (same) for (const x of b) if (!a.has(x)) same = false;
    if (!same) {
      badRows++;
      if (firstBad < 0) firstBad = r;
    }
  }
  return {
    name,
    ok: badRows === 0 && got.length === want.length,
    maxAbs: badRows ? 1 : 0,
    relL2: badRows / Math.max(1, rows),
    nonFinite: 0,
    detail: badRows ? `${badRows} of ${rows} row(s) select a different set (first: row ${firstBad})` : undefined,
  };
}
