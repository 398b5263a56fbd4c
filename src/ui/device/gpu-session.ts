// The app's one GPU device and everything tied to its life: acquisition (or the reason there is none),
// loss and re-initialisation, the measured roofline (run once per adapter and reused), and a queue that
// runs GPU jobs one at a time so two pages never interleave their dispatches or timings.
import { acquireBrowserGpu } from '../../gpu/browser.ts';
import { describeAdapter, type DeviceCaps, type GpuContext } from '../../gpu/context.ts';
import { describeError, DeviceLostError, NoWebGpuError } from '../../gpu/errors.ts';
import { measureRoofline, type Roofline } from '../../bench/roofline.ts';
import { lostWithin } from '../../bench/run-control.ts';
import { RooflineSchema } from '../../bench/result-schema.ts';
import { WEBGPU_DEFAULT_CAPS } from './default-caps.ts';

export type SessionState =
  | { kind: 'starting' }
  | { kind: 'ready'; ctx: GpuContext }
  /** No WebGPU in this browser (or no adapter): the analytic views still work. */
  | { kind: 'none'; message: string }
  | { kind: 'lost'; message: string }
  | { kind: 'failed'; message: string };

const ROOFLINE_KEY = 'kernel-lab:roofline:';

export class GpuSession extends EventTarget {
  state: SessionState = { kind: 'starting' };
  /** The roofline of the current adapter once measured (or restored from this browser's storage). */
  roofline: { value: Roofline; measuredAt: string } | undefined;
  /** Label of the GPU job running now, if any. */
  busy: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #rooflineJob: Promise<Roofline> | undefined;
  #starting: Promise<void> | undefined;

  get ctx(): GpuContext | undefined {
    return this.state.kind === 'ready' ? this.state.ctx : undefined;
  }

  /** Limits and features for validation: the device's, or the WebGPU defaults when there is none yet. */
  get caps(): DeviceCaps {
    return this.ctx ?? WEBGPU_DEFAULT_CAPS;
  }

  #set(state: SessionState) {
    this.state = state;
    this.dispatchEvent(new Event('change'));
  }

  start(): Promise<void> {
    this.#starting ??= this.#acquire().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #acquire(): Promise<void> {
    this.#set({ kind: 'starting' });
    try {
      const ctx = await acquireBrowserGpu();
      this.#watchLoss(ctx);
      this.roofline = this.#restoreRoofline(ctx);
      this.#set({ kind: 'ready', ctx });
    } catch (e) {
      this.#set(e instanceof NoWebGpuError ? { kind: 'none', message: describeError(e) } : { kind: 'failed', message: describeError(e) });
    }
  }

  #watchLoss(ctx: GpuContext) {
    void ctx.device.lost.then((info) => {
      if (this.ctx !== ctx) return; // an old device we replaced on purpose
      const why = info.reason === 'destroyed' ? 'it was destroyed' : info.message.split('\n')[0] || 'no reason given';
      this.#set({ kind: 'lost', message: `The GPU device was lost: ${why}.` });
    });
  }

  /** Drop the current device (if any) and acquire a fresh one; pages can run again once it is ready. */
  async reinitialise(): Promise<void> {
    const old = this.ctx;
    // A job stuck on the dead device must not hold up the new one's queue.
    this.#queue = Promise.resolve();
    this.#set({ kind: 'starting' });
    old?.destroy();
    await this.start();
  }

  /** Debug hook (and the e2e test): destroy the device as a driver reset would. */
  loseDevice(): void {
    this.ctx?.device.destroy();
  }

  /**
   * Whether the device is gone. WebGPU rejects a pending read-back on a lost device with an AbortError (the
   * same name a Cancel has), and device.lost may settle a moment after that, so wait for it briefly.
   */
  async deviceLost(waitMs = 300): Promise<boolean> {
    if (this.state.kind === 'lost') return true;
    const ctx = this.ctx;
    return ctx ? lostWithin(ctx.device, waitMs) : false;
  }

  /** The device, or an error a page can show as is. */
  requireCtx(): GpuContext {
    const s = this.state;
    if (s.kind === 'ready') return s.ctx;
    if (s.kind === 'lost') throw new DeviceLostError(s.message);
    if (s.kind === 'none' || s.kind === 'failed') throw new NoWebGpuError(s.message);
    throw new NoWebGpuError('the GPU is still starting');
  }

  /** Run GPU work after every job queued before it; `label` is shown while it runs. */
  exclusive<T>(label: string, job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      this.busy = label;
      this.dispatchEvent(new Event('busy'));
      try {
        return await job();
      } finally {
        this.busy = undefined;
        this.dispatchEvent(new Event('busy'));
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The measured roofline, measuring it on first use (callers already inside exclusive()). */
  async ensureRoofline(): Promise<Roofline> {
    if (this.roofline) return this.roofline.value;
    const ctx = this.requireCtx();
    this.#rooflineJob ??= measureRoofline(ctx).finally(() => (this.#rooflineJob = undefined));
    const value = await this.#rooflineJob;
    this.#storeRoofline(ctx, value);
    return value;
  }

  /** Measure again (the panel's button), queued like any GPU job. */
  remeasureRoofline(): Promise<Roofline> {
    return this.exclusive('measuring the roofline', async () => {
      this.roofline = undefined;
      return this.ensureRoofline();
    });
  }

  #storeRoofline(ctx: GpuContext, value: Roofline) {
    this.roofline = { value, measuredAt: new Date().toISOString() };
    try {
      localStorage.setItem(ROOFLINE_KEY + describeAdapter(ctx.adapter), JSON.stringify(this.roofline));
    } catch {
      // storage can be disabled (private mode): the value still lives for this session
    }
    this.dispatchEvent(new Event('roofline'));
  }

  #restoreRoofline(ctx: GpuContext): GpuSession['roofline'] {
    try {
      const raw = localStorage.getItem(ROOFLINE_KEY + describeAdapter(ctx.adapter));
      if (!raw) return undefined;
      const parsed = JSON.parse(raw) as { value?: unknown; measuredAt?: unknown };
      const value = RooflineSchema.safeParse(parsed.value);
      return value.success && typeof parsed.measuredAt === 'string' ? { value: value.data, measuredAt: parsed.measuredAt } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The app's session (components take it as a property so tests can pass their own). */
export const appSession = new GpuSession();
