// Pure logic of the sparse kernels: split plans and geometry, closed-form cost models against brute
// force, validation messages, golden-file mapping and the bitonic dispatch schedule.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../gpu/errors.ts';
import { withDefaults, type AnyKernel } from '../contract.ts';
import { validateConfig } from '../common/validate.ts';
import { slidingWindowMask } from '../../reference/attention.ts';
import { WG, sumClamped } from './sparse-config.ts';
import { SPLIT_MAX_BYTES, SPLIT_TARGET_WORKGROUPS, flashSplit } from './flash-split.ts';
import { attendedPairs, dsaAttention, dsaGqaGeometry } from './dsa-attention.ts';
import { windowCost, slidingWindow, windowGeometry } from './sliding-window.ts';
import { blockSelect, blockSelectGeometry, blockSelectPooling } from './block-select.ts';
import { dsa } from './dsa.ts';
import { indexer, indexerKeyBytesPerWorkgroup, indexerShader, indexerTiling, paddedHeads } from './indexer.ts';
import { resolveShader } from '../../gpu/shader.ts';
import { MAX_CHUNKS, topk, topkChunks, topkDispatches } from './topk.ts';
import { bitonicSchedule, paddedLength, sortBaseline } from './sort-baseline.ts';
import { fakeCaps } from '../../../test/device-caps.ts';

const caps = (workgroupBytes: number, subgroups = false) => fakeCaps({ maxComputeWorkgroupStorageSize: workgroupBytes }, { subgroups, timestamps: false });
const swiftshader = caps(32768);
const minimal = caps(16384);

describe('closed-form costs', () => {
  it('sumClamped matches the plain sum', () => {
    fc.assert(
      fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: -10, max: 30 }), fc.integer({ min: 0, max: 30 }), (lo, n, floor, width) => {
        let want = 0;
        for (let x = lo; x < lo + n; x++) want += Math.min(Math.max(x, floor), floor + width);
        expect(sumClamped(lo, lo + n - 1, floor, floor + width)).toBe(want);
      }),
    );
  });

  it('window FLOPs count exactly the visible (query, key) pairs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 20 }), (T, extra, window, sinks) => {
        const S = T + extra;
        const visible = slidingWindowMask(window, sinks);
        let pairs = 0;
        for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) if (visible(S - T + t, s)) pairs++;
        const c = withDefaults(slidingWindow, { T, S, Hq: 1, Hkv: 1, D: 4, window, sinks });
        expect(windowCost(c).flops).toBe(4 * pairs * 4);
      }),
    );
  });

  it('DSA attends min(topk, visible keys) per query', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 90 }), fc.boolean(), (T, extra, topkN, causal) => {
        const S = T + extra;
        let want = 0;
        for (let t = 0; t < T; t++) want += Math.min(topkN, causal ? S - T + t + 1 : S);
        expect(attendedPairs({ T, S, Hq: 1, Hkv: 1, D: 4, Dr: 0, mode: 'gqa', topk: topkN, causal, scale: 0 })).toBe(want);
      }),
    );
  });
});

