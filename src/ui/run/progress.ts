// Progress of a long GPU job as the UI reports it: what runs now and how far along the whole job is.
export interface Progress {
  /** What is running now ("timing attention.flash_decode at S = 4096"). */
  label: string;
  done: number;
  total: number;
}

/** A cancel that GPU loops can check between dispatch batches (the runner's throwIfAborted does the same). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
}

export function isCancel(e: unknown): boolean {
  return (e as Error | undefined)?.name === 'AbortError';
}

/** Let the browser paint and handle input between GPU batches. */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
