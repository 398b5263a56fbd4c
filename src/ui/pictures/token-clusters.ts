// Token clusters for the routing pictures and the MoE step-through (timing keeps random inputs): tokens in
// contiguous blocks near one of C centroids, and each expert group's gate rows near one centroid, so
// group-limited routing sends a cluster to "its" group. (Attention's structured inputs: structured-inputs.ts.)
import type { HostTensor } from '../../kernels/tensor.ts';
import type { Rng } from '../../kernels/random.ts';

export interface RoutingShapeLike {
  N: number;
  dim: number;
  E: number;
  n_groups: number;
}

/** Clusters of tokens: one per expert group (4 without groups), at most E and dim. */
export function clusterCount(c: RoutingShapeLike): number {
  return Math.min(c.dim, c.n_groups > 1 ? c.n_groups : Math.min(4, c.E));
}

/** Token n's cluster: contiguous blocks of tokens, so the routing picture shows them as bands. */
export const tokenCluster = (n: number, N: number, C: number) => Math.floor((n * C) / N);
/** Expert e's cluster: its group (experts of a group are contiguous), or e, mod C. */
export const expertCluster = (e: number, c: RoutingShapeLike) => (c.n_groups > 1 ? Math.floor(e / (c.E / c.n_groups)) : e) % clusterCount(c);

/**
 * x [N, dim] and gate_weight [E, dim] (and a zero gate_bias when asked): token n = its cluster's centroid +
 * noise, expert row e = its cluster's centroid · γ + noise, so a token's affinity is high for its cluster's
 * experts; the noise on the gate rows orders the experts within a group.
 */
export function structuredRouting(c: RoutingShapeLike & { bias?: boolean }, rng: Rng): Record<string, HostTensor> {
  const C = clusterCount(c);
  // Orthogonal centroids (Gram-Schmidt; C <= dim), so one cluster's tokens have no affinity for another's experts.
  const centroids: Float64Array[] = [];
  for (let k = 0; k < C; k++) {
    const v = Float64Array.from({ length: c.dim }, () => rng.normal());
    for (const u of centroids) {
      const dot = v.reduce((a, x, d) => a + x * u[d]!, 0) / c.dim;
      for (let d = 0; d < c.dim; d++) v[d] -= dot * u[d]!;
    }
    const norm = Math.hypot(...v);
    centroids.push(v.map((x) => (x / norm) * Math.sqrt(c.dim)));
  }
  const x = new Float32Array(c.N * c.dim);
  for (let n = 0; n < c.N; n++) {
    const mu = centroids[tokenCluster(n, c.N, C)]!;
    for (let d = 0; d < c.dim; d++) x[n * c.dim + d] = mu[d]! + 0.3 * rng.normal();
  }
  // A token's logit for its own cluster's experts is γ·|μ|² = 3; for the others 0; the noise's spread is ≈ 0.5.
  const gamma = 3 / c.dim;
  const gate = new Float32Array(c.E * c.dim);
  for (let e = 0; e < c.E; e++) {
    const mu = centroids[expertCluster(e, c)]!;
    for (let d = 0; d < c.dim; d++) gate[e * c.dim + d] = gamma * mu[d]! + (0.5 / Math.sqrt(c.dim)) * rng.normal();
  }
  const out: Record<string, HostTensor> = { x: { shape: [c.N, c.dim], data: x }, gate_weight: { shape: [c.E, c.dim], data: gate } };
  if (c.bias) out.gate_bias = { shape: [c.E], data: new Float32Array(c.E) };
  return out;
}
