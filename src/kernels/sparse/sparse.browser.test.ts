// The sparse kernels on the GPU beyond the registry's random cases: top-k on adversarial rows against a plain
// CPU sort (both the one-workgroup-per-row and the chunked path, and the full-sort baseline), and the
// equivalences that pin the masks: DSA with topk >= S, a window >= S and block select with every block are
// all dense causal attention. Every instance must give back all its GPU memory.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../../test/browser-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults, type AnyKernel } from '../contract.ts';
import { makeInputs, runKernel } from '../execute.ts';
import { relL2 } from '../compare.ts';
import { attentionReference, causalMask } from '../../reference/attention.ts';
import { createRng, freshSeed, type Rng } from '../random.ts';
import { topk } from './topk.ts';
import { createIndexerStage, indexer, indexerBuffers } from './indexer.ts';
import { instanceOfStage } from '../stage-instance.ts';
import { sortBaseline } from './sort-baseline.ts';
import { dsa } from './dsa.ts';
import { slidingWindow } from './sliding-window.ts';
import { blockSelect } from './block-select.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

/** Rows built to break a selection: every one a different pathology. */
function adversarialRows(rng: Rng, rows: number, S: number): { data: Float32Array; kinds: string[] } {
  const data = new Float32Array(rows * S);
  const kinds: string[] = [];
  const NEG = -Infinity;
  for (let r = 0; r < rows; r++) {
    const kind = ['all equal', 'sorted ascending', 'sorted descending', 'few distinct values', '-inf holes', 'mostly -inf', 'all -inf', 'normal with +-0 and +inf', 'huge and tiny'][r % 9]!;
    kinds.push(kind);
    const c = rng.normal();
    for (let i = 0; i < S; i++) {
      let x: number;
      switch (kind) {
        case 'all equal':
          x = c;
          break;
        case 'sorted ascending':
          x = i * 0.25 - 3;
          break;
        case 'sorted descending':
          x = -i * 0.5 + 1;
          break;
        case 'few distinct values':
          x = rng.int(-2, 2);
          break;
        case '-inf holes':
          x = rng.next() < 0.3 ? NEG : rng.int(0, 5);
          break;
        case 'mostly -inf':
          x = rng.next() < 0.95 ? NEG : rng.normal();
          break;
        case 'all -inf':
          x = NEG;
          break;
        case 'normal with +-0 and +inf':
          x = rng.next() < 0.2 ? (rng.next() < 0.5 ? -0 : 0) : rng.next() < 0.02 ? Infinity : rng.normal();
          break;
        default:
          x = rng.next() < 0.5 ? rng.normal() * 1e30 : rng.normal() * 1e-30;
      }
      data[r * S + i] = x;
    }
  }
  return { data, kinds };
}

/** The plain answer: sort (value desc, index asc), keep k, list by position (or by score), pad -1. */
function cpuTopK(data: Float32Array, rows: number, S: number, k: number, rowLen: (r: number) => number, byScore = false): Int32Array {
  const out = new Int32Array(rows * k).fill(-1);
  for (let r = 0; r < rows; r++) {
    const idx = [...Array(rowLen(r)).keys()].filter((i) => data[r * S + i]! !== -Infinity);
    idx.sort((a, b) => {
      const x = data[r * S + a]!;
      const y = data[r * S + b]!;
      return x === y ? a - b : y > x ? 1 : -1;
    });
    const kept = idx.slice(0, k);
    if (!byScore) kept.sort((a, b) => a - b);
    out.set(kept, r * k);
  }
  return out;
}

function firstRowDiff(got: ArrayLike<number>, want: ArrayLike<number>, k: number, kinds: string[]): string {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      const r = Math.floor(i / k);
      return `row ${r} (${kinds[r]}): slot ${i % k} got ${got[i]}, want ${want[i]}`;
    }
  }
  return '';
}

