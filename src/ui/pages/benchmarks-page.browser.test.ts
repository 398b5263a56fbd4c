// <kl-benchmarks-page> without a GPU: the suite settings are validated inline (the CLI's flags and bounds),
// result files are imported only when they validate, side by side with one column group per run, failed
// results never show a number, and markup inside a file stays text. (Runs and export: test/e2e.)
import { afterEach, describe, expect, it } from 'vitest';
import { parseResultFile } from '../../bench/result-schema.ts';
import { GpuSession } from '../device/gpu-session.ts';
import { fakeResult, fakeResultFile } from '../../bench/result-fixture.ts';
import { resultCsv, CSV_COLUMNS } from '../bench/result-export.ts';
import { mount, q, qa, settle, text, type, unmountAll, until } from '../testing.ts';
import { BenchmarksPage } from './benchmarks-page.ts';

async function page(): Promise<BenchmarksPage> {
  const p = new BenchmarksPage();
  p.session = new GpuSession();
  return mount(p);
}

async function importFiles(p: BenchmarksPage, files: { name: string; text: string }[]) {
  const input = q<HTMLInputElement>(p, 'input[data-action="import"]');
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(new File([f.text], f.name, { type: 'application/json' }));
  input.files = dt.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
  await until(() => input.value === '', 'the import to finish');
  await settle(p);
}

afterEach(unmountAll);

