// Seeded random inputs: every test run draws a fresh seed (printed on failure) so cases are never fixed,
// and a failing seed can be replayed with KERNEL_LAB_SEED.
import { numel, type HostTensor } from './tensor.ts';

export interface Rng {
  seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
}

export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    normal() {
      const u = Math.max(next(), 1e-12);
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int(lo, hi) {
      return lo + Math.floor(next() * (hi - lo + 1));
    },
  };
}

/** A fresh seed unless KERNEL_LAB_SEED pins one. */
export function freshSeed(): number {
  const pinned = typeof process !== 'undefined' ? process.env?.KERNEL_LAB_SEED : undefined;
  return pinned ? Number(pinned) : Math.floor(Math.random() * 2 ** 31);
}

export function randomNormal(rng: Rng, shape: number[], scale = 1): HostTensor {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { shape, data };
}