describe('validation names the field, the value and the limit', () => {
  const issues = (def: AnyKernel, partial: Record<string, unknown>) => validateConfig(def, withDefaults(def, partial), swiftshader);
  const fields = (def: AnyKernel, partial: Record<string, unknown>) => issues(def, partial).map((i) => i.field);

  it('refuses row widths that are not whole vec4s', () => {
    expect(fields(indexer, { Di: 18 })).toEqual(['Di']);
    expect(fields(slidingWindow, { D: 18 })).toEqual(['D']);
    expect(fields(dsaAttention, { D: 30 })).toContain('D');
    expect(issues(indexer, { Di: 18 })[0]!.message).toMatch(/18 .*multiple of 4/);
  });

  it('refuses cross-field mistakes', () => {
    expect(fields(dsaAttention, { mode: 'mla', Hkv: 2, Hq: 4, D: 576, Dr: 64 })).toEqual(['Hkv']);
    expect(fields(dsaAttention, { mode: 'mla', Hkv: 1, D: 64, Dr: 64 })).toEqual(['Dr']);
    expect(fields(dsaAttention, { mode: 'gqa', Dr: 8 })).toEqual(['Dr']);
    expect(fields(dsaAttention, { Hq: 6, Hkv: 4 })).toEqual(['Hq']);
    expect(fields(slidingWindow, { causal: false })).toEqual(['causal']);
    expect(fields(topk, { rows: 10, S: 5, causal: true })).toEqual(['rows']);
    expect(fields(dsa, { T: 9, S: 4 })).toContain('T');
    expect(fields(blockSelect, { S: 1 << 22, block: 1 })).toEqual(['block']);
    expect(fields(sortBaseline, { rows: 3, S: 2, causal: true })).toEqual(['rows']);
  });

  it('refuses f16 on an adapter without shader-f16', () => {
    expect(fields(dsaAttention, { dtype: 'f16' })).toEqual(['dtype']);
    expect(fields(slidingWindow, { dtype: 'f16' })).toEqual(['dtype']);
    expect(fields(blockSelect, { dtype: 'f16' })).toEqual(['dtype']);
  });

  it('checks buffers against the binding limit (DSA prefill index scores grow as T * S)', () => {
    const small = caps(32768);
    small.limits.maxStorageBufferBindingSize = 2 ** 27;
    const found = validateConfig(dsa, withDefaults(dsa, { T: 8192, S: 8192, Hq: 8, Hkv: 1, D: 64, topk: 512, Hi: 4, Di: 32 }), small);
    expect(found.map((i) => i.field)).toContain('index_scores');
  });

  it('accepts every registered benchmark and test shape on a 16 KiB-workgroup device', () => {
    for (const def of [indexer, topk, sortBaseline, slidingWindow, dsaAttention, dsa, blockSelect] as AnyKernel[]) {
      for (const shape of [...def.benchmarks, ...def.testCases]) {
        const found = validateConfig(def, withDefaults(def, shape.config), { ...minimal, limits: { ...minimal.limits, maxStorageBufferBindingSize: 2 ** 30 } });
        expect(found, `${def.id} ${shape.name}`).toEqual([]);
      }
    }
  });
});

describe('golden mapping', () => {
  const shapes = { q: [4, 2, 8], k: [20, 1, 8], v: [20, 1, 8], q_index: [4, 2, 8], k_index: [20, 8], w_index: [4, 2] };

  it('round-trips sparse.dsa metadata', () => {
    const c = dsa.fromGolden!({ topk: '6', causal: '0', scale: '0.25' }, shapes);
    expect(c).toMatchObject({ topk: 6, causal: false, scale: 0.25, Hi: 2, Di: 8 });
    expect(dsa.fromGolden!(dsa.goldenMeta!(c), shapes)).toEqual(c);
  });

  it('names the field it cannot take', () => {
    const field = (meta: Record<string, string>, s: Record<string, number[]>) => {
      try {
        dsa.fromGolden!(meta, s);
      } catch (e) {
        return e instanceof ConfigError ? e.issues[0]!.field : 'not a ConfigError';
      }
      return 'accepted';
    };
    expect(field({}, shapes)).toBe('topk');
    expect(field({ topk: '2.5' }, shapes)).toBe('topk');
    expect(field({ topk: '6', causal: 'yes' }, shapes)).toBe('causal');
    expect(field({ topk: '6' }, { ...shapes, w_index: [4, 3] })).toBe('w_index');
    expect(field({ topk: '6' }, { ...shapes, k_index: [19, 8] })).toBe('q_index/k_index');
    expect(field({ topk: '6' }, { ...shapes, v: [20, 1, 4] })).toBe('k/v');
    expect(field({ topk: '6' }, { ...shapes, q: [4, 2] })).toBe('q');
  });

  it('sliding window needs a window and defaults sinks to 0', () => {
    const s = { q: [2, 2, 8], k: [5, 1, 8], v: [5, 1, 8] };
    expect(slidingWindow.fromGolden!({ causal: '1', window: '3' }, s)).toMatchObject({ window: 3, sinks: 0, selected: false });
    expect(() => slidingWindow.fromGolden!({ causal: '1' }, s)).toThrow(/window/);
  });
});

