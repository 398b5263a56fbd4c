// Robustness on the real GPU path (headless Chromium), generic over the registry:
//  - random valid small configs (from each schema) run against the float64 reference;
//  - every kernel created, run and destroyed CYCLES times returns live GPU bytes to the baseline;
//  - a device destroyed mid-benchmark rejects with DeviceLostError, and a fresh device works after it.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireBrowserGpu } from '../gpu/browser.ts';
import { browserGpu } from '../../test/browser-gpu.ts';
import type { GpuContext } from '../gpu/context.ts';
import { DeviceLostError } from '../gpu/errors.ts';
import { KERNELS, findKernel } from './registry.ts';
import { withDefaults, type Config } from './contract.ts';
import { configArbitrary } from './config-arbitrary.ts';
import { validateConfig } from './common/validate.ts';
import { checkAgainstReference, summarise } from './check.ts';
import { createInstance, encodeOnce, makeInputs, uploadInputs } from './execute.ts';
import { createRng, freshSeed } from './random.ts';
import { runSuite, selectJobs } from '../bench/suite.ts';
import type { Roofline } from '../bench/roofline.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await browserGpu();
});

const PER_KERNEL = 3;

describe('random valid configs on the GPU', () => {
  for (const def of KERNELS) {
    it(`${def.id}: ${PER_KERNEL} random small configs match the reference`, async () => {
      const seed = freshSeed();
      // Small sizes so the float64 reference and SwiftShader stay fast; keep drawing until validate accepts.
      const candidates = fc.sample(configArbitrary(def.schema, { smallCap: 40 }), { numRuns: 3000, seed });
      const chosen: Config[] = [];
      for (const { config } of candidates) {
        if (validateConfig(def, config, ctx).length === 0) chosen.push(config);
        if (chosen.length === PER_KERNEL) break;
      }
      expect(chosen.length, `no valid small config found for ${def.id} in 3000 draws (seed ${seed})`).toBeGreaterThan(0);
      for (const config of chosen) {
        const report = await checkAgainstReference(ctx, def, config, freshSeed());
        expect(report.ok, summarise(report)).toBe(true);
      }
    });
  }
});

// One forgotten buffer already shows after the first cycle; a dozen show one that accumulates.
const CYCLES = 12;

describe('resource hygiene', () => {
  it(`every kernel x${CYCLES} (create -> run -> destroy) returns live GPU bytes to the baseline`, async () => {
    const lines: string[] = [];
    for (const def of KERNELS) {
      const config = withDefaults(def, def.testCases[0]!.config);
      const inputs = makeInputs(def, config, createRng(freshSeed()));
      await ctx.device.queue.onSubmittedWorkDone();
      const before = { bytes: ctx.buffers.liveBytes, count: ctx.buffers.liveCount };
      let peak = before.bytes;
      for (let i = 0; i < CYCLES; i++) {
        const instance = await createInstance(ctx, def, config);
        uploadInputs(ctx, instance, def.inputs(config), inputs);
        encodeOnce(ctx, instance);
        peak = Math.max(peak, ctx.buffers.liveBytes);
        instance.destroy();
      }
      await ctx.device.queue.onSubmittedWorkDone();
      const after = { bytes: ctx.buffers.liveBytes, count: ctx.buffers.liveCount };
      lines.push(`${def.id}: live bytes before ${before.bytes}, peak ${peak}, after ${CYCLES} runs ${after.bytes} (${after.count} buffers)`);
      expect(after, def.id).toEqual(before);
      expect(peak).toBeGreaterThan(before.bytes);
    }
    console.log(`leak test:\n${lines.join('\n')}`);
  });
});

describe('device loss', () => {
  it('destroying the device mid-benchmark rejects with a clear DeviceLostError; a new device works', async () => {
    const victim = await acquireBrowserGpu();
    const def = findKernel('attention.naive')!;
    const jobs = selectJobs([def], { shapes: ['prefill'], set: { T: 64, S: 256, Hq: 4, Hkv: 4, D: 32 } });
    const roofline: Roofline = { copyGBps: 1, fmaGflops: 1, copyBytes: 1, fmaFlops: 1, copyMedianMs: 1, fmaMedianMs: 1, method: 'gpu-timestamps' };
    let started = false;
    const run = runSuite(victim, jobs, {
      warmup: 1,
      repeats: 100000,
      seed: 1,
      runtime: 'test',
      toolVersion: 'test',
      roofline,
      onEvent(e) {
        if (e.kind === 'start') started = true;
      },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(started).toBe(true);
    victim.device.destroy();
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    console.log(`device-loss test: runSuite rejected with ${(err as Error)?.name}: ${(err as Error)?.message}`);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as Error).message).toMatch(/^the GPU device was lost/);
    expect(() => victim.assertAlive()).toThrow(DeviceLostError);

    const fresh = await acquireBrowserGpu();
    const report = await checkAgainstReference(fresh, def, withDefaults(def, def.testCases[0]!.config), freshSeed());
    expect(report.ok, summarise(report)).toBe(true);
    fresh.destroy();
  });
});
