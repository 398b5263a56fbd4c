// The run estimate: before anything finishes, the cost model's floor at the roofline (it grows with the work and
// counts the timer's warm-up); after, the measured time scaled by the roofline-weighted work left.
import { describe, expect, it } from 'vitest';
import { findKernel } from '../../kernels/registry.ts';
import { withDefaults } from '../../kernels/contract.ts';
import { RunEstimate, WARMUP_MS, fmtDuration, jobFloorMs } from './run-estimate.ts';

const mla = findKernel('mla.decode_absorbed')!;
const roof = { copyGBps: 1.7, fmaGflops: 8 };
const job = (S: number, samples = 5) => ({ def: mla, config: withDefaults(mla, { T: 1, S, H: 128, dn: 128, dr: 64, dc: 512, dv: 128 }), samples });

describe('RunEstimate', () => {
  it('floors each timed shape at the warm-up plus its samples at the roofline time, growing with the work', () => {
    const small = jobFloorMs(job(256), roof);
    const big = jobFloorMs(job(65536), roof);
    expect(small).toBeGreaterThanOrEqual(WARMUP_MS + 5);
    expect(big).toBeGreaterThan(10 * small);
    // DeepSeek-V3's 128 MLA heads at S = 64K on CPU emulation: minutes, said before the first point.
    expect(new RunEstimate([job(65536)], roof).label(0)).toMatch(/^ · estimate: at least \d+ (s|min) \(cost model at this GPU's measured roofline\)$/);
  });

  it('after the first job: elapsed time scaled by the weighted work left; nothing once done', () => {
    let t = 0;
    const e = new RunEstimate([job(1024), job(1024), job(1024)], roof);
    e.now = () => t;
    e.start();
    t = 10_000;
    // One of three equal jobs took 10 s: 20 s left.
    expect(e.label(1)).toBe(' · about 20 s left (measured so far)');
    expect(e.label(3)).toBe('');
  });

  it('formats durations', () => {
    expect(fmtDuration(400)).toBe('1 s');
    expect(fmtDuration(45_000)).toBe('45 s');
    expect(fmtDuration(6 * 60_000)).toBe('6 min');
    expect(fmtDuration(3 * 3_600_000)).toBe('3.0 h');
  });
});