describe('indexer geometry', () => {
  it('decode spreads the keys over walkers: >= 512 or <= 64 KiB of index keys each at V3.2 shapes', () => {
    for (const S of [8192, 32768, 131072]) {
      for (const T of [1, 2, 4]) {
        const c = { T, S, Hi: 64, Di: 128 };
        const g = indexerTiling(c);
        expect(g.keysPath).toBe(true);
        // One walker per (query, key range), the 64 heads in one block; the ranges cover the keys.
        expect(g.workgroups).toBe(T * g.ranges);
        expect(g.decodeHeads).toBe(64);
        expect(g.ranges * g.kpw).toBeGreaterThanOrEqual(S);
        expect((g.ranges - 1) * g.kpw).toBeLessThan(S);
        expect(g.workgroups >= 512 || indexerKeyBytesPerWorkgroup(c) <= 65536).toBe(true);
        // One query up to 32K keys: 128 keys (64 KiB of f32 index keys) per walker; past that 512 walkers.
        if (T === 1) expect([g.kpw, g.workgroups]).toEqual(S <= 65536 ? [128, S / 128] : [S / 512, 512]);
      }
    }
    expect(indexerTiling({ T: 1, S: 2048, Hi: 64, Di: 128 }).workgroups).toBe(16);
    expect(indexerKeyBytesPerWorkgroup({ T: 1, S: 8192, Hi: 64, Di: 128, dtype: 'f16' })).toBe(65536);
  });

  it('decode walkers take the heads in balanced blocks that keep their query columns <= 2048 floats per lane', () => {
    expect([1, 3, 64, 65, 130].map((Hi) => indexerTiling({ T: 1, S: 4096, Hi, Di: 128 }).decodeHeads)).toEqual([1, 3, 64, 33, 44]);
    const wide = indexerTiling({ T: 1, S: 4096, Hi: 64, Di: 1024 });
    expect([wide.dq, wide.decodeHeads]).toEqual([64, 8]);
  });

  it('f16 storage compiles the same WGSL as f32: only the enable and the elem alias differ', () => {
    const [f32, f16] = (['f32', 'f16'] as const).map((t) => resolveShader(indexerShader(t)).split('\n'));
    expect(f16.filter((l) => !f32.includes(l))).toEqual(['enable f16;', 'alias elem = f16;']);
    expect(f32.filter((l) => !f16.includes(l))).toEqual(['alias elem = f32;']);
    for (const name of ['q_index', 'k_index']) expect(f16.join('\n')).toContain(`var<storage, read> ${name}: array<vec4<elem>>;`);
    expect(f16.join('\n')).toContain('var<storage, read> w_index: array<elem>;');
  });

  it('prefill packs whole queries into a 64-row tile and covers every (query, key) tile', () => {
    const g = indexerTiling({ T: 256, S: 256, Hi: 8, Di: 32 });
    expect(g.qpt).toBe(8);
    expect(g.keysPath).toBe(false);
    expect(g.workgroups).toBe(32 * 4);
    expect([1, 2, 3, 4, 5, 8, 9, 21, 64, 70].map(paddedHeads)).toEqual([1, 2, 4, 4, 8, 8, 16, 24, 64, 72]);
    expect(indexerTiling({ T: 6, S: 65, Hi: 70, Di: 12 }).headBlocks).toBe(2);
    expect(indexerTiling({ T: 37, S: 100, Hi: 21, Di: 8 })).toMatchObject({ hpb: 24, qpt: 2, queryTiles: 19, keyTiles: 2 });
    expect(indexerTiling({ T: 512, S: 512, Hi: 4, Di: 8 })).toMatchObject({ hpb: 4, qpt: 16, workgroups: 32 * 8 });
  });
});

