// The CLIs as a user runs them: real processes, exit codes, one-line errors, JSON that validates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultFile } from '../src/bench/result-schema.ts';
import { fakeResultFile } from '../src/bench/result-fixture.ts';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kernel-lab-cli-'));

function run(script: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './bench/wgsl-raw-hooks.mjs', `bench/${script}.ts`, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, ...env },
  });
  // Drop the Vulkan loader's noise about drivers it probes before SwiftShader.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l && !/XDG_RUNTIME_DIR|Vulkan shaderUniform|While initializing adapter|at InitializeImpl/.test(l))
    .join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

describe('bench CLI', () => {
  const bad: [string[], RegExp][] = [
    [['--repeats', '0'], /^bad arguments: --repeats must be between 1 and 10000, got 0$/],
    [['--repeats', 'many'], /--repeats: "many" is not an integer/],
    [['--kernels', 'attention.magic'], /--kernels: unknown kernel or family "attention.magic"/],
    [['--frobnicate'], /unknown flag --frobnicate/],
    [['--set', 'Q=3'], /--set: no kernel has a field "Q"/],
    [['--json'], /--json needs a value/],
    [['--repeats', '0x2'], /--repeats: "0x2" is not an integer/],
    [['--json', '/nonexistent/x.json'], /--json: cannot write \/nonexistent\/x.json: its directory \/nonexistent does not exist/],
    [['--json', '/dev/full'], /--json: \/dev\/full is a character device/],
    [['--', 'attention.flash_decode'], /unexpected argument "attention.flash_decode"/],
  ];
  for (const [args, msg] of bad) {
    it(`refuses ${args.join(' ')} with one line and exit 2`, () => {
      const r = run('bench', args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(msg);
    });
  }

  it('an impossible config is refused per shape, naming the field and the limit', () => {
    const r = run('bench', ['--kernels', 'attention.naive', '--shapes', 'decode', '--set', 'Hq=6,Hkv=4', '--repeats', '1']);
    expect(r.stdout).toMatch(/Hq: 6 is not a multiple of Hkv = 4/);
    expect(r.stderr).toMatch(/nothing was measured/);
    expect(r.code).toBe(1);
  });

  it('runs a small shape and writes a result file that validates against the schema', () => {
    const out = join(dir, 'r.json');
    const r = run('bench', ['--kernels', 'attention.naive', '--shapes', 'decode', '--set', 'S=96,Hq=4,Hkv=2,D=16', '--repeats', '2', '--warmup', '0', '--json', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/median ms/);
    expect(r.stdout).toMatch(/attention\.naive .* ok/);
    const parsed = parseResultFile(readFileSync(out, 'utf8'));
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    if (parsed.ok) {
      expect(parsed.file.results).toHaveLength(1);
      const res = parsed.file.results[0]!;
      expect(res.config.S).toBe(96);
      expect(res.medianMs).toBeGreaterThan(0);
      expect(res.gbps).toBeGreaterThan(0);
      expect(res.verification.ok).toBe(true);
      expect(parsed.file.roofline.copyGBps).toBeGreaterThan(0);
    }
  });
});

describe('bench CLI on a lost device', () => {
  it('exits non-zero with one message when the device is lost mid-benchmark', () => {
    const r = run('bench', ['--kernels', 'attention.naive', '--shapes', 'prefill', '--set', 'T=64,S=256,Hq=4,Hkv=4,D=32', '--repeats', '10000'], {
      KERNEL_LAB_TEST_LOSE_DEVICE_AFTER_MS: '4000',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: the GPU device was lost: it was destroyed$/m);
    expect(r.stderr).not.toMatch(/\s+at \S+ \(/); // no stack trace
  });
});

describe('verify CLI', () => {
  it('passes good fixtures from the generator and fails a wrong one, with exit codes', () => {
    const good = join(dir, 'good.safetensors');
    const g = run('make-golden', ['--kernel', 'attention.naive', '--set', 'T=3,S=17,Hq=4,Hkv=1,D=8', '--out', good]);
    expect(g.code, g.stderr).toBe(0);
    const ok = run('verify', [good]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/PASS .*good\.safetensors \(attention\.dense\)/);
    expect(ok.stdout).toMatch(/attention\.naive +out +max-abs \S+ +rel-L2 \S+ +ok/);

    const st = readSafetensors(readFileSync(good));
    const out = Float32Array.from(st.tensors.out!.data).map((x) => x * 1.01);
    const tensors = Object.fromEntries(Object.entries(st.tensors).map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: n === 'out' ? out : t.data }]));
    const wrong = join(dir, 'wrong.safetensors');
    writeFileSync(wrong, writeSafetensors(tensors, st.metadata));
    const bad = run('verify', [good, wrong]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL .*wrong\.safetensors/);
    expect(bad.stdout).toMatch(/1 passed, 1 failed/);
  });

  it('fails a truncated file and a missing file with a message each', () => {
    const good = join(dir, 'g2.safetensors');
    expect(run('make-golden', ['--kernel', 'attention.naive', '--out', good, '--set', 'T=1,S=5,Hq=2,Hkv=2,D=4']).code).toBe(0);
    const trunc = join(dir, 'trunc.safetensors');
    writeFileSync(trunc, readFileSync(good).subarray(0, 40));
    const r = run('verify', [trunc, join(dir, 'nope.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/trunc\.safetensors: header length \d+ runs past the end/);
    expect(r.stdout).toMatch(/nope\.safetensors: cannot read \(ENOENT\)/);
  });

  it('with no files says what to give', () => {
    const r = run('verify', []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give one or more \.safetensors files/);
  });
});

describe('bench studies and the balance demo', () => {
  it('--study lists its runs without a GPU, and an unknown study names the choices', () => {
    const r = run('bench', ['--study', 'sparse-scaling', '--list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sparse\.dsa +decode S=32768 T=1 dsa$/m);
    expect(r.stdout).toMatch(/^attention\.flash_prefill +prefill S=4096 T=256 dense$/m);
    const bad = run('bench', ['--study', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^bad arguments: --study.*mla-decode.*sparse-scaling.*moe/m);
  });

  it('balance: the per-step series as JSON, imbalance falling under the bias update', () => {
    const r = run('moe-balance', ['--steps', '6', '--tokens', '128', '--experts', '32', '--groups', '4', '--topk-groups', '2', '--topk', '4', '--gamma', '0.02', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const series = JSON.parse(r.stdout) as { step: number; stats: { maxOverMean: number; cv: number } }[];
    expect(series.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const s of series) expect(Number.isFinite(s.stats.cv)).toBe(true);
    expect(series.at(-1)!.stats.cv).toBeLessThan(series[0]!.stats.cv);
  });
});

describe('bench --digest', () => {
  it('prints the table of a saved result file without a GPU, and refuses a malformed one with exit 2', () => {
    const good = join(dir, 'saved.json');
    writeFileSync(good, JSON.stringify(fakeResultFile()));
    const r = run('bench', ['--digest', good]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^adapter: nvidia \/ hopper \/ NVIDIA H100 via vulkan/m);
    expect(r.stdout).toMatch(/^attention\.flash_decode +decode S=4096 Hq=32 Hkv=8 D=128 +0\.420 +0\.400–0\.430 +20\.4 /m);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...fakeResultFile(), version: 7 }));
    const b = run('bench', ['--digest', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^bad arguments: --digest: .*bad\.json is not a bench result file: version: /m);
  });
});
