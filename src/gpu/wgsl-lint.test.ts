// Lint over shaders/**/*.wgsl: bindings are generated from a binding record (src/gpu/bindings.ts), and what the
// WGSL library defines (shaders/lib/) is defined nowhere else. Files not yet converted are allow-listed by name;
// the lists only shrink: an allow-listed file that no longer breaks the rule fails too, so whoever converts a
// kernel removes it from its list in the same change.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../shaders');

const FILES = (readdirSync(ROOT, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => relative(ROOT, join(ROOT, f)).split('\\').join('/'))
  .sort();

interface Rule {
  name: string;
  pattern: RegExp;
  /** Where the definition belongs (it may stand there); undefined: nowhere in WGSL. */
  home?: string;
  /** Files that still break the rule, until their owners convert them. */
  notYetConverted: string[];
}

const RULES: Rule[] = [
  {
    name: 'hand-written @binding (declare a binding record instead)',
    pattern: /@binding\s*\(/,
    notYetConverted: [],
  },
  {
    name: 'NEG_INF redeclared (#include "lib/constants.wgsl")',
    pattern: /\b(const|let|var|override)\s+NEG_INF\b/,
    home: 'lib/constants.wgsl',
    notYetConverted: [],
  },
  {
    name: 'linear_group redefined (#include "lib/grid.wgsl")',
    pattern: /\bfn\s+linear_group\b/,
    home: 'lib/grid.wgsl',
    notYetConverted: [],
  },
];

function stripComments(wgsl: string): string {
  return wgsl.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

describe('WGSL lint', () => {
  it('finds the shaders', () => {
    expect(FILES).toContain('attention/naive.wgsl');
    expect(FILES).toContain('lib/constants.wgsl');
  });

  for (const rule of RULES) {
    it(rule.name, () => {
      const offenders = FILES.filter((f) => f !== rule.home && rule.pattern.test(stripComments(readFileSync(join(ROOT, f), 'utf8'))));
      const allowed = new Set(rule.notYetConverted);
      expect(offenders.filter((f) => !allowed.has(f)), 'files breaking the rule').toEqual([]);
      expect(rule.notYetConverted.filter((f) => !offenders.includes(f)), 'converted: remove from notYetConverted').toEqual([]);
    });
  }
});