describe('top-k split and the bitonic schedule', () => {
  it('runs many rows one workgroup each and splits few long rows', () => {
    expect(topkChunks(4096, 8192, 0)).toBe(1);
    expect(topkChunks(1, 131072, 0)).toBe(128);
    expect(topkChunks(1, 1000, 0)).toBe(1);
    expect(topkChunks(2, 100, 7)).toBe(7);
    expect(topkChunks(1, 1 << 22, 0)).toBe(MAX_CHUNKS);
    expect(topkChunks(1, 1 << 22, 100_000)).toBe(MAX_CHUNKS);
  });

  it('a decode row takes two dispatches (histogram, finish) of up to 256 workgroups; many rows one', () => {
    const row = (S: number) => topkDispatches({ rows: 1, cols: S, k: 2048, causal: false, split: 0 });
    expect(row(32768)).toEqual([
      { entry: 'chunk_hist_main', workgroups: 32 },
      { entry: 'chunk_finish_main', workgroups: 32 },
    ]);
    expect(row(8192).map((x) => x.workgroups)).toEqual([8, 8]);
    expect(row(131072).map((x) => x.workgroups)).toEqual([128, 128]);
    expect(topkDispatches({ rows: 64, cols: 2048, k: 256, causal: true, split: 0 })).toEqual([{ entry: 'row_main', workgroups: 64 }]);
  });

  it('the schedule sorts (emulating local sort, global steps and local merges on the CPU)', () => {
    const P = 4096;
    const L = 256;
    const rng = Array.from({ length: P }, () => Math.floor(Math.random() * 50));
    const a = rng.map((key, idx) => [key, idx] as [number, number]);
    const before = (x: [number, number], y: [number, number]) => x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
    const step = (i: number, j: number, k: number) => {
      const l = i + j;
      const swap = (i & k) === 0 ? before(a[l]!, a[i]!) : before(a[i]!, a[l]!);
      if (swap) [a[i], a[l]] = [a[l]!, a[i]!];
    };
    const pairsOf = (j: number, lo: number, hi: number, fn: (i: number) => void) => {
      for (let i = lo; i < hi; i++) if ((i & j) === 0) fn(i);
    };
    for (const s of bitonicSchedule(P, L)) {
      if (s.entry === 'local_sort_main') {
        for (let off = 0; off < P; off += L) for (let k = 2; k <= L; k *= 2) for (let j = k / 2; j >= 1; j >>= 1) pairsOf(j, off, off + L, (i) => step(i, j, k));
      } else if (s.entry === 'global_step_main') {
        pairsOf(s.j, 0, P, (i) => step(i, s.j, s.k));
      } else if (s.entry === 'local_merge_main') {
        for (let off = 0; off < P; off += L) for (let j = L / 2; j >= 1; j >>= 1) pairsOf(j, off, off + L, (i) => step(i, j, s.k));
      }
    }
    for (let i = 1; i < P; i++) expect(before(a[i - 1]!, a[i]!)).toBe(true);
    expect(paddedLength(2100)).toBe(4096);
    expect(paddedLength(1)).toBe(2);
  });
});

// Split-K geometry of the key-walk kernels, exact on any machine (walkers use no workgroup memory, so it does
// not depend on the device): the split covers every position, and at DeepSeek-V3.2-scale decode shapes every
// attend dispatch launches >= 512 workgroups or streams <= 64 KiB per workgroup.

describe('flashSplit', () => {
  it('covers every position, stays within the byte bound, and is one split when asked', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 1 << 17 }), fc.integer({ min: 16, max: 8192 }), fc.constantFrom(4, 8, 16, 32), (items, keys, bytesPerKey, BK) => {
        const s = flashSplit({ items, keys, bytesPerKey, BK });
        expect(s.splits * s.chunk).toBeGreaterThanOrEqual(keys);
        expect((s.splits - 1) * s.chunk).toBeLessThan(keys); // no split starts past the end
        if (s.splits > 1) expect(Math.min(s.chunk, keys) * bytesPerKey <= SPLIT_MAX_BYTES || s.chunk === 1).toBe(true);
        expect(flashSplit({ items, keys, bytesPerKey, BK }, { chunk: Infinity }).splits).toBe(1);
      }),
    );
  });
});

