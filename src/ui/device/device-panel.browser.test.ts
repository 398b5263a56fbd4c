// <kl-device-panel>, <kl-device-lost-notice>, <kl-no-webgpu-notice> on a real GPU session (SwiftShader
// here): adapter, features and limits as the device reports them, live GPU bytes following the buffer
// tracker, and the lost -> re-initialise -> ready cycle.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mount, q, qa, settle, text, unmountAll, until } from '../testing.ts';
import { fmtBytes } from '../run/display-number.ts';
import { GpuSession } from './gpu-session.ts';
import { DevicePanel } from './device-panel.ts';
import { isCpuEmulation } from '../../gpu/context.ts';
import { DeviceLostNotice } from './device-lost-notice.ts';
import { NoWebGpuNotice } from './no-webgpu-notice.ts';

let session: GpuSession;
beforeAll(async () => {
  session = new GpuSession();
  await session.start();
});
afterAll(() => session.ctx?.destroy());
afterEach(unmountAll);

async function panel(): Promise<DevicePanel> {
  const p = new DevicePanel();
  p.session = session;
  return mount(p);
}

describe('<kl-device-panel>', () => {
  it('shows the adapter, its optional features and its limits', async () => {
    expect(session.state.kind).toBe('ready');
    const ctx = session.ctx!;
    const p = await panel();
    const adapter = text(q(p, '[data-device="adapter"]'));
    for (const part of [ctx.adapter.vendor, ctx.adapter.architecture].filter(Boolean)) expect(adapter).toContain(part);
    const features = Object.fromEntries(qa(p, '[data-feature]').map((b) => [b.dataset.feature, b.classList.contains('ok')]));
    expect(features).toEqual({ f16: ctx.features.f16, subgroups: ctx.features.subgroups, timestamps: ctx.features.timestamps });
    const rows = qa(p, 'details table tr').map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()));
    expect(rows).toContainEqual(['maxStorageBufferBindingSize', fmtBytes(ctx.limits.maxStorageBufferBindingSize)]);
    expect(rows).toContainEqual(['maxComputeInvocationsPerWorkgroup', ctx.limits.maxComputeInvocationsPerWorkgroup.toLocaleString('en-US')]);
  });

  it('labels CPU emulation and says what its numbers mean (nothing of the kind on a GPU)', async () => {
    const p = await panel();
    const badge = p.shadowRoot!.querySelector('[data-device="emulation"]');
    const note = p.shadowRoot!.querySelector('[data-device="emulation-note"]');
    if (isCpuEmulation(session.ctx!)) {
      expect(text(badge!)).toBe(/swiftshader/i.test(JSON.stringify(session.ctx!.adapter)) ? 'CPU emulation (SwiftShader)' : 'CPU emulation (a software rasteriser)');
      expect(text(note!)).toContain('No GPU is doing this work');
      expect(text(note!)).toContain('Only ratios measured in one run mean something');
    } else {
      expect([badge, note]).toEqual([null, null]);
    }
  });

    it('follows the live GPU bytes of the buffer tracker', async () => {
    const p = await panel();
    const live = () => text(q(p, '[data-device="live-bytes"]'));
    const before = session.ctx!.buffers.liveBytes;
    const buf = session.ctx!.buffers.storage('panel test', 3 * 1024 * 1024);
    await until(() => live() === fmtBytes(before + 3 * 1024 * 1024), 'the panel to show the new buffer');
    expect(text(p)).toContain(`in ${session.ctx!.buffers.liveCount} buffers`);
    session.ctx!.buffers.destroy(buf);
    await until(() => live() === fmtBytes(before), 'the panel to drop the freed buffer');
  });

  it('shows a measured roofline once there is one', async () => {
    session.roofline = {
      value: { copyGBps: 12.5, fmaGflops: 340, copyBytes: 1, fmaFlops: 1, copyMedianMs: 1, fmaMedianMs: 1, method: 'gpu-timestamps' },
      measuredAt: new Date().toISOString(),
    };
    try {
      const p = await panel();
      expect(text(q(p, '[data-device="roofline"]'))).toBe('copy 12.5 GB/s · FMA 340 GFLOP/s');
      expect(text(q(p, 'button'))).toBe('Measure again');
    } finally {
      session.roofline = undefined;
    }
  });
});

describe('device loss', () => {
  it('the notice names the loss, the panel says so, and re-initialising brings a working device back', async () => {
    const notice = new DeviceLostNotice();
    notice.session = session;
    await mount(notice);
    const p = await panel();
    expect(notice.shadowRoot!.querySelector('[data-device="lost"]')).toBeNull();
    const old = session.ctx!;
    session.loseDevice();
    await until(() => session.state.kind === 'lost', 'the session to see the loss');
    await settle(notice);
    await settle(p);
    const alert = q(notice, '[data-device="lost"]');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(text(alert)).toContain('The GPU device was lost: it was destroyed.');
    expect(text(q(p, '.badge.bad'))).toBe('device lost');
    expect(await session.deviceLost()).toBe(true);

    q<HTMLButtonElement>(notice, 'button[data-action="reinitialise"]').click();
    await until(() => session.state.kind === 'ready', 'a new device');
    await settle(notice);
    expect(notice.shadowRoot!.querySelector('[data-device="lost"]')).toBeNull();
    expect(session.ctx).not.toBe(old);
    expect(await session.deviceLost(50)).toBe(false);
    // The new device computes.
    const b = session.ctx!.buffers.storage('after re-init', 16);
    session.ctx!.device.queue.writeBuffer(b, 0, new Float32Array([1, 2, 3, 4]));
    const back = await session.ctx!.buffers.read(b, 16);
    expect([...new Float32Array(back)]).toEqual([1, 2, 3, 4]);
    session.ctx!.buffers.destroy(b);
  });
});

describe('<kl-no-webgpu-notice>', () => {
  it('says what is missing and how to get WebGPU', async () => {
    const n = new NoWebGpuNotice();
    n.message = 'navigator.gpu found no adapter.';
    await mount(n);
    const box = q(n, '[data-device="no-webgpu"]');
    expect(box.getAttribute('role')).toBe('alert');
    expect(text(box)).toContain('What is missing: navigator.gpu found no adapter.');
    expect(text(box)).toContain('--enable-unsafe-webgpu');
    expect(qa(n, 'a').map((a) => a.getAttribute('href'))).toEqual(['#/mla', '#/benchmarks']);
  });
});
