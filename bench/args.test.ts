import { describe, expect, it } from 'vitest';
import { ArgError, parseArgs, parseAssignments } from './args.ts';

const SPEC = {
  repeats: { type: 'int', help: 'n', min: 1, max: 100 },
  gamma: { type: 'number', help: 'g', min: 0, max: 1 },
} as const;

describe('flags use the one strict number grammar', () => {
  for (const bad of ['0x2', '1e1', '2.0', '+2', ' 2', '2 ', '']) {
    it(`--repeats ${JSON.stringify(bad)} is refused`, () => {
      expect(() => parseArgs(['--repeats', bad], SPEC)).toThrowError(ArgError);
    });
  }
  it('--gamma 1e-400 is refused (it would round to 0), 1e-06 is taken', () => {
    expect(() => parseArgs(['--gamma', '1e-400'], SPEC)).toThrowError(/underflows/);
    expect(parseArgs(['--gamma', '1e-06'], SPEC).flags.gamma).toBe(1e-6);
    expect(parseArgs(['--repeats=7'], SPEC).flags.repeats).toBe(7);
  });
  it('--set keeps hex and padded numbers as text and refuses a key given twice', () => {
    expect(parseAssignments('set', ['S=0x8']).S).toBe('0x8');
    expect(parseAssignments('set', ['S=33']).S).toBe(33);
    expect(() => parseAssignments('set', ['S=3', 'S=4'])).toThrowError(/sets "S" twice/);
  });
});

describe('stray positionals', () => {
  it('are collected so a CLI can refuse them (`--set T=3 S=7`, `-- attention.flash_decode`)', () => {
    expect(parseArgs(['--repeats', '3', 'S=7'], SPEC).positionals).toEqual(['S=7']);
    expect(parseArgs(['--', 'attention.flash_decode'], SPEC).positionals).toEqual(['attention.flash_decode']);
  });
});
