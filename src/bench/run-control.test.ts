// The three endings of a run: a cancel (only the run's own signal), the device's loss (a DeviceLostError, or
// any failure on a device whose `lost` settles), an ordinary failure (that item's error; a loop goes on).
import { describe, expect, it } from 'vitest';
import { ConfigError, DeviceLostError } from '../gpu/errors.ts';
import { classifyStop, forEachItem, guardLoss, lostWithin } from './run-control.ts';

/** A device whose loss we trigger by hand, after `lateMs` when given (device.lost settles late in browsers). */
function fakeCtx() {
  let lose!: () => void;
  let dead = false;
  const lost = new Promise<GPUDeviceLostInfo>((resolve) => (lose = () => resolve({ reason: 'unknown', message: 'reset' } as GPUDeviceLostInfo)));
  void lost.then(() => (dead = true));
  return {
    device: { lost } as GPUDevice,
    assertAlive() {
      if (dead) throw new DeviceLostError('the GPU device was lost: reset');
    },
    lose: (lateMs = 0) => setTimeout(lose, lateMs),
  };
}

const mapAborted = () => new DOMException('mapAsync aborted', 'AbortError');
const aborted = () => {
  const ac = new AbortController();
  ac.abort();
  return ac.signal;
};

describe('classifyStop', () => {
  it('cancelled only when the run\'s own signal is aborted', async () => {
    expect(await classifyStop(mapAborted(), { signal: aborted() })).toEqual({ kind: 'cancelled' });
    const ctx = fakeCtx();
    expect((await classifyStop(mapAborted(), { signal: new AbortController().signal, device: ctx.device, waitMs: 20 })).kind).toBe('failed');
  });

  it('an AbortError nobody asked for, on a device that is lost a moment later, is the loss', async () => {
    const ctx = fakeCtx();
    ctx.lose(30);
    expect(await classifyStop(mapAborted(), { signal: new AbortController().signal, device: ctx.device, waitMs: 500 })).toMatchObject({ kind: 'lost', detected: true });
  });

  it('a DeviceLostError keeps its words; a ConfigError never waits for a loss', async () => {
    expect(await classifyStop(new DeviceLostError('the device was lost (reset)'), {})).toEqual({ kind: 'lost', message: 'the device was lost (reset)', detected: false });
    const ctx = fakeCtx();
    ctx.lose(0);
    const refused = new ConfigError([{ field: 'S', message: '0 is below the minimum 1' }]);
    expect(await classifyStop(refused, { device: ctx.device })).toEqual({ kind: 'failed', message: 'S: 0 is below the minimum 1' });
  });

  it('an ordinary failure on a live device is itself, first line only', async () => {
    expect(await classifyStop(new Error('out of memory\nstack'), { device: fakeCtx().device, waitMs: 10 })).toEqual({ kind: 'failed', message: 'out of memory' });
  });
});

describe('guardLoss and lostWithin', () => {
  it('a failure while the device dies becomes DeviceLostError; on a live device the failure stands', async () => {
    const dying = fakeCtx();
    dying.lose(20);
    await expect(guardLoss(dying, Promise.reject(mapAborted()), 500)).rejects.toBeInstanceOf(DeviceLostError);
    await expect(guardLoss(fakeCtx(), Promise.reject(new Error('validation')), 10)).rejects.toThrow('validation');
    expect(await lostWithin(fakeCtx().device, 10)).toBe(false);
  });
});

describe('forEachItem', () => {
  it('an ordinary failure is that item\'s, and the loop goes on', async () => {
    const ran: number[] = [];
    const failed: string[] = [];
    await forEachItem(fakeCtx(), [1, 2, 3], async (n) => {
      if (n === 2) throw new Error('refused: over the limit');
      ran.push(n);
    }, { onFailure: (n, _i, m) => failed.push(`${n}: ${m}`), lossWaitMs: 10 });
    expect(ran).toEqual([1, 3]);
    expect(failed).toEqual(['2: refused: over the limit']);
  });

  it('a cancel ends the loop before the next item', async () => {
    const ac = new AbortController();
    const ran: number[] = [];
    const run = forEachItem(fakeCtx(), [1, 2, 3], async (n) => {
      ran.push(n);
      if (n === 1) ac.abort();
    }, { signal: ac.signal, onFailure: () => expect.unreachable() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(ran).toEqual([1]);
  });

  it('the device lost during an item ends the loop with DeviceLostError, not the item\'s error', async () => {
    const ctx = fakeCtx();
    const ran: number[] = [];
    const run = forEachItem(ctx, [1, 2, 3], async (n) => {
      ran.push(n);
      if (n === 2) {
        ctx.lose(20);
        throw mapAborted();
      }
    }, { onFailure: () => expect.unreachable(), lossWaitMs: 500 });
    await expect(run).rejects.toBeInstanceOf(DeviceLostError);
    expect(ran).toEqual([1, 2]);
  });
});