describe('<kl-benchmarks-page>', () => {
  it('the fixture is a valid result file (so these tests import what the CLI writes)', () => {
    expect(parseResultFile(JSON.stringify(fakeResultFile())).ok).toBe(true);
  });

  const field = (p: BenchmarksPage, name: string) => q<HTMLInputElement>(p, 'kl-kernel-form', `#f-${name}`);
  const fieldErrors = (p: BenchmarksPage) =>
    Object.fromEntries(qa(q(p, 'kl-kernel-form'), '.field').map((f) => [f.dataset.field!, f.querySelector('.field-error')?.textContent ?? '']));
  async function typed(p: BenchmarksPage, name: string, value: string) {
    type(field(p, name), value);
    await settle(p);
    await settle(q(p, 'kl-kernel-form'));
  }

  it('renders the suite settings from their schema (the kernel form) and validates them inline, counting the jobs', async () => {
    const p = await page();
    const run = q<HTMLButtonElement>(p, 'button[data-action="run-suite"]');
    expect(run.disabled).toBe(true); // no GPU yet
    expect(text(p)).toContain('needs a working WebGPU device');
    expect(Object.keys(fieldErrors(p))).toEqual(['kernels', 'shapes', 'set', 'warmup', 'repeats']);
    await typed(p, 'kernels', 'attention.flash_decode');
    const jobs = Number(/Run (\d+) job/.exec(run.textContent!)![1]);
    expect(jobs).toBeGreaterThan(0);
    expect(qa(p, 'details li').length).toBe(jobs);
    await typed(p, 'kernels', 'attention.flash_decode,nonsense');
    await typed(p, 'repeats', '-1');
    await typed(p, 'set', 'S=');
    const errors = fieldErrors(p);
    expect(errors.kernels).toBe('"nonsense" is not a kernel id or family');
    expect(errors.repeats).toBe('-1 is below the minimum 0');
    expect(errors.warmup).toBe('');
    expect(field(p, 'repeats').getAttribute('aria-invalid')).toBe('true');
    expect(text(run)).toBe('Run 0 job(s) on this GPU');
    await typed(p, 'repeats', '2.5');
    expect(fieldErrors(p).repeats).toBe('"2.5" is not an integer (digits only, e.g. 8)');
  });

  it('keeps the settings in the link as the kernel forms do: only what differs from the defaults, read back as typed', async () => {
    const p = await page();
    const sent: string[] = [];
    p.addEventListener('route-params', (e) => sent.push(String((e as CustomEvent<URLSearchParams>).detail)));
    await typed(p, 'kernels', 'moe');
    await typed(p, 'repeats', '30');
    expect(sent.at(-1)).toBe('kernels=moe&repeats=30');
    p.applyParams(new URLSearchParams('kernels=attention&repeats=abc'));
    await settle(p);
    await settle(q(p, 'kl-kernel-form'));
    expect(field(p, 'kernels').value).toBe('attention');
    expect(fieldErrors(p).repeats).toBe('"abc" is not an integer (digits only, e.g. 8)');
  });

  it('refuses an override value or field as it is typed, and says why nothing is selected', async () => {
    const p = await page();
    const setError = () => fieldErrors(p).set;
    await typed(p, 'kernels', 'attention.flash_decode');
    await typed(p, 'set', 'S=abc');
    expect(setError()).toMatch(/^S=abc for attention\.flash_decode: /);
    expect(field(p, 'set').getAttribute('aria-invalid')).toBe('true');
    await typed(p, 'set', 'Q=5');
    expect(setError()).toBe('Q is not a setting of any selected kernel');
    await typed(p, 'set', '');
    await typed(p, 'shapes', 'no-such-shape');
    expect(text(q(p, '[data-no-jobs]'))).toBe('no benchmark shape of the selected kernels contains "no-such-shape"');
  });

  it('keeps a cancelled suite\'s finished results as an exportable run (GPU)', async () => {
    const session = new GpuSession();
    await session.start();
    try {
      const p = new BenchmarksPage();
      p.session = session;
      await mount(p);
      p.applyParams(new URLSearchParams('kernels=attention.flash_decode&set=S=64&repeats=2&warmup=1'));
      await settle(p);
      q<HTMLButtonElement>(p, 'button[data-action="run-suite"]').click();
      await until(() => p.live.length >= 1, 'a first result', 120_000);
      q<HTMLButtonElement>(p, 'kl-run-progress', 'button').click();
      await until(() => !p.progress, 'the suite to stop', 60_000);
      await settle(p);
      const run = p.runs.find((r) => r.source === 'this browser')!;
      expect(run.file.results.length).toBeGreaterThanOrEqual(1);
      expect(run.file.errors.at(-1)!.message).toMatch(/^cancelled after \d+ of \d+ jobs$/);
      expect(parseResultFile(JSON.stringify(run.file)).ok).toBe(true);
      expect(qa(p, 'button[data-action="export-json"]')).toHaveLength(1);
      expect(text(p)).toContain('Cancelled: the results so far are kept');
      // The link asked for 2 samples; with none asked for, CPU emulation gets 3 and says why.
      expect(run.file.settings.repeats).toBe(2);
      p.applyParams(new URLSearchParams('kernels=attention.flash_decode'));
      await settle(p);
      expect(text(q(p, '[data-repeats-note]'))).toBe('3 timed samples per shape: this device is CPU emulation (SwiftShader), where a sample takes seconds; a GPU gets 30.');
    } finally {
      session.ctx?.destroy();
    }
  });

  it('imports valid files side by side and refuses the rest with the reason', async () => {
    const p = await page();
    const a = fakeResultFile([fakeResult(), fakeResult({ shape: 'decode S=8192', medianMs: 0.8 })]);
    const b = fakeResultFile([fakeResult({ medianMs: 0.21, gbps: 40.1, copyFraction: 0.5 })], {
      environment: { ...a.environment, adapter: { ...a.environment.adapter, description: 'AMD MI300X', vendor: 'amd', architecture: 'cdna3' } },
    });
    await importFiles(p, [
      { name: 'h100.json', text: JSON.stringify(a) },
      { name: 'mi300.json', text: JSON.stringify(b) },
      { name: 'notes.json', text: 'not json' },
      { name: 'old.json', text: JSON.stringify({ ...a, version: 0 }) },
    ]);
    expect(qa(p, '.notice.bad').map((n) => text(n).split(' was not imported')[0])).toEqual(['notes.json', 'old.json']);
    expect(text(qa(p, '.notice.bad')[1]!)).toContain('version');
    const cmp = q(p, 'kl-run-comparison');
    expect(qa(cmp, 'th.run').map(text)).toEqual(['h100.json · nvidia hopper NVIDIA H100', 'mi300.json · amd cdna3 AMD MI300X']);
    const rows = qa(cmp, 'tbody tr').map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()));
    expect(rows).toEqual([
      ['attention.flash_decode', 'decode S=4096 Hq=32 Hkv=8 D=128', '0.420', '20.4', '4.01%', '0.210', '40.1', '50.0%', '0.50x'],
      ['attention.flash_decode', 'decode S=8192', '0.800', '20.4', '4.01%', 'not in this run', '—'],
    ]);
    expect(qa(cmp, 'thead th').map(text)).toContain('time vs first');
    // remove one run again
    q<HTMLButtonElement>(p, 'button[aria-label="remove mi300.json"]').click();
    await settle(p);
    expect(qa(q(p, 'kl-run-comparison'), 'th.run')).toHaveLength(1);
  });

  it('never shows a number for a result that failed verification or was not finite', async () => {
    const p = await page();
    const file = fakeResultFile([
      fakeResult({ shape: 'bad', verification: { ...fakeResult().verification, ok: false } }),
      fakeResult({ shape: 'nan', outputsFinite: false }),
    ]);
    await importFiles(p, [{ name: 'broken-gpu.json', text: JSON.stringify(file) }]);
    const cells = qa(q(p, 'kl-run-comparison'), 'tbody td.error').map(text);
    expect(cells).toEqual(['failed verification', 'non-finite output']);
  });

  it('renders markup inside an imported file as text', async () => {
    const p = await page();
    const file = fakeResultFile([fakeResult({ shape: '<img src=x id=injected onerror="window.__hit=1">' })]);
    file.environment.runtime = '<script id=injected2>window.__hit=2</script>';
    await importFiles(p, [{ name: '<b>name</b>.json', text: JSON.stringify(file) }]);
    const cmp = q(p, 'kl-run-comparison');
    expect(text(cmp)).toContain('<img src=x id=injected');
    expect(text(cmp)).toContain('<script id=injected2>');
    expect(text(p)).toContain('<b>name</b>.json');
    expect(cmp.shadowRoot!.querySelector('#injected, #injected2, img, script')).toBeNull();
    expect(p.shadowRoot!.querySelector('b')).toBeNull();
    expect((window as unknown as { __hit?: number }).__hit).toBeUndefined();
  });

  it('CSV export: one row per result, formulas neutralised, non-finite numbers empty', () => {
    const file = fakeResultFile([fakeResult({ shape: '=HYPERLINK("x")' }), fakeResult({ shape: 'plain' })]);
    const lines = resultCsv(file).trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`"'=HYPERLINK(""x"")"`);
  });
});
