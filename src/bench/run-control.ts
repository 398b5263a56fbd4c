// Running GPU work and saying why it stopped, for every front door (the CLI, the suite, the studies, the UI's
// pages and sweeps). Three endings look alike from the outside and must not be confused:
//   - cancelled: only the run's own AbortSignal says so. WebGPU also rejects a pending mapAsync with an
//     AbortError when the device is lost, so the error's name alone never means "cancelled";
//   - the device was lost: a DeviceLostError, or any failure on a device whose `lost` promise settles. It
//     settles asynchronously, often a moment after the failure it caused, so we wait for it briefly;
//   - an ordinary failure (a refused shape, an out-of-memory scope): that item's error; a loop goes on.
import type { GpuContext } from '../gpu/context.ts';
import { ConfigError, describeError, DeviceLostError } from '../gpu/errors.ts';

/** How long a failure waits for device.lost to settle before it is taken for an ordinary failure. */
export const LOSS_WAIT_MS = 1000;

export function cancelledError(): DOMException {
  return new DOMException('cancelled', 'AbortError');
}

/** Cancel points: between batches, points, jobs. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

export function isAbortError(e: unknown): boolean {
  return (e as Error | undefined)?.name === 'AbortError';
}

/** True if `device.lost` settles within `waitMs`. */
export async function lostWithin(device: Pick<GPUDevice, 'lost'>, waitMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
  try {
    return await Promise.race([device.lost.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Await GPU work; if the device died meanwhile, throw DeviceLostError instead of the driver's message. */
export async function guardLoss<T>(ctx: Pick<GpuContext, 'device' | 'assertAlive'>, p: Promise<T>, waitMs = LOSS_WAIT_MS): Promise<T> {
  try {
    const v = await p;
    ctx.assertAlive();
    return v;
  } catch (e) {
    // A refused config never comes from the device. (An AbortError may: a cancel also waits below.)
    if (e instanceof DeviceLostError || e instanceof ConfigError) throw e;
    await lostWithin(ctx.device, waitMs);
    ctx.assertAlive();
    throw e;
  }
}

export type Stop =
  | { kind: 'cancelled' }
  /** `detected`: the failure carried no word of the loss; device.lost said so. */
  | { kind: 'lost'; message: string; detected: boolean }
  | { kind: 'failed'; message: string };

export interface StopContext {
  /** The run's own signal: the only source of "cancelled". */
  signal?: AbortSignal;
  /** The device the run used, if it had one. */
  device?: Pick<GPUDevice, 'lost'>;
  /** Already known to be lost (the UI's session saw device.lost settle). */
  knownLost?: boolean;
  waitMs?: number;
}

/** Why `e` ended a run. */
export async function classifyStop(e: unknown, c: StopContext): Promise<Stop> {
  if (c.signal?.aborted) return { kind: 'cancelled' };
  if (e instanceof DeviceLostError) return { kind: 'lost', message: describeError(e), detected: false };
  if (e instanceof ConfigError) return { kind: 'failed', message: describeError(e) };
  if (c.knownLost || (c.device && (await lostWithin(c.device, c.waitMs ?? 300)))) return { kind: 'lost', message: 'the GPU device was lost during the run', detected: true };
  return { kind: 'failed', message: describeError(e) };
}

/** Inside a loop over items: a cancel or a lost device ends the whole run, anything else only this item. */
export function endsRun(e: unknown): boolean {
  return e instanceof DeviceLostError || isAbortError(e);
}

/**
 * Run `work` for each item in order on `ctx`: each under guardLoss (a failure while the device dies is the
 * loss), a cancel checked before each item. An item's ordinary failure goes to `onFailure` (one line) and the
 * loop goes on; a cancel or the loss is thrown.
 */
export async function forEachItem<T>(
  ctx: Pick<GpuContext, 'device' | 'assertAlive'>,
  items: readonly T[],
  work: (item: T, index: number) => Promise<void>,
  o: { signal?: AbortSignal; onFailure: (item: T, index: number, message: string) => void; lossWaitMs?: number },
): Promise<void> {
  for (const [index, item] of items.entries()) {
    throwIfCancelled(o.signal);
    try {
      await guardLoss(ctx, work(item, index), o.lossWaitMs);
    } catch (e) {
      if (endsRun(e)) throw e;
      o.onFailure(item, index, describeError(e));
    }
  }
}
