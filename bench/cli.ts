// Shared CLI plumbing: every failure ends as one line on stderr and a non-zero exit, never a stack trace
// (KERNEL_LAB_DEBUG=1 prints the stack for bug reports).
import { readFileSync } from 'node:fs';
import { ArgError } from './args.ts';
import { describeError } from '../src/gpu/errors.ts';

export function toolVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

export function runtimeName(): string {
  return `node ${process.version} (${process.platform}-${process.arch})`;
}

/** Progress lines written without their newline yet (`[3/9] kernel shape ... `): an error first ends the line. */
export const progress = {
  open: false,
  start(text: string): void {
    process.stderr.write(text);
    this.open = true;
  },
  end(text: string): void {
    process.stderr.write(`${text}\n`);
    this.open = false;
  },
};

export async function runCli(main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (e) {
    const name = (e as Error)?.name;
    if (progress.open) progress.end('');
    const prefix = name === 'ArgError' || e instanceof ArgError ? 'bad arguments' : 'error';
    process.stderr.write(`${prefix}: ${describeError(e)}\n`);
    if (process.env.KERNEL_LAB_DEBUG) console.error(e);
    process.exitCode = e instanceof ArgError ? 2 : 1;
  }
  // Dawn keeps handles alive; leave once output is flushed.
  setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
}
