// <kl-result-card>, <kl-verification-badge>, <kl-run-progress>: a verified run shows its numbers and a green
// badge; a run that failed its check or produced NaN/Inf shows a red badge and no number at all.
import { afterEach, describe, expect, it } from 'vitest';
import { fakeResult } from '../../bench/result-fixture.ts';
import { mount, q, qa, settle, text, unmountAll } from '../testing.ts';
import { fmtBytes, fmtNum, fmtPct } from './display-number.ts';
import { ResultCard, stageCheck } from './result-card.ts';
import { RunProgress } from './run-progress.ts';

async function card(r = fakeResult()): Promise<ResultCard> {
  const c = new ResultCard();
  c.result = r;
  return mount(c);
}

const stat = (c: ResultCard, name: string) => text(q(c, `[data-stat="${name}"]`));

afterEach(unmountAll);

describe('<kl-result-card>', () => {
  it('a verified run: median time, GB/s, GFLOP/s, roofline fractions, bytes and a green badge', async () => {
    const r = fakeResult();
    const c = await card(r);
    expect(stat(c, 'median time')).toBe(`${fmtNum(r.medianMs)} ms`);
    expect(stat(c, 'GB/s')).toBe('20.4');
    expect(stat(c, 'GFLOP/s')).toBe(fmtNum(r.gflops));
    expect(text(q(c, '[data-roofline="copy"]'))).toBe(fmtPct(r.copyFraction));
    expect(text(q(c, '[data-roofline="fma"]'))).toBe(fmtPct(r.fmaFraction));
    expect(stat(c, 'bytes moved')).toBe('8.0 MiB');
    expect(text(c)).toContain('GPU timestamps around the dispatches');
    const badge = q(c, 'kl-verification-badge', '[data-verified]');
    expect(badge.dataset.verified).toBe('ok');
    expect(text(badge)).toBe('✓ verified · rel-L2 2.1e-7');
    expect(badge.classList.contains('ok')).toBe(true);
  });

  it('a failed check hides every number and says why', async () => {
    const r = fakeResult({ verification: { ...fakeResult().verification, ok: false, outputs: [{ name: 'out', relL2: 0.3, maxAbs: 1.2, ok: false }] } });
    const c = await card(r);
    for (const s of ['median time', 'GB/s', 'GFLOP/s', 'bytes moved']) expect(stat(c, s)).toBe('—');
    expect(text(q(c, '[data-roofline="copy"]'))).toBe('—');
    expect(text(c)).not.toContain('p10–p90');
    expect(text(c)).toContain('Numbers hidden: the run did not pass verification.');
    const badge = q(c, 'kl-verification-badge', '[data-verified]');
    expect(badge.dataset.verified).toBe('failed');
    expect(text(badge)).toBe('✗ mismatch with the float64 reference');
    expect(qa(q(c, 'kl-verification-badge'), 'td .error').map(text)).toEqual(['fails']);
  });

  it('a NaN or Inf in the timed output is a failure too', async () => {
    const c = await card(fakeResult({ outputsFinite: false }));
    expect(stat(c, 'median time')).toBe('—');
    expect(text(q(c, 'kl-verification-badge', '[data-verified]'))).toBe('✗ non-finite output (NaN or Inf)');
  });

  it('says how the number was made: runs per sample, resolution, baseline, CI, geometry, read bandwidth', async () => {
    const r = fakeResult();
    const c = await card(r);
    const t = text(q(c, '[data-timer]')).replace(/\s+/g, ' ');
    expect(t).toContain('each sample 24 runs back to back, a timestamp pair around each');
    expect(t).toContain('the cache clear before each run is outside the pairs');
    expect(t).toContain('clock resolution 0.100 µs');
    expect(t).toContain('baseline 3.00 µs per run subtracted');
    expect(t).toContain('median 95% CI 0.400–0.430 ms');
    // the fixture's split pass reads 8 MiB over 256 workgroups, its merge 68 KiB over 4: the split is the most per workgroup
    expect(text(q(c, '[data-geometry]')).replace(/\s+/g, ' ')).toBe(`260 workgroups in 2 dispatches per run; at most ${fmtBytes(32_768)} read per workgroup (attention.flash_decode:split_main).`);
    expect(text(q(c, '[data-roofline="read"]'))).toBe(fmtPct(r.readFraction!));
    expect(qa(c, '[data-timer-warning]').length).toBe(0);
    expect(qa(c, '[data-timer-hint]').length).toBe(0);
  });

  it('warns about samples near the resolution and says how to get unquantised timestamps', async () => {
    const r = fakeResult();
    const c = await card({ ...r, timer: { ...r.timer!, resolutionMs: 0.1, quantised: true, coarseSamples: 3 } });
    expect(text(q(c, '[data-timer-warning]'))).toBe("3 sample(s) within 10× of the clock's resolution: not trustworthy.");
    expect(text(q(c, '[data-timer-hint]'))).toContain('chrome://flags/#enable-webgpu-developer-features');
  });

  it('says when the bytes were counted from what the run read, and how many went between passes', async () => {
    const r = fakeResult();
    const c = await card({ ...r, cost: { ...r.cost, intermediateBytes: 1 << 20, fromRun: true } });
    expect(text(q(c, '[data-intermediate]'))).toBe('1.0 MiB between passes');
    expect(text(q(c, '[data-from-run]'))).toBe('; counted from what this run read');
    expect(qa(await card(r), '[data-from-run]').length).toBe(0);
  });

  it('a composite: the stage sum against the whole of the same runs and the kernel timed alone, with a warning past 10%', async () => {
    const stages = (ms: number[]) => ms.map((m, i) => ({ name: `stage ${i}`, medianMs: m, share: m / ms.reduce((a, b) => a + b, 0) }));
    // Agreeing: 18.5 + 0.5 = 19 ms against 18.8 ms in the same runs and 19.4 ms timed alone (as the CLI's 1.20% line).
    const ok = fakeResult({ medianMs: 19.4, stages: stages([18.5, 0.5]), stagesWholeMs: 18.8 });
    const line = (c: ResultCard) => text(q(c, '[data-stage-check]')).replace(/\s+/g, ' ');
    let c = await card(ok);
    expect(line(c)).toBe(`stage sum ${fmtNum(19)} ms vs whole ${fmtNum(18.8)} ms in the same runs (${fmtPct(19 / 18.8 - 1)} off); timed whole (with flush) ${fmtNum(19.4)} ms.`);
    expect(qa(c, '[data-stage-warning]').length).toBe(0);
    // The page's report: bars of 166 ms on a card of 51 ms (the load changed between the two timings).
    const drift = fakeResult({ medianMs: 51, stages: stages([150, 16]), stagesWholeMs: 160 });
    c = await card(drift);
    expect(stageCheck(drift)!.timedOff).toBeCloseTo(51 / 160 - 1, 12);
    expect(qa(c, '[data-stage-warning]').map((e) => e.dataset.stageWarning)).toEqual(['timed']);
    expect(text(q(c, '[data-stage-warning="timed"]'))).toContain(`${fmtPct(51 / 160 - 1)} off the stages' whole`);
    // Stage medians off the same runs' whole (a pause in one stage of every run).
    c = await card(fakeResult({ medianMs: 30, stages: stages([20, 1]), stagesWholeMs: 30 }));
    expect(qa(c, '[data-stage-warning]').map((e) => e.dataset.stageWarning)).toEqual(['sum']);
    // A single kernel has no stage check.
    expect(qa(await card(fakeResult()), '[data-stage-check]').length).toBe(0);
  });

  it('says when times are wall clock (no timestamp-query)', async () => {
    const c = await card(fakeResult({ method: 'wall-clock' }));
    expect(text(c)).toContain('wall clock from submit to completion');
  });
});

describe('<kl-run-progress>', () => {
  it('shows the step and the percentage, and Cancel asks the page to abort', async () => {
    const p = new RunProgress();
    await mount(p);
    expect(qa(p, '*').length).toBe(0);
    p.progress = { label: 'timing attention.naive at S = 512', done: 3, total: 12 };
    await settle(p);
    expect(text(p)).toContain('25% · timing attention.naive at S = 512');
    expect(q<HTMLProgressElement>(p, 'progress').value).toBe(3);
    expect(q(p, '[role="status"]').getAttribute('aria-live')).toBe('polite');
    let cancelled = 0;
    document.body.addEventListener('cancel', () => cancelled++);
    q<HTMLButtonElement>(p, 'button').click();
    expect(cancelled).toBe(1);
  });
});
