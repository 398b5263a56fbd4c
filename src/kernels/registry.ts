// The one list every front door reads (tests, CLI, verify, UI). A kernel appears everywhere by being added
// here. Imports no UI, no Node module and no `webgpu` package: the device is always passed in.
import type { AnyKernel } from './contract.ts';
import { naiveAttention } from './attention/naive.ts';

export const KERNELS: readonly AnyKernel[] = [
  naiveAttention,
];

export function findKernel(id: string): AnyKernel | undefined {
  return KERNELS.find((k) => k.id === id);
}

/** Kernels that compute a golden op (e.g. every dense-attention kernel for `attention.dense`). */
export function kernelsFor(op: string): AnyKernel[] {
  return KERNELS.filter((k) => k.implements === op || k.id === op);
}