describe('decode geometry at DeepSeek-V3.2 scale', () => {
  const rule = (workgroups: number, bytesPerWorkgroup: number) => workgroups >= 512 || bytesPerWorkgroup <= 64 * 1024;
  for (const S of [8192, 32768, 131072]) {
    for (const dtype of ['f32', 'f16'] as const) {
      const el = dtype === 'f32' ? 4 : 2;
      it(`S = ${S}, ${dtype}: sliding window, block select, DSA GQA meet the split rule (DSA MLA: dsa-mla.test.ts)`, () => {
        const sw = withDefaults(slidingWindow, { T: 1, S, window: 2048, sinks: 4, Hq: 16, Hkv: 4, D: 64, dtype });
        const gw = windowGeometry(sw);
        expect(rule(gw.workgroups, gw.split.chunk * 2 * 64 * el), `window ${JSON.stringify(gw)}`).toBe(true);

        const bs = withDefaults(blockSelect, { T: 1, S, block: 64, topBlocks: 32, Hq: 16, Hkv: 4, D: 64, dtype });
        const gb = blockSelectGeometry(bs);
        expect(rule(gb.workgroups, gb.split.chunk * 2 * 64 * el), `block select ${JSON.stringify(gb)}`).toBe(true);

        const c = withDefaults(dsaAttention, { T: 1, S, Hq: 32, Hkv: 8, D: 128, topk: 2048, dtype });
        const g = dsaGqaGeometry(c, el);
        expect(rule(g.workgroups, g.split.chunk * 2 * c.D * el), `dsa gqa ${JSON.stringify(g)}`).toBe(true);
      });
    }
  }

  it('block select pools and scores within the rule too, short NSA blocks and long MoBA blocks alike', () => {
    for (const S of [8192, 32768, 131072]) {
      for (const dtype of ['f32', 'f16'] as const) {
        for (const [block, topBlocks] of [[64, 16], [512, 8], [4096, 4]] as const) {
          const c = withDefaults(blockSelect, { T: 1, S, block, topBlocks, Hq: 16, Hkv: 4, D: 64, dtype });
          const g = blockSelectPooling(c);
          const at = `S ${S} ${dtype} block ${block} ${JSON.stringify(g)}`;
          // The pieces of a block cover it; one pool thread per (block, piece, KV head, vec4 column).
          expect(g.pieces * g.piece, at).toBeGreaterThanOrEqual(block);
          expect((g.pieces - 1) * g.piece, at).toBeLessThan(block);
          expect(g.poolWorkgroups, at).toBe(Math.ceil((Math.ceil(S / block) * g.pieces * 4 * 16) / WG));
          expect(rule(g.poolWorkgroups, g.poolBytesPerWorkgroup), `pool ${at}`).toBe(true);
          expect(rule(g.scoreWorkgroups, g.scoreBytesPerWorkgroup), `score ${at}`).toBe(true);
        }
      }
    }
    // The bench shape (S 16K, blocks of 64, 4 KV heads): 4 pieces of 16 keys, 256 pool workgroups of 64 KiB;
    // 64 score workgroups of 64 threads.
    const bench = blockSelectPooling(withDefaults(blockSelect, { T: 1, S: 16384, block: 64, topBlocks: 16, Hq: 16, Hkv: 4, D: 64 }));
    expect([bench.pieces, bench.poolWorkgroups, bench.poolBytesPerWorkgroup, bench.scoreWorkgroups, bench.SCORE_WG]).toEqual([4, 256, 65536, 64, 64]);
  });

  it('the bench shapes get 260 and 256 workgroups instead of 4 and 8 (window S = 32K, W = 2048; DSA GQA S = 8K, k = 1024, 32 / 8 heads)', () => {
    const sw = withDefaults(slidingWindow, { T: 1, S: 32768, window: 2048, sinks: 4, Hq: 16, Hkv: 4, D: 64 });
    // One walker per (KV head, quad of heads, 32-key chunk): each K/V row is read once for its 4 query heads.
    const gw = windowGeometry(sw);
    expect([gw.rowBlocks, gw.split.chunk, gw.workgroups]).toEqual([1, 32, 260]);
    expect(gw.workgroups).toBeGreaterThanOrEqual(SPLIT_TARGET_WORKGROUPS);
    const gqa = dsaGqaGeometry(withDefaults(dsaAttention, { T: 1, S: 8192, Hq: 32, Hkv: 8, D: 128, topk: 1024 }), 4);
    expect([gqa.rowBlocks, gqa.split.chunk, gqa.workgroups]).toEqual([1, 32, 256]);
  });
});
