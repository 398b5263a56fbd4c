import { describe, expect, it } from 'vitest';
import { matmulReference } from './linear.ts';
import { f64 } from '../kernels/tensor.ts';
import { createRng, randomNormal } from '../kernels/random.ts';

describe('matmulReference', () => {
  it('computes a small product by hand', () => {
    const a = f64([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = f64([3, 2], [7, 8, 9, 10, 11, 12]);
    expect(Array.from(matmulReference(a, b, { M: 2, N: 2, K: 3, transB: false }).data)).toEqual([58, 64, 139, 154]);
  });

  it('B as [N, K] gives the same C as B as [K, N] transposed', () => {
    const rng = createRng(3);
    const [M, N, K] = [5, 7, 9];
    const a = randomNormal(rng, [M, K]);
    const b = randomNormal(rng, [K, N]);
    const bt = f64([N, K]);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt.data[n * K + k] = b.data[k * N + n]!;
    const c1 = matmulReference(a, b, { M, N, K, transB: false });
    const c2 = matmulReference(a, bt, { M, N, K, transB: true });
    expect(Array.from(c2.data)).toEqual(Array.from(c1.data));
  });
});
