// `npm run verify -- FILE.safetensors ...`: run every registered kernel that implements each file's op on
// this machine's GPU, print max-abs and relative-L2 error per output, exit non-zero on any mismatch or bad file.
import { readFileSync, statSync } from 'node:fs';
import { ArgError, helpText, parseArgs } from './args.ts';
import { runCli } from './cli.ts';
import { acquireNodeGpu } from '../src/gpu/node.ts';
import { describeAdapter } from '../src/gpu/context.ts';
import { KERNELS } from '../src/kernels/registry.ts';
import { formatVerification, verifyGolden } from '../src/io/golden.ts';

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
  const files: { name: string; bytes?: Uint8Array; error?: string }[] = positionals.map((name) => {
    try {
      const size = statSync(name).size;
      if (size > MAX_FILE_BYTES) return { name, error: `${name}: ${size} bytes is over the ${MAX_FILE_BYTES}-byte limit for a golden file` };
      return { name, bytes: readFileSync(name) };
    } catch (e) {
      return { name, error: `${name}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
  });
  const ctx = await acquireNodeGpu();
  console.error(`adapter: ${describeAdapter(ctx.adapter)}`);
  let failed = 0;
  for (const f of files) {
    const v = f.bytes ? await verifyGolden(ctx, f.bytes, f.name, KERNELS) : { file: f.name, error: f.error, kernels: [], ok: false };
    if (!v.ok) failed++;
    if (!v.ok || !flags.quiet) console.log(formatVerification(v).join('\n'));
  }
  ctx.destroy();
  console.log(`\n${files.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
});
