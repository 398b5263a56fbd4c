// The page's words for each ending run-control's classifyStop tells apart: Cancel, a lost device (its own
// words, or detected from device.lost), an ordinary failure.
import { describe, expect, it } from 'vitest';
import { DeviceLostError } from '../../gpu/errors.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import { LOST_DURING_RUN, runStopMessage } from './run-error.ts';

function session(kind: string, lost: boolean): Pick<GpuSession, 'state' | 'ctx'> {
  const device = { lost: lost ? Promise.resolve({ reason: 'unknown', message: '' }) : new Promise(() => {}) } as unknown as GPUDevice;
  return { state: { kind }, ctx: { device } } as unknown as Pick<GpuSession, 'state' | 'ctx'>;
}

const abort = () => new DOMException('mapAsync aborted', 'AbortError');
const signal = (aborted: boolean) => {
  const ac = new AbortController();
  if (aborted) ac.abort();
  return ac.signal;
};

describe('runStopMessage', () => {
  it('Cancel is cancelled', async () => {
    expect(await runStopMessage(abort(), signal(true), session('ready', false), 'Cancelled.')).toBe('Cancelled.');
  });

  it('an AbortError nobody asked for, on a device that is gone, is a lost device', async () => {
    expect(await runStopMessage(abort(), signal(false), session('ready', true), 'Cancelled.')).toBe(LOST_DURING_RUN);
    expect(await runStopMessage(new Error('anything'), signal(false), session('lost', true), 'Cancelled.')).toBe(LOST_DURING_RUN);
  });

  it('a DeviceLostError keeps its own words', async () => {
    expect(await runStopMessage(new DeviceLostError('the device was lost (reset)'), signal(false), session('ready', false), 'x')).toBe(
      'the device was lost (reset) — re-initialise the GPU above, then run again.',
    );
  });

  it('any other error is shown as itself, first line only', async () => {
    expect(await runStopMessage(new Error('S: 0 is below the minimum 1\nstack'), signal(false), session('ready', false), 'x')).toBe('S: 0 is below the minimum 1');
    expect(await runStopMessage(abort(), signal(false), session('ready', false), 'x')).toBe('mapAsync aborted');
  });
});
