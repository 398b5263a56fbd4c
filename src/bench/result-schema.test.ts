import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResultFile, resultJsonSchema } from './result-schema.ts';

describe('result schema', () => {
  it('docs/bench-result.schema.json is the JSON Schema generated from the zod schema (regenerate: npm run schema)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/bench-result.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(resultJsonSchema());
  });

  it('rejects files that are not results, naming the path', () => {
    expect(parseResultFile('{oops')).toMatchObject({ ok: false });
    const r = parseResultFile(JSON.stringify({ schema: 'llm-kernel-lab/bench-result', version: 1, results: [{ medianMs: 'fast' }] }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/createdAt|results\.0/);
    const v2 = parseResultFile(JSON.stringify({ schema: 'llm-kernel-lab/bench-result', version: 2 }));
    expect(v2.ok).toBe(false);
    if (!v2.ok) expect(v2.errors.join('\n')).toMatch(/version/);
  });
});
