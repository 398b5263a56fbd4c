// The step-throughs on this browser's GPU: each traces its kernel's real intermediates on a structured case,
// every frame matches the float64 reference, the controls step / scrub / play through the frames, and
// nothing stays allocated.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GpuSession } from '../device/gpu-session.ts';
import { mount, q, settle, text, unmountAll } from '../testing.ts';
import { FlashSteps } from './flash-steps.ts';
import { MoeSteps } from './moe-steps.ts';
import { MlaSteps } from './mla-steps.ts';
import { MLA_STEPS, mlaGpuSteps, mlaReferenceSteps } from './mla-trace.ts';
import { needles } from '../pictures/structured-inputs.ts';
import { PLAY_INTERVAL_MS } from './step-controls.ts';

let session: GpuSession;
beforeAll(async () => {
  session = new GpuSession();
  await session.start();
});
afterAll(() => session.ctx?.destroy());
afterEach(unmountAll);

async function click(host: HTMLElement, step: string) {
  (q(host, 'kl-step-controls', `button[data-step="${step}"]`) as HTMLButtonElement).click();
  await settle(host);
}

describe('<kl-flash-steps>', () => {
  it('walks the splits of flash_decode: partials and merges match float64, the sinks split holds real mass', async () => {
    const el = await mount(new FlashSteps());
    const before = session.ctx!.buffers.liveBytes;
    await el.run(session.ctx!);
    await settle(el);
    expect(session.ctx!.buffers.liveBytes).toBe(before);
    expect(el.checks.length).toBe(8);
    for (const c of el.checks) expect(c.ok, JSON.stringify(c.checks)).toBe(true);
    expect(q(el, '[data-frame]').dataset.frame).toBe('0');
    await click(el, 'forward');
    expect(q(el, '[data-frame]').dataset.frame).toBe('1');
    await click(el, 'last');
    expect(text(q(el, 'kl-step-controls', '[data-step="position"]'))).toBe('split 8 of 8');
    // Sinks live in split 0, the band in the last split: both carry a visible share of the mass.
    const last = el.frames.at(-1)!;
    expect(last.shares[0]!).toBeGreaterThan(0.05);
    expect(last.shares.at(-1)!).toBeGreaterThan(0.05);
    expect(q(el, '[data-frame-ok]').dataset.frameOk).toBe('true');
  });
});

describe('<kl-moe-steps>', () => {
  it('MoE: groups → experts → dispatch → expert outputs → combine match float64; clustered tokens use their home group', async () => {
    const el = await mount(new MoeSteps());
    const before = session.ctx!.buffers.liveBytes;
    await el.run(session.ctx!);
    await settle(el);
    expect(session.ctx!.buffers.liveBytes).toBe(before);
    expect(el.frames.map((f) => f.stage)).toEqual(['groups', 'experts', 'dispatch', 'experts FFN', 'combine']);
    for (const f of el.frames) expect(f.checks.every((c) => c.ok), JSON.stringify(f.checks)).toBe(true);
    const trace = el.trace!;
    const { N, topk, E, n_groups } = trace.config;
    for (let t = 0; t < N; t++) {
      const groups = new Set(Array.from(trace.stages.indices.data.slice(t * topk, (t + 1) * topk), (e) => Math.floor(e / (E / n_groups))));
      expect(groups.has(Math.floor((t * n_groups) / N))).toBe(true);
    }
    expect(text(q(el, 'kl-step-controls', '[data-step="position"]'))).toBe('stage 1 of 5');
    const scrub = q(el, 'kl-step-controls', 'input[type="range"]') as HTMLInputElement;
    scrub.value = '2';
    scrub.dispatchEvent(new Event('input'));
    await settle(el);
    expect(q(el, '[data-frame]').dataset.stage).toBe('dispatch');
    expect(q(el, '[data-frame-ok]').dataset.frameOk).toBe('true');
  });

  it('play advances through the frames on its own and stops at the last', async () => {
    const el = await mount(new MoeSteps());
    await el.run(session.ctx!);
    await settle(el);
    vi.useFakeTimers();
    try {
      await click(el, 'play');
      for (let i = 0; i < 5; i++) {
        vi.advanceTimersByTime(PLAY_INTERVAL_MS);
        await settle(el);
      }
    } finally {
      vi.useRealTimers();
    }
    expect(el.frame).toBe(4);
    expect(q(el, 'kl-step-controls', 'button[data-step="play"]').getAttribute('aria-label')).toBe('play');
  });
});

describe('<kl-mla-steps>', () => {
  it('absorbed MLA: q_lat → scores → softmax → o_lat → W_UV read back pass by pass match float64; sinks and needles get the weight', async () => {
    const el = await mount(new MlaSteps());
    const before = session.ctx!.buffers.liveBytes;
    await el.run(session.ctx!);
    await settle(el);
    expect(session.ctx!.buffers.liveBytes).toBe(before);
    expect(el.frames.map((f) => f.stage)).toEqual([...MLA_STEPS]);
    for (const f of el.frames) expect(f.checks.every((c) => c.ok), `${f.stage}: ${JSON.stringify(f.checks)}`).toBe(true);
    const trace = el.trace!;
    // One key per split: each range's sum l is exactly 1 (its one key's 2^(m - m)).
    expect(trace.l.every((l) => l === 1)).toBe(true);
    // The structure shows: for every head the sinks and needles outweigh an ordinary far key.
    const g = mlaGpuSteps(trace);
    const S = trace.config.S;
    const far = Math.floor(S / 2) + 1;
    for (let h = 0; h < trace.config.H; h++) {
      for (const s of [0, 1, ...needles(S)]) expect(g.probs[h * S + s]!).toBeGreaterThan(g.probs[h * S + far]!);
    }
    // The frames are the GPU's numbers, not the reference's: they differ by rounding, never exactly agree everywhere.
    expect(Array.from(g.scores)).not.toEqual(Array.from(mlaReferenceSteps(trace).scores));
    expect(text(q(el, 'kl-step-controls', '[data-step="position"]'))).toBe('step 1 of 5');
    await click(el, 'forward');
    expect(q(el, '[data-frame]').dataset.stage).toBe('scores');
    const scrub = q(el, 'kl-step-controls', 'input[type="range"]') as HTMLInputElement;
    scrub.value = '4';
    scrub.dispatchEvent(new Event('input'));
    await settle(el);
    expect(q(el, '[data-frame]').dataset.stage).toBe('W_UV up-projection');
    expect(q(el, '[data-frame-ok]').dataset.frameOk).toBe('true');
    expect(q(el, 'kl-heatmap[data-view="out"]')).toBeTruthy();
  });
});
