// The shape of a stage-by-stage step-through (DSA, MoE): each frame is one stage of the kernel, drawn from
// the buffers that stage wrote on the GPU, with its checks against the float64 reference. Traces keep plain
// number arrays so a page can hand them to a test as they are.
import type { CompareResult } from '../../kernels/compare.ts';
import type { HostTensor } from '../../kernels/tensor.ts';
import type { HeatmapMatrix } from '../heatmap/heatmap-canvas.ts';

export interface PlainTensor {
  shape: number[];
  data: number[];
}

export const plain = (t: HostTensor): PlainTensor => ({ shape: [...t.shape], data: Array.from(t.data) });
export const host = (t: PlainTensor): HostTensor => ({ shape: t.shape, data: Float64Array.from(t.data) });
export const hostInt = (t: PlainTensor): HostTensor => ({ shape: t.shape, data: Int32Array.from(t.data) });

export interface StageView {
  name: string;
  title: string;
  matrix: HeatmapMatrix;
}

export interface StageFrame {
  stage: string;
  /** What this stage did, with the numbers it produced. */
  caption: string;
  views: StageView[];
  checks: CompareResult[];
}
