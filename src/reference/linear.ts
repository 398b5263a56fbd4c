// Float64 reference of a dense matmul: C[M,N] = A[M,K] · B with B as [K,N] or, transposed, [N,K]
// (PyTorch's nn.Linear weight layout: y = x W^T).
import { f64, type HostTensor } from '../kernels/tensor.ts';

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  /** B stored [N, K] instead of [K, N]. */
  transB: boolean;
}

export function matmulReference(a: HostTensor, b: HostTensor, s: MatmulShape): HostTensor {
  const c = f64([s.M, s.N]);
  const A = a.data;
  const B = b.data;
  for (let m = 0; m < s.M; m++) {
    for (let n = 0; n < s.N; n++) {
      let acc = 0;
      for (let k = 0; k < s.K; k++) acc += A[m * s.K + k]! * (s.transB ? B[n * s.K + k]! : B[k * s.N + n]!);
      c.data[m * s.N + n] = acc;
    }
  }
  return c;
}
