// `npm run memory -- --preset deepseek-v3 --context 131072 [--dtype bf16] [--batch N]`: the KV cache of a
// real model per cache layout (formula, bytes per token, total at the context, ratio to MHA), then the bytes
// this project's kernels actually allocate for each layout on this machine's GPU at a scaled-down size.
import { ArgError, helpText, parseArgs } from './args.ts';
import { runCli } from './cli.ts';
import { acquireNodeGpu } from '../src/gpu/node.ts';
import { describeAdapter } from '../src/gpu/context.ts';
import { CACHE_DTYPES, type CacheDType } from '../src/memory/kv-cache.ts';
import { measureModelCaches, type StorageDType } from '../src/memory/measured.ts';
import { int, memoryReport, type MeasuredSection } from '../src/memory/report.ts';
import { findPreset, MODEL_PRESETS } from '../src/models/presets.ts';
import { modelCacheRows } from '../src/memory/kv-cache.ts';

const SPEC = {
  preset: { type: 'enum', help: 'model whose cache to size', values: MODEL_PRESETS.map((p) => p.id), default: 'deepseek-v3' },
  context: { type: 'int', help: 'tokens of context per sequence', default: 131072, min: 1, max: 1 << 24 },
  dtype: { type: 'enum', help: 'cache element type', values: CACHE_DTYPES, default: 'bf16' },
  batch: { type: 'int', help: 'sequences cached at once', default: 1, min: 1, max: 1 << 20 },
  'measure-tokens': { type: 'int', help: 'tokens of the one-layer cache allocated on the device (lowered to fit its limits)', default: 1024, min: 1, max: 1 << 20 },
  'no-measure': { type: 'bool', help: 'formulas only; do not open the GPU' },
  'no-instances': { type: 'bool', help: 'allocate the cache tensors only, do not build the kernels (no shader compilation)' },
  json: { type: 'bool', help: 'print the rows and measurements as JSON instead of tables' },
} as const;

const USAGE =
  'usage: npm run memory -- [flags]\nKV-cache bytes per token and in total for a model, per cache layout (MHA, GQA, MQA, MLA, sliding window),\nand the bytes the kernels of this project allocate for each layout on this GPU.';

/** bf16 has the size of f16, the 16-bit storage this project's kernels have; fp8 has no kernel here. */
function storageFor(dtype: CacheDType): StorageDType | undefined {
  return dtype === 'f32' ? 'f32' : dtype === 'fp8' ? undefined : 'f16';
}

await runCli(async () => {
  const { flags, help, positionals } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    console.log(helpText(USAGE, SPEC));
    return 0;
  }
  if (positionals.length) throw new ArgError(`unexpected argument "${positionals[0]}" (this command takes flags only; see --help)`);
  const preset = findPreset(flags.preset!)!;
  const query = { dtype: flags.dtype as CacheDType, context: flags.context!, batch: flags.batch! };

  let measured: MeasuredSection | undefined;
  if (!flags['no-measure']) {
    const storage = storageFor(query.dtype);
    const notes: string[] = [];
    if (query.dtype === 'bf16') notes.push('bf16 is measured as this project\'s f16 storage: the same 2 bytes per element.');
    const ctx = await acquireNodeGpu();
    try {
      const adapter = describeAdapter(ctx.adapter);
      if (!storage) {
        measured = { adapter, results: [], notes: ['fp8: this project\'s kernels have no 8-bit storage, so there is nothing to allocate; the formula rows above are analytic.'] };
      } else {
        // Largest per-token buffer among the measured layouts: MHA's k (or v), or the naive MLA's expanded K/V.
        const a = preset.arch;
        const perToken = Math.max(a.heads * a.headDim * (storage === 'f32' ? 4 : 2), a.mla ? a.heads * (a.mla.qkNopeHeadDim + a.mla.vHeadDim) * 4 : 0);
        const fit = Math.floor(Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize) / perToken);
        const tokens = Math.min(flags['measure-tokens']!, query.context, fit);
        if (tokens < flags['measure-tokens']!) notes.push(`scaled to ${int(tokens)} tokens (the context, or the most one storage binding of this device holds)`);
        if (a.slidingWindow) notes.push(`sliding window: the attention kernels here keep all S keys and mask (no rolling buffer), so the window row is formula only.`);
        if (storage === 'f16' && !ctx.features.f16) notes.push('this adapter has no shader-f16: the f16 kernels cannot be built, only their cache tensors are allocated.');
        const results = await measureModelCaches(ctx, preset, { tokens, storage, createInstances: !flags['no-instances'] });
        if (results.some((r) => r.allocatedBytes !== r.formulaBytes)) notes.push('MISMATCH: an allocation differs from its formula.');
        measured = { adapter, results, notes };
      }
    } finally {
      ctx.destroy();
    }
  }

  if (flags.json) {
    console.log(JSON.stringify({ preset: preset.id, query, rows: modelCacheRows(preset, query), measured }, null, 2));
  } else {
    console.log(memoryReport(preset, query, measured).join('\n'));
  }
  return measured?.results.some((r) => r.allocatedBytes !== r.formulaBytes) ? 1 : 0;
});
