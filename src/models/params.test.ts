// Parameter counts from the architecture against the totals the model cards publish (rounded there, so
// within 1.5%), and one count written out term by term.
import { describe, expect, it } from 'vitest';
import { paramCount } from './params.ts';
import { findPreset } from './presets.ts';

const count = (id: string) => paramCount(findPreset(id)!);

describe('parameter counts', () => {
  const published: [string, number, string][] = [
    ['deepseek-v3', 671e9, 'DeepSeek-V3 report: 671B total (main model, MTP module not counted)'],
    ['gpt-oss-120b', 116.83e9, 'gpt-oss model card: 116.83B'],
    ['gpt-oss-20b', 20.91e9, 'gpt-oss model card: 20.91B'],
    ['llama-3.1-8b', 8.03e9, 'Llama 3.1 8B: 8.03B'],
    ['llama-3.1-70b', 70.6e9, 'Llama 3.1 70B: 70.6B'],
    ['mixtral-8x7b', 46.7e9, 'Mixtral paper: 47B (46.7B)'],
    ['qwen3-235b-a22b', 235e9, 'Qwen3 report: 235B'],
    ['gemma-3-27b', 27e9, 'Gemma 3 27B: 27B (text decoder, tied embeddings)'],
  ];
  for (const [id, total, where] of published) {
    it(`${id}: within 1.5% of ${where}`, () => {
      expect(Math.abs(count(id).total / total - 1)).toBeLessThan(0.015);
    });
  }

  it('gpt-oss-20b term by term', () => {
    const c = count('gpt-oss-20b');
    expect(c.embeddings).toBe(2 * 201088 * 2880);
    expect(c.attention).toBe(24 * (2880 * 64 * 64 + 2 * 2880 * 8 * 64 + 64 * 64 * 2880));
    expect(c.denseFfn).toBe(0);
    expect(c.moe).toBe(24 * (32 * 3 * 2880 * 2880 + 32 * 2880));
    expect(c.total).toBe(c.embeddings + c.attention + c.moe);
  });

  it('V3.2 is V3 plus 61 indexers (wq_b 1536·64·128 + wk 7168·128 + weights_proj 7168·64 each)', () => {
    expect(count('deepseek-v3.2').total - count('deepseek-v3').total).toBe(61 * (1536 * 64 * 128 + 7168 * 128 + 7168 * 64));
  });
});
