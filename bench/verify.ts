// `npm run verify -- FILE.safetensors ...`: run every registered kernel that implements each file's op on
// this machine's GPU, print max-abs and relative-L2 error per output, exit non-zero on any mismatch or bad file.
// Files are read and checked one at a time (never all held at once); a file that is not a regular file,
// or is malformed, fails on its own line before the GPU is even started for it.
import { ArgError, helpText, parseArgs } from './args.ts';
import { runCli } from './cli.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { describeError } from '../src/gpu/errors.ts';
import type { GoldenVerification } from '../src/io/golden.ts';
import { readSafetensorsFile } from '../src/io/node-files.ts';
import { printable } from '../src/io/printable.ts';

const SPEC = {
  quiet: { type: 'bool', help: 'print only failing files' },
} as const;

/** Refuse files larger than this before reading them (golden cases are small). */
const MAX_FILE_BYTES = 1 << 30;

await runCli(async () => {
  const { flags, positionals, help } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    console.log(helpText('usage: npm run verify -- FILE.safetensors [FILE ...]\nChecks golden cases (format: docs/design.md) against every kernel that implements their op.', SPEC));
    return 0;
  }
  if (positionals.length === 0) throw new ArgError('give one or more .safetensors files (npm run verify -- case.safetensors)');
  let ctx: GpuContext | undefined;
  // The kernels and Dawn load only once a file has parsed: a wrong path fails in the time it takes to stat it.
  let lib: Awaited<ReturnType<typeof loadKernels>> | undefined;
  let failed = 0;
  try {
    for (const name of positionals) {
      let v: GoldenVerification;
      try {
        const parsed = readSafetensorsFile(name, MAX_FILE_BYTES);
        lib ??= await loadKernels();
        const { KERNELS, candidatesFor, verifyParsed, acquireNodeGpu, describeAdapter } = lib;
        const pick = candidatesFor(parsed, name, KERNELS);
        if (pick.error) v = { file: name, op: pick.op, error: pick.error, kernels: [], ok: false };
        else {
          // The GPU starts only once a file is worth running.
          if (!ctx) {
            ctx = await acquireNodeGpu();
            console.error(`adapter: ${describeAdapter(ctx.adapter)}`);
          }
          v = await verifyParsed(ctx, parsed, name, KERNELS);
        }
      } catch (e) {
        if ((e as Error)?.name !== 'SafetensorsError') throw e;
        v = { file: name, error: describeError(e), kernels: [], ok: false };
      }
      if (!v.ok) failed++;
      if (!v.ok || !flags.quiet) console.log(lib ? lib.formatVerification(v).join('\n') : `FAIL ${printable(v.error ?? v.file)}`);
    }
  } finally {
    ctx?.destroy();
  }
  console.log(`\n${positionals.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
});

async function loadKernels() {
  const [registry, golden, node, context] = await Promise.all([
    import('../src/kernels/registry.ts'),
    import('../src/io/golden.ts'),
    import('../src/gpu/node.ts'),
    import('../src/gpu/context.ts'),
  ]);
  return { KERNELS: registry.KERNELS, ...golden, acquireNodeGpu: node.acquireNodeGpu, describeAdapter: context.describeAdapter };
}