/** Run a top-k kernel on adversarial rows; compare indices and values with the CPU sort. */
async function checkAdversarial(
  def: typeof topk | typeof sortBaseline,
  { name: _name, ...tc }: { name: string; rows: number; S: number; k: number; causal: boolean; split?: number },
): Promise<void> {
  const seed = freshSeed();
  const { data, kinds } = adversarialRows(createRng(seed), tc.rows, tc.S);
  const config = withDefaults(def as typeof topk, tc);
  const live = ctx.buffers.liveBytes;
  const got = await runKernel(ctx, def as typeof topk, config, { scores: { shape: [tc.rows, tc.S], data } });
  expect(ctx.buffers.liveBytes).toBe(live);
  const rowLen = (r: number) => (tc.causal ? tc.S - tc.rows + r + 1 : tc.S);
  const want = cpuTopK(data, tc.rows, tc.S, tc.k, rowLen, def === sortBaseline);
  expect(firstRowDiff(got.indices!.data, want, tc.k, kinds), `seed ${seed}`).toBe('');
  // Values are the selected scores (bit for bit), -inf in padded slots.
  const vals = got.values!.data;
  for (let i = 0; i < want.length; i++) {
    const r = Math.floor(i / tc.k);
    const expected = want[i]! < 0 ? -Infinity : data[r * tc.S + want[i]!]!;
    if (!Object.is(vals[i], expected)) expect.fail(`seed ${seed}: value slot ${i} got ${vals[i]}, want ${expected}`);
  }
}

describe('sparse.topk on adversarial rows vs a CPU sort', () => {
  const cases = [
    { name: 'row mode, k < S, S not a multiple of 256', rows: 18, S: 777, k: 100, split: 0, causal: false },
    { name: 'row mode, k = 1', rows: 9, S: 300, k: 1, split: 0, causal: false },
    { name: 'row mode, k = S', rows: 9, S: 61, k: 61, split: 0, causal: false },
    { name: 'row mode, k > S', rows: 9, S: 45, k: 64, split: 0, causal: false },
    { name: 'row mode, causal rows', rows: 27, S: 90, k: 40, split: 0, causal: true },
    { name: 'chunked, 4 workgroups per row', rows: 9, S: 3001, k: 700, split: 4, causal: false },
    { name: 'chunked, k = 1', rows: 9, S: 1500, k: 1, split: 7, causal: false },
    { name: 'chunked causal, more chunks than some rows need', rows: 18, S: 600, k: 250, split: 6, causal: true },
    // DeepSeek-V3.2's sizes: k = 2048 of 128K entries (automatic split: 64 workgroups per row), 9 kinds of row.
    { name: 'DSA sizes: k = 2048 of S = 131072, automatic chunking', rows: 9, S: 131072, k: 2048, split: 0, causal: false },
  ];
  for (const tc of cases) it(tc.name, () => checkAdversarial(topk, tc));
});

describe('sparse.sort_baseline on adversarial rows vs a CPU sort', () => {
  const cases = [
    { name: 'one block, k < S', rows: 9, S: 500, k: 77, causal: false },
    { name: 'global stages, causal, k > some rows', rows: 3, S: 2100, k: 2099, causal: true },
  ];
  for (const tc of cases) it(tc.name, () => checkAdversarial(sortBaseline, tc));
});

