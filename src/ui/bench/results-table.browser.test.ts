// <kl-results-table>: the suite's results in the CLI's columns, and under them the CLI's lines on how the
// numbers were made: the clock's resolution, runs per timestamp pair, a warning for a result whose samples
// came near the resolution, and Chrome's flag for unquantised timestamps when the clock was quantised.
import { afterEach, describe, expect, it } from 'vitest';
import { fakeResult } from '../../bench/result-fixture.ts';
import type { KernelResult } from '../../bench/result-schema.ts';
import { mount, qa, text, unmountAll } from '../testing.ts';
import { ResultsTable } from './results-table.ts';

async function table(results: KernelResult[]): Promise<ResultsTable> {
  const t = new ResultsTable();
  t.results = results;
  return mount(t);
}

const timerColumn = (t: ResultsTable) => qa(t, 'tbody tr').map((tr) => text(tr.querySelectorAll('td')[10]!));
const notes = (t: ResultsTable) => qa(t, '[data-timer-notes] li');

afterEach(unmountAll);

describe('<kl-results-table>', () => {
  it('an unquantised clock: R per result, the resolution and the method, no warning, no flag', async () => {
    const t = await table([fakeResult()]);
    expect(timerColumn(t)).toEqual(['ts ×24']);
    const lines = notes(t).map(text);
    // Unquantised: a timestamp pair around each run, the cache clear outside them.
    expect(lines[0]).toMatch(/^timer: GPU timestamps, resolution 0\.100 µs; each sample = R runs back to back, a timestamp pair around each run's pass/);
    expect(lines[0]).toContain('256 MiB cache clear before every run lies outside every pair');
    expect(lines[0]).toContain('5 samples per shape');
    expect(lines.some((l) => l.includes('warning'))).toBe(false);
    expect(lines.some((l) => l.includes('chrome://flags'))).toBe(false);
  });

  it('a quantised clock with samples near it: "!" in the column, a warning naming the result, and the Chrome flag', async () => {
    const r = fakeResult();
    const coarse = { ...r, timer: { ...r.timer!, resolutionMs: 0.1, quantised: true, coarseSamples: 2 } };
    const t = await table([coarse]);
    expect(timerColumn(t)).toEqual(['ts ×24 !']);
    const lines = notes(t);
    expect(text(lines[0]!)).toContain('resolution 100 µs (quantised: values fall on its multiples)');
    const warning = lines.find((l) => text(l).startsWith('warning:'))!;
    expect(text(warning)).toBe(`warning: ${r.kernel} ${r.shape}: 2 sample(s) within 10x of the clock's resolution: not trustworthy`);
    expect(warning.classList.contains('error')).toBe(true);
    expect(text(lines.at(-1)!)).toBe('note: this clock is quantised; in Chrome, chrome://flags/#enable-webgpu-developer-features gives unquantised timestamps');
  });
});
