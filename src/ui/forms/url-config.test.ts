// URL settings are read in the CLI's number grammar: what the CLI refuses, a link cannot slip in.
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../kernels/contract.ts';
import { formatIssues, validateConfig } from '../../kernels/common/validate.ts';
import { findKernel } from '../../kernels/registry.ts';
import { fakeCaps } from '../../../test/device-caps.ts';
import { configFromParams, configToParams, parseIntList } from './url-config.ts';

const def = findKernel('attention.naive')!;
const caps = fakeCaps();
const read = (query: string) => configFromParams(def, new URLSearchParams(query));

describe('URL config', () => {
  for (const [query, line] of [
    ['S=1e3', 'S: "1e3" is not an integer (digits only, e.g. 8)'],
    ['S=0x10', 'S: "0x10" is not an integer (digits only, e.g. 8)'],
    ['S=%205', 'S: " 5" is not an integer (digits only, e.g. 8)'],
    ['S=8.0', 'S: "8.0" is not an integer (digits only, e.g. 8)'],
    ['scale=0x1', 'scale: "0x1" is not a decimal number (e.g. 0.125, 1e-06)'],
    ['scale=1e-400', 'scale: "1e-400" underflows a double (it would be 0)'],
  ] as const) {
    it(`${decodeURIComponent(query)} is kept as text and refused with one line naming the field`, () => {
      const config = read(query);
      expect(typeof config[query.split('=')[0]!]).toBe('string');
      expect(formatIssues(validateConfig(def, config as never, caps))).toBe(line);
    });
  }

  it('reads numbers in the grammar: digits for an int, a decimal for a number', () => {
    const config = read('S=4096&T=3&scale=1e-3&causal=false&dtype=f16');
    expect(config).toMatchObject({ S: 4096, T: 3, scale: 0.001, causal: false, dtype: 'f16' });
  });

  it('writes only what differs from the defaults, and reads back what it wrote', () => {
    const config = withDefaults(def, { S: 333, scale: 2.5e-7, causal: false });
    const params = configToParams(def, config);
    expect([...params.keys()].sort()).toEqual(['S', 'causal', 'scale']);
    expect(configFromParams(def, params)).toEqual(config);
  });

  it('an empty value clears the field (the form then says it is missing)', () => {
    expect(formatIssues(validateConfig(def, read('S=') as never, caps))).toBe('S: must be a number, got nothing');
  });
});

describe('URL sweep list', () => {
  it('positive integers, spaces around commas allowed, sorted and unique', () => {
    expect(parseIntList('128, 32,64,32')).toEqual([32, 64, 128]);
  });
  for (const bad of ['1e3', '0x10', '32,0', '32,,64', '8.0', '-4']) {
    it(`"${bad}" does not parse`, () => expect(parseIntList(bad)).toBeUndefined());
  }
});
