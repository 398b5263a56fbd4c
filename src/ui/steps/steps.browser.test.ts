// The step-throughs on this browser's GPU: each traces its kernel's real intermediates on a structured case,
// every frame matches the float64 reference, the controls step / scrub / play through the frames, and
// nothing stays allocated.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuSession } from '../device/gpu-session.ts';
import { mount, q, settle, text, unmountAll } from '../testing.ts';
import { FlashSteps } from './flash-steps.ts';

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
