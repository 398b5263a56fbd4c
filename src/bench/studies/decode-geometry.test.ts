// The decode-geometry study on this process's device (Dawn): each decode kernel encoded at its V3.2-scale
// shape, every dispatch that streams the KV cache or weights held to the rule, and the study's pieces
// (the rule, the digest in a result file, indirect grids from the passes before them) checked on their own.
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeGpu } from '../../../test/node-gpu.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults } from '../../kernels/contract.ts';
import { createInstance, makeInputs, uploadInputs } from '../../kernels/execute.ts';
import { createRng } from '../../kernels/random.ts';
import { findKernel, KERNELS } from '../../kernels/registry.ts';
import { recordGeometry, type DispatchGeometry } from '../geometry.ts';
import { fakeResultFile } from '../result-fixture.ts';
import { ResultFileSchema } from '../result-schema.ts';
import { DECODE_GEOMETRY_RUNS, decodeGeometry, geometryDigest, judge, runGeometry, type DispatchRow, type GeometryRun } from './decode-geometry.ts';

/**
 * Dispatches that fail the rule today, by "kernel shape: dispatch": the study prints them in its notes; here
 * they are only required to be the ones listed, so one that starts failing (or is fixed) shows.
 */
const KNOWN_FAILING: readonly string[] = [];

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await nodeGpu();
});

describe('decode-geometry: V3.2-scale decode shapes', () => {
  for (const run of DECODE_GEOMETRY_RUNS) {
    it(`${run.kernel} ${run.shape.name}: each cache- or weight-streaming dispatch launches >= 512 workgroups or streams <= 64 KiB each`, async () => {
      const rows = await runGeometry(ctx, findKernel(run.kernel)!, run);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.threads, r.dispatch).not.toBeNull();
        expect(r.workgroups, r.dispatch).toBe(r.grid[0] * r.grid[1] * r.grid[2]);
        expect(r.workgroups, `${r.dispatch}: an empty launch`).toBeGreaterThan(0);
      }
      const streaming = rows.filter((r) => r.rule !== 'n.a.');
      // A kernel that streams a cache or weights has a dispatch that reads them under the names listed.
      expect(streaming.length > 0, `${run.kernel}: no dispatch reads ${run.streamed.join(', ')}`).toBe(run.streamed.length > 0);
      for (const r of streaming) {
        const at = `${r.kernel} ${r.shape}: ${r.dispatch} (${r.workgroups} workgroups, ${r.streamedPerWorkgroup} B each)`;
        expect(r.rule, at).toBe(KNOWN_FAILING.includes(`${r.kernel} ${r.shape}: ${r.dispatch}`) ? 'no' : 'yes');
      }
    });
  }
});

describe('decode-geometry: the rule', () => {
  const run: GeometryRun = { kernel: 'k', shape: { name: 's', config: {} }, streamed: ['w'], bytes: { part_main: () => 1024 * 1024 }, sharedBy: { shared_main: () => 4 } };
  const dispatch = (entry: string, workgroups: number, reads: Record<string, number>): DispatchGeometry => ({
    pipeline: `k:${entry}`,
    grid: [workgroups, 1, 1],
    workgroups,
    threads: 64,
    workgroupBytes: 0,
    readBytes: Object.values(reads).reduce((a, b) => a + b, 0),
    reads,
  });
  const cost = { flops: 0, bytes: 0 };
  const KiB = 1024;

  it('512 workgroups, or at most 64 KiB each, whichever holds', () => {
    expect(judge(run, {}, cost, dispatch('a_main', 512, { w: 512 * 65 * KiB }))).toEqual({ streamedPerWorkgroup: 65 * KiB, rule: 'yes' });
    expect(judge(run, {}, cost, dispatch('a_main', 511, { w: 511 * 65 * KiB })).rule).toBe('no');
    expect(judge(run, {}, cost, dispatch('a_main', 16, { w: 16 * 64 * KiB })).rule).toBe('yes');
  });

  it('a dispatch reading no streamed binding is n.a.; a byte model replaces the bound size; shared rows multiply', () => {
    expect(judge(run, {}, cost, dispatch('merge_main', 1, { part: 1 << 30 }))).toEqual({ streamedPerWorkgroup: null, rule: 'n.a.' });
    // 1 MiB over 32 workgroups, whatever the binding's size.
    expect(judge(run, {}, cost, dispatch('part_main', 32, { w: 1 << 30 }))).toEqual({ streamedPerWorkgroup: 32 * KiB, rule: 'yes' });
    // Each byte read by 4 workgroups: 4 x (256 KiB / 16).
    expect(judge(run, {}, cost, dispatch('shared_main', 16, { w: 256 * KiB }))).toEqual({ streamedPerWorkgroup: 64 * KiB, rule: 'yes' });
    expect(judge(run, {}, cost, dispatch('shared_main', 16, { w: 257 * KiB })).rule).toBe('no');
    expect(() => judge(run, {}, cost, dispatch('shared_main', 18, { w: 256 * KiB }))).toThrow(/18 workgroups are not 4 blocks sharing rows/);
  });

  it('the digest names the failing dispatches and lands in a valid result file', () => {
    const row = (dispatch: string, workgroups: number, bytes: number | null, rule: DispatchRow['rule']): DispatchRow => ({
      kernel: 'moe.router',
      shape: 'decode N=1',
      dispatch,
      grid: [workgroups, 1, 1],
      workgroups,
      threads: 64,
      workgroupBytes: 0,
      streamedPerWorkgroup: bytes,
      rule,
    });
    const d = geometryDigest([row('logits_gemv', 4, 1.5 * 1024 * 1024, 'no'), row('select_main', 1, null, 'n.a.')]);
    expect(d.rows[0]).toEqual(['moe.router', 'decode N=1', 'logits_gemv', '4 (4·1·1)', 64, 0, '1536.0 KiB', 'no']);
    expect(d.rows[1]!.slice(6)).toEqual([null, 'n.a.']);
    expect(d.notes[0]).toBe('1 streaming dispatch(es) fail the rule: moe.router decode N=1 logits_gemv (4 workgroups, 1536.0 KiB each)');
    const file = { ...fakeResultFile([]), studies: [d] };
    expect(ResultFileSchema.safeParse(file).success).toBe(true);
    // The file keeps the answer as recorded: the digest reads it back.
    expect(decodeGeometry.digest(file)).toBe(d);
    expect(decodeGeometry.digest(fakeResultFile([]))).toBeUndefined();
  });
});

describe('indirect grids from the passes before them', () => {
  for (const id of ['moe.grouped_ffn', 'moe.forward']) {
    it(`${id}: running only the passes before the first indirect dispatch resolves the grids the whole run does`, async () => {
      const def = KERNELS.find((k) => k.id === id)!;
      const config = withDefaults(def, def.testCases[0]!.config);
      const instance = await createInstance(ctx, def, config);
      try {
        uploadInputs(ctx, instance, def.inputs(config), makeInputs(def, config, createRng(7)));
        const whole = await recordGeometry(ctx, instance);
        let uploads = 0;
        const prefix = await recordGeometry(ctx, instance, { prefix: true, beforeRun: () => uploads++ });
        expect(whole.some((d) => d.indirect)).toBe(true);
        expect(prefix.map((d) => d.grid)).toEqual(whole.map((d) => d.grid));
        expect(uploads).toBe(1);
      } finally {
        instance.destroy();
      }
    });
  }
});
