// `npm run memory` as a user runs it: exit codes, one-line refusals naming the flag, the DeepSeek-V3 and
// V3.2 figures (indexer keys included), a measurement too big for the device reported in one line after the
// table, and a measured allocation that equals the formula on this machine's adapter.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MODEL_PRESETS } from '../src/models/presets.ts';

const root = new URL('..', import.meta.url).pathname;

function memory(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './bench/wgsl-raw-hooks.mjs', 'bench/memory.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  // Drop the Vulkan loader's noise about drivers it probes before SwiftShader, and the adapter note.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l && !/XDG_RUNTIME_DIR|Vulkan shaderUniform|While initializing adapter|at InitializeImpl|^note: no GPU adapter/.test(l))
    .join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

describe('memory CLI', () => {
  const bad: [string[], RegExp][] = [
    [['--preset', 'gpt-5'], new RegExp(`^bad arguments: --preset must be one of ${MODEL_PRESETS.map((p) => p.id.replace('.', '\\.')).join(', ')}, got "gpt-5"$`)],
    [['--context', '0'], /^bad arguments: --context must be between 1 and 16777216, got 0$/],
    [['--context', '128k'], /^bad arguments: --context: "128k" is not an integer \(digits only, e\.g\. 8\)$/],
    [['--dtype', 'fp4'], /^bad arguments: --dtype must be one of f32, f16, bf16, fp8, got "fp4"$/],
    [['--batch', '2.5'], /^bad arguments: --batch: "2\.5" is not an integer \(digits only, e\.g\. 8\)$/],
    [['--measure-tokens'], /^bad arguments: --measure-tokens needs a value/],
    [['--contxt', '4096'], /^bad arguments: unknown flag --contxt \(flags: --preset, --context/],
    [['deepseek-v3'], /^bad arguments: unexpected argument "deepseek-v3"/],
  ];
  for (const [args, msg] of bad) {
    it(`refuses ${args.join(' ')} with one line and exit 2`, () => {
      const r = memory(args);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    });
  }

  it('DeepSeek-V3 at 131,072 tokens: MLA 70,272 vs MHA-equivalent 3,997,696 bytes/token, and the paper\'s 93.3% explained', () => {
    const r = memory(['--preset', 'deepseek-v3', '--context', '131072', '--no-measure']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('70,272 bytes/token against the MHA-equivalent 2·128·128·2·61 B = 3,997,696 bytes/token: 98.2% smaller.');
    expect(r.stdout).toContain('1 - 207,360 / 3,112,960 = 93.3%');
    expect(r.stdout).toMatch(/MHA \(equivalent\) +2·n_h·d_h·b = 2·128·128·2 +65,536 +61 +3,997,696 +131,072 +488 GiB/);
  });

  it('DeepSeek-V3.2 counts the DSA indexer keys: (1,152 + 132)·61 B per token with the bf16 latent, (656 + 132)·61 with the FP8 record', () => {
    const r = memory(['--preset', 'deepseek-v3.2', '--no-measure']);
    expect(r.code, r.stderr).toBe(0);
    const total = (b: number) => (b * 61).toLocaleString('en-US');
    expect(r.stdout).toMatch(new RegExp(`\\* MLA latent \\(bf16\\) \\+ DSA indexer +sum of the 2 below +1,284 +61 +${total(1152 + 132)} `));
    expect(r.stdout).toMatch(new RegExp(`\\+ DSA indexer key \\(FP8 \\+ scale\\) +d_i·1 \\+ ⌈d_i/128⌉·4 = 128·1 \\+ 1·4 +132 +61 +${total(132)} `));
    expect(r.stdout).toMatch(new RegExp(`  MLA FP8 record \\+ DSA indexer +sum of the 2 below +788 +61 +${total(656 + 132)} `));
    const fp8 = memory(['--preset', 'deepseek-v3.2', '--no-measure', '--json', '--mla-record', 'fp8']);
    const j = JSON.parse(fp8.stdout) as { rows: { name: string; native: boolean; totalBytes: number; groups: { layout: { kind: string } }[] }[] };
    const native = j.rows.filter((x) => x.native);
    expect(native.map((x) => x.name)).toEqual(['MLA FP8 record + DSA indexer']);
    expect(native[0]!.groups.map((g) => g.layout.kind)).toEqual(['mla-fp8', 'indexer']);
    expect(native[0]!.totalBytes).toBe((656 + 132) * 61 * 131072);
  });

  // Llama's MHA k at 65,536 f32 tokens is 1 GiB, the most one binding holds here and more than SwiftShader
  // allocates at once: the first allocation is refused, before anything is compiled or filled (a case that
  // fails later, after gigabytes, would compete for memory with the rest of the suite).
  it('a measurement the device cannot hold (f32, 65,536 tokens of Llama-3.1-8B) ends in one line and exit 1, after the formula table', () => {
    const r = memory(['--preset', 'llama-3.1-8b', '--dtype', 'f32', '--measure-tokens', '65536']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\* GQA \(n_kv = 8\) +2·n_kv·d_h·b = 2·8·128·4 +8,192 +32 +262,144 /);
    expect(r.stdout).not.toMatch(/validation|Invalid Buffer/);
    expect(r.stderr.split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^measurement: .+ at 65536 tokens does not fit this device: .+ \(the formula table needs no GPU; a smaller --measure-tokens fits\)$/);
  });

  it('--help lists every flag', () => {
    const r = memory(['--help']);
    expect(r.code).toBe(0);
    for (const f of ['--preset', '--context', '--dtype', '--batch', '--mla-record', '--measure-tokens', '--no-measure', '--no-instances', '--json']) expect(r.stdout).toContain(f);
  });

  it('--json gives the rows with their formulas', () => {
    const r = memory(['--preset', 'kimi-k2', '--context', '1000', '--batch', '3', '--dtype', 'fp8', '--no-measure', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: { name: string; groups: { formula: string }[]; bytesPerToken: number; totalBytes: number }[] };
    const mla = j.rows.find((x) => x.name === 'MLA')!;
    expect(mla.groups[0]!.formula).toBe('(d_c + d_rope)·b');
    expect(mla.bytesPerToken).toBe(576 * 61);
    expect(mla.totalBytes).toBe(576 * 61 * 1000 * 3);
  });

  it('measures Llama-3.1-8B\'s layouts on the device: allocation equals the formula, kernels built', () => {
    const r = memory(['--preset', 'llama-3.1-8b', '--context', '8192', '--dtype', 'f32', '--measure-tokens', '48']);
    expect(r.code, r.stderr).toBe(0);
    const measured = r.stdout.slice(r.stdout.indexOf('Measured on'));
    expect(measured).toMatch(/one layer, 48 tokens, f32 storage/);
    // GQA: 2 x 8 heads x 128 x 4 bytes x 48 tokens.
    expect(measured).toMatch(/GQA \(n_kv = 8\) +attention\.naive +k \+ v +393,216 +393,216 +yes +.*cache buffers 393,216 B/);
    expect(measured.match(/ yes /g)).toHaveLength(3);
  });
});
