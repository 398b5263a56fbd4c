// Why a GPU job stopped, as one line for the page: the user's Cancel, a lost device, or the error itself.
// A lost device must never read as "Cancelled": WebGPU rejects the job's pending read-backs with an
// AbortError, the same name an AbortController's cancel has, so only the job's own signal says "cancelled".
import { describeError, DeviceLostError } from '../../gpu/errors.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import { isCancel } from './progress.ts';

export const LOST_DURING_RUN = 'The GPU device was lost during the run: re-initialise the GPU above, then run again.';

export async function runStopMessage(e: unknown, signal: AbortSignal, session: GpuSession, cancelledText: string): Promise<string> {
  if (signal.aborted) return cancelledText;
  if (e instanceof DeviceLostError) return `${describeError(e)} — re-initialise the GPU above, then run again.`;
  if (session.state.kind === 'lost' || (isCancel(e) && (await session.deviceLost()))) return LOST_DURING_RUN;
  return describeError(e);
}