describe('sparse.indexer: every head layout of both paths against the float64 reference', () => {
  // Keys path (T <= 4): 1 to 4 passes of 16 heads, two head blocks, several key ranges, the last walker
  // part-filled, causal rows at the end, the workgroup-memory lane sum. Tile path: heads padded to 1, 2, 4, 8, 16, 24 and past one 64-row block
  // (72), tiles wholly after every query (-inf only), T and S not multiples of a tile.
  const cases: { name: string; config: Record<string, unknown>; subgroups?: false }[] = [
    { name: 'keys path, 1 head, T = 4, S = 9 (one part-filled walker)', config: { T: 4, S: 9, Hi: 1, Di: 4 } },
    { name: 'keys path, 11 heads (a partial head quad), T = 3, S = 301', config: { T: 3, S: 301, Hi: 11, Di: 12 } },
    { name: 'keys path, 29 heads (2 passes of 16), S = 97', config: { T: 2, S: 97, Hi: 29, Di: 20 } },
    { name: 'keys path, 64 heads of 128 (4 passes), S = 300 (3 key ranges)', config: { T: 1, S: 300, Hi: 64, Di: 128 } },
    { name: 'keys path, 77 heads (2 head blocks), non-causal', config: { T: 2, S: 75, Hi: 77, Di: 8, causal: false } },
    { name: 'keys path, workgroup-memory lane sum, 20 heads', config: { T: 2, S: 50, Hi: 20, Di: 16 }, subgroups: false },
    { name: 'tile path, 2 heads, T = 37 (2 query tiles), S = 130', config: { T: 37, S: 130, Hi: 2, Di: 16 } },
    { name: 'tile path, 7 heads (padded to 8), T = S = 129', config: { T: 129, S: 129, Hi: 7, Di: 8 } },
    { name: 'tile path, 16 heads, Di = 68 (3 slices), T = 9, S = 200', config: { T: 9, S: 200, Hi: 16, Di: 68 } },
    { name: 'tile path, 21 heads (padded to 24, 2 queries per tile), T = 5', config: { T: 5, S: 67, Hi: 21, Di: 8 } },
    { name: 'tile path, 72 heads (2 head blocks), T = 6, non-causal', config: { T: 6, S: 65, Hi: 72, Di: 4, causal: false } },
    { name: 'tile path, T = S = 200, 4 heads: tiles wholly masked', config: { T: 200, S: 200, Hi: 4, Di: 4 } },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const seed = freshSeed();
      const config = withDefaults(indexer, tc.config);
      const inputs = makeInputs(indexer, config, createRng(seed));
      const live = ctx.buffers.liveBytes;
      const create = tc.subgroups === false ? () => instanceOfStage(ctx, indexerBuffers(config), (b) => createIndexerStage(ctx, config, b, 'sparse.indexer', { subgroups: false })) : undefined;
      const got = await runKernel(ctx, indexer, config, inputs, create);
      expect(ctx.buffers.liveBytes).toBe(live);
      const want = indexer.reference(inputs, config).index_scores!;
      const r = relL2('index_scores', got.index_scores!.data, want.data, 1e-4);
      expect(r.ok, `seed ${seed}: rel-L2 ${r.relL2} ${r.detail ?? ''}`).toBe(true);
    });
  }
});

describe('sparse kernels reduce to dense causal attention on the GPU', () => {
  /** Run `def` on fresh inputs and hold its `out` against the float64 dense causal reference. */
  async function expectDense(def: AnyKernel, partial: Record<string, unknown>) {
    const seed = freshSeed();
    const config = withDefaults(def, partial);
    const inputs = makeInputs(def, config, createRng(seed));
    const live = ctx.buffers.liveBytes;
    const got = await runKernel(ctx, def, config, inputs);
    expect(ctx.buffers.liveBytes).toBe(live);
    const { T, S, Hq, Hkv, D } = config as unknown as { T: number; S: number; Hq: number; Hkv: number; D: number };
    const want = attentionReference(inputs.q!, inputs.k!, inputs.v!, { T, S, Hq, Hkv, D, scale: 1 / Math.sqrt(D) }, causalMask);
    const r = relL2('out', got.out!.data, want.data, 1e-4);
    expect(r.ok, `${def.id} seed ${seed}: rel-L2 ${r.relL2} ${r.detail ?? ''}`).toBe(true);
  }

  it('sparse.dsa with topk >= S', () => expectDense(dsa, { T: 7, S: 33, Hq: 4, Hkv: 1, D: 16, topk: 40, Hi: 3, Di: 8 }));
  it('sparse.sliding_window with window >= S', () => expectDense(slidingWindow, { T: 9, S: 45, Hq: 4, Hkv: 2, D: 16, window: 45, sinks: 0 }));
  it('sparse.block_select with every block', () => expectDense(blockSelect, { T: 8, S: 50, Hq: 4, Hkv: 2, D: 16, block: 7, topBlocks: 8 }));
});
