// `npm run memory -- --preset deepseek-v3 --context 131072 [--dtype bf16] [--batch N]`: the KV cache of a
// real model per cache layout (formula, bytes per token, total at the context, ratio to MHA; each kind of
// layer and DeepSeek-V3.2's indexer keys on their own lines), printed before any GPU work, then the bytes
// this project's kernels actually allocate for each layout on this machine's GPU at a scaled-down size.
// A size the device refuses ends the run with one line and exit 1, the table already on screen.
import { ArgError, helpText, parseArgs } from './args.ts';
import { runCli } from './cli.ts';
import { acquireNodeGpu } from '../src/gpu/node.ts';
import { describeAdapter } from '../src/gpu/context.ts';
import { describeError, GpuMemoryError } from '../src/gpu/errors.ts';
import { CACHE_DTYPES, MLA_RECORDS, modelCacheRows, type CacheDType, type MlaRecord } from '../src/memory/kv-cache.ts';
import { fitTokens, measureModelCaches, type StorageDType } from '../src/memory/measured.ts';
import { int, measuredTable, memoryReport, type MeasuredSection } from '../src/memory/report.ts';
import { findPreset, MODEL_PRESETS, type ModelPreset } from '../src/models/presets.ts';

const SPEC = {
  preset: { type: 'enum', help: 'model whose cache to size', values: MODEL_PRESETS.map((p) => p.id), default: 'deepseek-v3' },
  context: { type: 'int', help: 'tokens of context per sequence', default: 131072, min: 1, max: 1 << 24 },
  dtype: { type: 'enum', help: 'cache element type', values: CACHE_DTYPES, default: 'bf16' },
  batch: { type: 'int', help: 'sequences cached at once', default: 1, min: 1, max: 1 << 20 },
  'mla-record': { type: 'enum', help: 'DSA models: the MLA cache in use, the latent at --dtype or FlashMLA\'s 656-byte FP8 record', values: MLA_RECORDS, default: 'latent' },
  'measure-tokens': { type: 'int', help: 'tokens of the one-layer cache allocated on the device (lowered to fit its limits)', default: 1024, min: 1, max: 1 << 20 },
  'no-measure': { type: 'bool', help: 'formulas only; do not open the GPU' },
  'no-instances': { type: 'bool', help: 'allocate the cache tensors only, do not build the kernels (no shader compilation)' },
  json: { type: 'bool', help: 'print the rows and measurements as JSON instead of tables' },
} as const;

const USAGE =
  'usage: npm run memory -- [flags]\nKV-cache bytes per token and in total for a model, per cache layout (MHA, GQA, MQA, MLA and DeepSeek-V3.2\'s\nFP8 record and indexer keys, windowed and global layers), and the bytes the kernels of this project allocate for each layout on this GPU.';

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
  const query = { dtype: flags.dtype as CacheDType, context: flags.context!, batch: flags.batch!, record: flags['mla-record'] as MlaRecord };
  // The formulas need no GPU: print them before the device is opened, so a measurement that fails leaves them on screen.
  if (!flags.json) console.log(memoryReport(preset, query).join('\n'));

  let measured: MeasuredSection | undefined;
  let failure: string | undefined;
  if (!flags['no-measure']) {
    try {
      measured = await measure(preset, query.dtype, query.context, flags['measure-tokens']!, !flags['no-instances']);
    } catch (e) {
      if (!(e instanceof GpuMemoryError)) throw e;
      failure = `measurement: ${describeError(e)} (the formula table needs no GPU; a smaller --measure-tokens fits)`;
    }
  }

  if (flags.json) {
    console.log(JSON.stringify({ preset: preset.id, query, rows: modelCacheRows(preset, query, query.record), measured, measureError: failure }, null, 2));
  } else if (measured) {
    console.log(['', ...measuredTable(measured)].join('\n'));
  }
  if (failure) {
    console.error(failure);
    return 1;
  }
  return measured?.results.some((r) => r.allocatedBytes !== r.formulaBytes) ? 1 : 0;
});

/** The bytes this project's kernels allocate per cache layout, one layer at `measureTokens` (lowered to fit a binding). */
async function measure(preset: ModelPreset, dtype: CacheDType, context: number, measureTokens: number, createInstances: boolean): Promise<MeasuredSection> {
  const storage = storageFor(dtype);
  const notes: string[] = [];
  if (dtype === 'bf16') notes.push('bf16 is measured as this project\'s f16 storage: the same 2 bytes per element.');
  const ctx = await acquireNodeGpu();
  try {
    const adapter = describeAdapter(ctx.adapter);
    if (!storage) {
      return { adapter, results: [], notes: ['fp8: this project\'s kernels have no 8-bit storage, so there is nothing to allocate; the formula rows above are analytic.'] };
    }
    const a = preset.arch;
    const tokens = Math.min(measureTokens, context, fitTokens(preset, storage, ctx.limits));
    if (tokens < measureTokens) notes.push(`scaled to ${int(tokens)} tokens (the context, or the most one storage binding of this device holds)`);
    if (a.slidingWindow) notes.push('windowed layers: the attention kernels here keep all S keys and mask (no rolling buffer), so the window rows are formula only.');
    if (a.dsa) notes.push('DSA: the FP8 record and the indexer keys have no 8-bit storage here; they are formula only (the indexer kernel keeps its keys in f32/f16).');
    if (storage === 'f16' && !ctx.features.f16) notes.push('this adapter has no shader-f16: the f16 kernels cannot be built, only their cache tensors are allocated.');
    const results = await measureModelCaches(ctx, preset, { tokens, storage, createInstances });
    if (results.some((r) => r.allocatedBytes !== r.formulaBytes)) notes.push('MISMATCH: an allocation differs from its formula.');
    return { adapter, results, notes };
  } finally {
    ctx.destroy();
  }
}
