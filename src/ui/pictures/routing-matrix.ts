// The MoE router's own outputs as pictures: a token x expert matrix of routing weights (zero where the
// expert was not chosen) and the per-expert load (token copies) for the histogram.
import type { HostTensor } from '../../kernels/tensor.ts';
import { expertLoad } from '../../demos/load-balance.ts';
import type { HeatmapMatrix } from '../heatmap/heatmap-canvas.ts';

export function routingMatrix(weights: HostTensor, indices: HostTensor, E: number): HeatmapMatrix {
  const [N, k] = indices.shape as [number, number];
  const values = new Float32Array(N * E);
  for (let t = 0; t < N; t++) {
    for (let j = 0; j < k; j++) {
      const e = indices.data[t * k + j]!;
      const w = weights.data[t * k + j]!;
      // A non-finite weight is never drawn as a colour: it stays "not chosen" and the badge reports it.
      if (e >= 0 && e < E && Number.isFinite(w)) values[t * E + e] = w;
    }
  }
  return { rows: N, cols: E, values, kind: 'weight', normalise: 'row', rowLabel: 'token', colLabel: 'expert' };
}

export function routingLoad(indices: HostTensor, E: number): number[] {
  return expertLoad(indices.data, E);
}
