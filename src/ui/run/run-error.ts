// Why a GPU job stopped, as one line for the page. The decision (cancelled, lost device, ordinary failure) is
// src/bench/run-control.ts's classifyStop; this adds the page's words and what to do next.
import { classifyStop } from '../../bench/run-control.ts';
import type { GpuSession } from '../device/gpu-session.ts';

export const LOST_DURING_RUN = 'The GPU device was lost during the run: re-initialise the GPU above, then run again.';

export async function runStopMessage(e: unknown, signal: AbortSignal, session: Pick<GpuSession, 'state' | 'ctx'>, cancelledText: string): Promise<string> {
  const stop = await classifyStop(e, { signal, device: session.ctx?.device, knownLost: session.state.kind === 'lost' });
  if (stop.kind === 'cancelled') return cancelledText;
  if (stop.kind === 'failed') return stop.message;
  return stop.detected ? LOST_DURING_RUN : `${stop.message} — re-initialise the GPU above, then run again.`;
}
