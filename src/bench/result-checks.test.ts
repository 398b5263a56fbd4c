// Result files a hand or a broken tool could write: impossible statistics are refused naming the row,
// nothing prints NaN/Infinity as a number, speed-ups only between verified rows, names cannot forge rows.
import { describe, expect, it } from 'vitest';
import { fakeResult, fakeResultFile } from './result-fixture.ts';
import { parseResultFile, type KernelResult } from './result-schema.ts';
import { comparisons, renderDigest, renderResultFile } from './format.ts';
import { digestStudies } from './studies/index.ts';

const parse = (results: KernelResult[]) => parseResultFile(JSON.stringify(fakeResultFile(results)));

describe('impossible statistics are refused, naming the row (class 15)', () => {
  const bad: [string, Partial<KernelResult>, RegExp][] = [
    ['a zero median', { medianMs: 0, minMs: 0, p10Ms: 0 }, /results\[0\] \("attention\.flash_decode" "decode S=4096 Hq=32 Hkv=8 D=128"\): median 0 ms is not a measured time/],
    ['p10 above the median', { p10Ms: 0.5 }, /results\[0\] .*: p10 0\.5 ms > median 0\.42 ms/],
    ['median above p90', { medianMs: 0.5, p90Ms: 0.45, maxMs: 0.6 }, /median 0\.5 ms > p90 0\.45 ms/],
    ['min above max', { minMs: 0.9, p10Ms: 0.9, medianMs: 0.9, p90Ms: 0.9, maxMs: 0.43 }, /p90 0\.9 ms > max 0\.43 ms/],
    ['12300% of copy bandwidth', { copyFraction: 123 }, /copyFraction 123 is 12300% of the measured peak, above the 1000%/],
  ];
  for (const [name, over, message] of bad) {
    it(`${name}`, () => {
      const r = parse([fakeResult(), fakeResult(over)].slice(1));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
    });
  }
  it('a believable file still parses', () => {
    expect(parse([fakeResult()]).ok).toBe(true);
  });
});

describe('speed-ups and digests never print NaN or Infinity (class 15)', () => {
  const naive = (over: Partial<KernelResult> = {}) => fakeResult({ kernel: 'attention.naive', medianMs: 2, maxMs: 2, p90Ms: 2, ...over });
  it('a speed-up only between two verified rows', () => {
    expect(comparisons(fakeResultFile([naive(), fakeResult()]))).toEqual([expect.stringMatching(/attention\.flash_decode vs attention\.naive .*: 4\.76x faster/)]);
    const mismatch = fakeResult({ verification: { ...fakeResult().verification, ok: false } });
    expect(comparisons(fakeResultFile([naive(), mismatch]))).toEqual([]);
    expect(comparisons(fakeResultFile([naive({ outputsFinite: false }), fakeResult()]))).toEqual([]);
  });
  it('a digest cell or note that divides by zero shows a dash', () => {
    const text = renderDigest({ id: 'x', title: 't', columns: ['a', 'b'], rows: [['ratio', Number.NaN as unknown as number]], notes: ['Infinityx faster (0 ms vs 0 ms)', 'NaN%'] });
    expect(text).not.toMatch(/NaN|Infinity/);
  });
  it('the whole table of a file with unverified rows prints no NaN or Infinity', () => {
    const file = fakeResultFile([naive(), fakeResult({ verification: { ...fakeResult().verification, ok: false } })]);
    const text = [renderResultFile(file), ...digestStudies(file).map(renderDigest)].join('\n');
    expect(text).not.toMatch(/NaN|Infinity/);
  });
});

describe('a 130k-row result file (class 6)', () => {
  it('renders without a spread of every row (no stack overflow)', () => {
    const rows = Array.from({ length: 130_000 }, (_, i) => fakeResult({ shape: `s${i}` }));
    const text = renderResultFile(fakeResultFile(rows));
    expect(text.split('\n').length).toBeGreaterThan(130_000);
  });
});

describe('names in a result file cannot forge rows (class 10)', () => {
  it('ANSI escapes and newlines in kernel and shape names arrive escaped', () => {
    const evil = fakeResult({ kernel: 'x\u001b[2K\rPASS everything', shape: 'a\nattention.naive  ok' });
    const r = parseResultFile(JSON.stringify(fakeResultFile([evil])));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const text = renderResultFile(r.file);
    expect(text).not.toMatch(/[\u001b\r]/);
    expect(text).toContain('x\\u001b[2K\\rPASS everything');
    expect(text.split('\n').some((l) => l.startsWith('attention.naive'))).toBe(false);
  });
});
