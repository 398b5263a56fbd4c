// Order statistics for timing samples: the median is the headline (robust to the odd slow run), p10/p90
// give the spread.
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (samples: readonly number[]) => quantile(samples, 0.5);

export interface Spread {
  medianMs: number;
  minMs: number;
  p10Ms: number;
  p90Ms: number;
  maxMs: number;
}

export function spread(samplesMs: readonly number[]): Spread {
  return {
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    p10Ms: quantile(samplesMs, 0.1),
    p90Ms: quantile(samplesMs, 0.9),
    maxMs: Math.max(...samplesMs),
  };
}

/**
 * 95% confidence interval of the median, distribution-free: the order statistics at ranks
 * n/2 ± 1.96·sqrt(n)/2 (the binomial(n, 1/2) count of samples below the true median, normal approximation).
 * With few samples it widens to the extremes.
 */
export function medianCi(samples: readonly number[]): [number, number] {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return [NaN, NaN];
  const half = 0.98 * Math.sqrt(n);
  const lo = Math.max(0, Math.floor(n / 2 - half));
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  return [s[lo]!, s[hi]!];
}
