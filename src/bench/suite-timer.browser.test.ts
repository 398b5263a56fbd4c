// A small suite run in the browser through the same runner as the CLI: every result says how it was timed
// (the clock's measured resolution, runs per timestamp pair, baseline), composites carry their stages timed
// inside the same runs, and every result carries its dispatch geometry. Prints what it measured.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserGpu } from '../../test/browser-gpu.ts';
import { describeAdapter, type GpuContext } from '../gpu/context.ts';
import { KERNELS } from '../kernels/registry.ts';
import { freshSeed } from '../kernels/random.ts';
import { runSuite, type SuiteJob } from './suite.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

describe('suite timing in the browser', () => {
  it('small shapes: resolution, runs per sample, stage sums beside the whole, geometry', async () => {
    const ids = ['attention.flash_decode', 'sparse.dsa', 'moe.forward'];
    const jobs: SuiteJob[] = ids.map((id) => {
      const def = KERNELS.find((k) => k.id === id)!;
      return { def, shape: { name: def.testCases[0]!.name, config: def.testCases[0]!.config } };
    });
    const file = await runSuite(ctx, jobs, { warmup: 0, repeats: 5, seed: freshSeed(), runtime: 'vitest browser', toolVersion: 'test' });
    console.log(`adapter: ${describeAdapter(ctx.adapter)}; roofline read ${file.roofline.readGBps} GB/s, copy ${file.roofline.copyGBps} GB/s`);
    expect(file.errors).toEqual([]);
    for (const r of file.results) {
      const t = r.timer!;
      expect(t.resolutionMs).toBeGreaterThan(0);
      expect(t.runsPerSample).toBeGreaterThanOrEqual(1);
      expect(r.samplesMs).toHaveLength(5);
      expect(r.geometry!.workgroups).toBeGreaterThan(0);
      const stageSum = (r.stages ?? []).reduce((a, s) => a + s.medianMs, 0);
      console.log(
        `${r.kernel} ${r.shape}: resolution ${(t.resolutionMs * 1e3).toFixed(3)} µs${t.quantised ? ' (quantised)' : ''}, R ${t.runsPerSample}, ` +
          `median ${r.medianMs.toFixed(4)} ms, baseline ${(t.baselineMs * 1e3).toFixed(2)} µs/run, coarse ${t.coarseSamples}, workgroups ${r.geometry!.workgroups}` +
          (r.stages
            ? `; stages ${r.stages.map((s) => `${s.name} ${s.medianMs.toFixed(4)}`).join(' + ')} = ${stageSum.toFixed(4)} ms vs whole in the same runs ${r.stagesWholeMs!.toFixed(4)} ms` +
              ` and vs the whole timed alone (flush and baseline subtracted) ${r.medianMs.toFixed(4)} ms: ratio ${(stageSum / r.medianMs).toFixed(3)}`
            : ''),
      );
      if (['sparse.dsa', 'moe.forward'].includes(r.kernel)) {
        expect(r.stages!.length).toBeGreaterThan(1);
        // Every stage boundary is one shared timestamp, so the per-run sums agree up to the medians' spread.
        expect(r.stagesWholeMs).toBeGreaterThan(0);
      }
    }
  });
});
