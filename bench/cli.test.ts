// The CLIs as a user runs them: real processes, exit codes, one-line errors, JSON that validates.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
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
  return { code: r.status, stdout: r.stdout, stderr: quiet(r.stderr) };
}

/** Drop the Vulkan loader's noise about drivers it probes before SwiftShader. */
function quiet(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l && !/XDG_RUNTIME_DIR|Vulkan shaderUniform|While initializing adapter|at InitializeImpl/.test(l))
    .join('\n');
}

/** `run` without blocking the test worker, so independent refusals can overlap. */
function runAsync(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './bench/wgsl-raw-hooks.mjs', `bench/${script}.ts`, ...args], { cwd: root, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr: quiet(stderr) }));
  });
}

describe('bench CLI', () => {
  const bad: [string[], RegExp][] = [
    [['--repeats', '0'], /^bad arguments: --repeats must be between 1 and 10000, got 0$/],
    [['--repeats', 'many'], /--repeats: "many" is not an integer/],
    [['--kernels', 'attention.magic'], /--kernels: unknown kernel or family "attention.magic"/],
    [['--frobnicate'], /unknown flag --frobnicate/],
    [['--set', 'Q=3'], /--set: "Q" is not a field of any registered kernel/],
    [['--json'], /--json needs a value/],
    [['--repeats', '0x2'], /--repeats: "0x2" is not an integer/],
    [['--json', '/nonexistent/x.json'], /--json: cannot write \/nonexistent\/x.json: its directory \/nonexistent does not exist/],
    [['--json', '/dev/full'], /--json: \/dev\/full is a character device/],
    [['--', 'attention.flash_decode'], /unexpected argument "attention.flash_decode"/],
    // class 11: a --set value is read by its field's type
    [['--set', 'S=8.0'], /--set S: "8\.0" is not an integer/],
    // class 14: a study runs its own shapes; filters and overrides are refused, not ignored
    [['--study', 'sparse-scaling', '--set', 'S=8192'], /--study sparse-scaling runs its own fixed shapes: --set cannot be combined with it/],
    [['--study', 'mla-decode', '--kernels', 'attention', '--shapes', 'decode'], /--study mla-decode runs its own fixed shapes: --kernels, --shapes cannot be combined/],
    [['--study', 'peers', '--kernels', 'attention'], /--study peers runs its own fixed shapes: --kernels cannot be combined/],
    // peers takes --shapes, but only its workload ids: anything else is a usage error like any other flag
    [['--study', 'peers', '--shapes', 'nope'], /^bad arguments: --shapes: no peers workload matches nope \(workloads: /],
  ];
  // Each refusal is its own process (seconds of start-up): they run side by side.
  for (const [args, msg] of bad) {
    it.concurrent(`refuses ${args.join(' ')} with one line and exit 2`, async () => {
      const r = await runAsync('bench', args);
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

describe('bench CLI on SIGINT', () => {
  it('ends the progress line and writes what was measured, marked incomplete (exit 130)', async () => {
    const out = join(dir, 'interrupted.json');
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './bench/wgsl-raw-hooks.mjs', 'bench/bench.ts', '--kernels', 'attention.naive', '--set', 'T=1,S=64,Hq=2,Hkv=2,D=8', '--repeats', '2', '--warmup', '0', '--json', out], { cwd: root });
    let stderr = '';
    // Interrupt as the second (last) job starts: the first is measured, the second cannot finish first.
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/\[2\/2\]/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/^\[2\/2\] attention\.naive .* \.\.\. interrupted$/m);
    const parsed = parseResultFile(readFileSync(out, 'utf8'));
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    if (parsed.ok) {
      expect(parsed.file.incomplete).toMatch(/^cancelled during job 2 of 2 .*; 1 measured before it$/);
      expect(parsed.file.results).toHaveLength(1);
    }
  }, 240_000);
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

  it('refuses a FIFO, /dev/zero and a directory at once, one line each (class 4)', () => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    const r = run('verify', [fifo, '/dev/zero', dir]);
    expect(r.code).toBe(1);
    const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(fails).toEqual([
      expect.stringMatching(/pipe\.safetensors.* is a FIFO \(named pipe\), not a regular file/),
      expect.stringMatching(/\/dev\/zero.* is a character device, not a regular file/),
      expect.stringMatching(/is a directory, not a regular file/),
    ]);
    expect(r.stdout).toMatch(/0 passed, 3 failed/);
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
    // The names load after the flags parse (so a typo is refused before the kernels load); --help still shows them.
    const help = run('bench', ['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^  --study mla-decode\|sparse-scaling\|moe\|.*\|peers +run a named study/m);
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

describe('golden CLI refuses typos and oversized cases before writing (classes 11, 12)', () => {
  const out = join(dir, 'never.safetensors');
  const bad: [string[], RegExp][] = [
    [['--set', 's=33,hq=8'], /^bad arguments: --set: "s" is not a field of attention\.naive \(fields: T, S, Hq, Hkv, D, causal, scale, dtype/],
    [['--set', 'Foo=1'], /"Foo" is not a field of attention\.naive/],
    [['--set', 'T=3', 'S=7'], /unexpected argument "S=7"/],
    [['--set', 'T=1,S=4194304,Hq=8,Hkv=8,D=64'], /--set: this case needs about \d+ MiB of host memory, over the 1024 MiB budget/],
  ];
  for (const [args, msg] of bad) {
    it(`golden ${args.join(' ')}: one line, exit 2, no file`, () => {
      const r = run('make-golden', ['--kernel', 'attention.naive', ...args, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(msg);
      expect(() => readFileSync(out)).toThrow();
    });
  }
});

describe('balance checks every flag against the limits its --help shows, before the GPU (class 18)', () => {
  it('--help shows the router\'s limits', () => {
    const r = run('moe-balance', ['--help']);
    expect(r.stdout).toMatch(/--experts INT +routed experts E: .*\(2 to 384, default 64\)/);
    expect(r.stdout).toMatch(/--topk INT +experts per token \(1 to 32, default 8\)/);
  });
  for (const [args, msg] of [
    [['--experts', '512'], /^bad arguments: --experts must be between 2 and 384, got 512$/],
    [['--experts', '2', '--topk', '8'], /^bad arguments: --topk: 8 is more than the E = 2 experts$/],
    [['--experts', '64', '--groups', '7'], /^bad arguments: --groups: E = 64 experts is not a multiple of n_groups = 7/],
    [['garbage'], /^bad arguments: unexpected argument "garbage"/],
  ] as const) {
    it(`balance ${args.join(' ')}: exit 2 without starting the GPU`, () => {
      const r = run('moe-balance', [...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(msg);
      expect(r.stderr).not.toMatch(/adapter:|SwiftShader/);
    });
  }
});

describe('bench --digest', () => {
  it('refuses a FIFO at once instead of hanging (class 4)', () => {
    const fifo = join(dir, 'digest.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = run('bench', ['--digest', fifo]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^bad arguments: --digest: .*digest\.fifo: is a FIFO \(named pipe\), not a regular file$/);
  });

  it('refuses a file with impossible statistics naming the row, exit 2 (class 15)', () => {
    const bad = join(dir, 'impossible.json');
    const file = fakeResultFile();
    file.results[0] = { ...file.results[0]!, p10Ms: 0.9 };
    writeFileSync(bad, JSON.stringify(file));
    const r = run('bench', ['--digest', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a bench result file: results\[0\] \("attention\.flash_decode" .*\): p10 0\.9 ms > median 0\.42 ms/);
  });

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
