import { describe, expect, it } from 'vitest';
import { ArgError, parseArgs, parseAssignments } from './args.ts';
import type { FieldSpec } from '../src/kernels/contract.ts';

const SPEC = {
  repeats: { type: 'int', help: 'n', min: 1, max: 100 },
  gamma: { type: 'number', help: 'g', min: 0, max: 1 },
} as const;

const FIELDS: Record<string, FieldSpec> = {
  S: { type: 'int', label: 'S', default: 8, min: 1, max: 100 },
  scale: { type: 'number', label: 'scale', default: 0, min: 0, max: 1 },
  causal: { type: 'bool', label: 'causal', default: true },
  dtype: { type: 'enum', label: 'dtype', default: 'f32', values: ['f32', 'f16'] },
};

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
  it('--set reads each value by its field type and refuses a key given twice', () => {
    expect(parseAssignments('set', ['S=33', 'scale=0.5', 'causal=false', 'dtype=f16'], FIELDS, 'k').S).toBe(33);
    expect(() => parseAssignments('set', ['S=0x8'], FIELDS, 'k')).toThrowError(/^--set S: "0x8" is not an integer/);
    expect(() => parseAssignments('set', ['S=8.0'], FIELDS, 'k')).toThrowError(/--set S: "8\.0" is not an integer/);
    expect(() => parseAssignments('set', ['causal=1'], FIELDS, 'k')).toThrowError(/--set causal: "1" is not true or false/);
    expect(() => parseAssignments('set', ['S=3', 'S=4'], FIELDS, 'k')).toThrowError(/sets "S" twice/);
  });
});

describe('--set keys (class 11)', () => {
  it('a key of no field (wrong case, unknown) is refused, listing the accepted keys', () => {
    expect(() => parseAssignments('set', ['s=33'], FIELDS, 'attention.naive')).toThrowError(/^--set: "s" is not a field of attention\.naive \(fields: S, scale, causal, dtype\)$/);
    expect(() => parseAssignments('set', ['Foo=1'], FIELDS, 'attention.naive')).toThrowError(/"Foo" is not a field of/);
    expect(() => parseAssignments('set', ['toString=1'], FIELDS, 'attention.naive')).toThrowError(/"toString" is not a field of/);
  });
});

describe('stray positionals', () => {
  it('are collected so a CLI can refuse them (`--set T=3 S=7`, `-- attention.flash_decode`)', () => {
    expect(parseArgs(['--repeats', '3', 'S=7'], SPEC).positionals).toEqual(['S=7']);
    expect(parseArgs(['--', 'attention.flash_decode'], SPEC).positionals).toEqual(['attention.flash_decode']);
  });
});
