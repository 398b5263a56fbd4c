// window.__kernelLab: a small handle for debugging in the console and for the end-to-end test — force a
// device loss (as a driver reset would), and read the live GPU bytes and the session state.
import type { GpuSession } from './device/gpu-session.ts';

export interface KernelLabHook {
  loseDevice(): void;
  state(): string;
  liveBytes(): number | undefined;
}

declare global {
  interface Window {
    __kernelLab?: KernelLabHook;
  }
}

export function installDebugHook(session: GpuSession): void {
  window.__kernelLab = {
    loseDevice: () => session.loseDevice(),
    state: () => session.state.kind,
    liveBytes: () => session.ctx?.buffers.liveBytes,
  };
}
