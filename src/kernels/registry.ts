// The one list every front door reads (tests, CLI, verify, UI). A kernel appears everywhere by being added
// here. Imports no UI, no Node module and no `webgpu` package: the device is always passed in.
import type { AnyKernel } from './contract.ts';
import { mlaCompress } from './mla/compress.ts';
import { mlaDecodeNaive } from './mla/decode-naive.ts';
import { mlaDecodeAbsorbed } from './mla/decode-absorbed.ts';
import { moeRouter } from './moe/router.ts';
import { moeDispatch } from './moe/dispatch.ts';
import { moeGroupedFfn } from './moe/grouped-ffn.ts';
import { moeCombine } from './moe/combine.ts';
import { moeForward } from './moe/forward.ts';
import { moeDenseFfn } from './moe/dense-ffn.ts';
import { naiveAttention } from './attention/naive.ts';
import { flashPrefill } from './attention/flash-prefill.ts';
import { flashDecode } from './attention/flash-decode.ts';
import { indexer } from './sparse/indexer.ts';
import { topk } from './sparse/topk.ts';
import { sortBaseline } from './sparse/sort-baseline.ts';
import { slidingWindow } from './sparse/sliding-window.ts';
import { dsaAttention } from './sparse/dsa-attention.ts';
import { dsa } from './sparse/dsa.ts';
import { blockSelect } from './sparse/block-select.ts';
import { matmul } from './linear/matmul.ts';
import { norm } from './layer/norm.ts';
import { rope } from './layer/rope.ts';
import { residualAdd } from './layer/residual-add.ts';
import { deepseekV32Layer } from './layer/deepseek-v32.ts';

export const KERNELS: readonly AnyKernel[] = [
  mlaCompress,
  mlaDecodeNaive,
  mlaDecodeAbsorbed,
  moeRouter,
  moeDispatch,
  moeGroupedFfn,
  moeCombine,
  moeForward,
  moeDenseFfn,
  naiveAttention,
  flashPrefill,
  flashDecode,
  indexer,
  topk,
  sortBaseline,
  slidingWindow,
  dsaAttention,
  dsa,
  blockSelect,
  matmul,
  norm,
  rope,
  residualAdd,
  deepseekV32Layer,
];

export function findKernel(id: string): AnyKernel | undefined {
  return KERNELS.find((k) => k.id === id);
}

/** Kernels that compute a golden op (e.g. every dense-attention kernel for `attention.dense`). */
export function kernelsFor(op: string): AnyKernel[] {
  return KERNELS.filter((k) => k.implements === op || k.id === op);
}
