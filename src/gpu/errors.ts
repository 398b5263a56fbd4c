// Errors a user can act on. Every front door (CLI, UI, tests) prints `message` as is: one line that names
// what is wrong and the limit, never a stack trace.

/** No WebGPU at all: wrong browser, missing flag, no driver. */
export class NoWebGpuError extends Error {
  override name = 'NoWebGpuError';
}

/** The device went away (driver reset, `device.destroy()`, tab backgrounded too long). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** A config or file was refused before anything ran. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: readonly { field: string; message: string }[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

/** Allocation refused by the device (out-of-memory error scope) or by a limit. */
export class GpuMemoryError extends Error {
  override name = 'GpuMemoryError';
}

/** One line for the user, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const line = err.message.split('\n')[0]?.trim();
    // Some WebGPU rejections (a pipeline or read-back cut short by a lost device) carry no message.
    return line || `${err.name || 'Error'} (no message from the WebGPU implementation)`;
  }
  return String(err);
}
