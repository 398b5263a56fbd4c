// Presets: the models the UI and the memory report offer are present, every value has a source and every
// source a value, and DeepSeek-V3's published numbers are the ones stored.
import { describe, expect, it } from 'vitest';
import { archFields, fieldSource, findPreset, MODEL_PRESETS } from './presets.ts';

describe('model presets', () => {
  it('has the expected models, with unique ids', () => {
    const ids = MODEL_PRESETS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['deepseek-v2', 'deepseek-v3', 'deepseek-v3.2', 'kimi-k2', 'qwen3-235b-a22b', 'llama-3.1-8b', 'llama-3.1-70b', 'llama-3.1-405b', 'mixtral-8x7b']) {
      expect(ids).toContain(id);
    }
  });

  for (const p of MODEL_PRESETS) {
    it(`${p.id}: every field has a source, every source a field`, () => {
      const fields = archFields(p.arch);
      expect(Object.keys(p.sources).sort()).toEqual([...fields].sort());
      for (const f of fields) expect(fieldSource(p, f)).toBeTruthy();
      expect(p.configUrl).toMatch(/^https:\/\/huggingface\.co\/.+\/config\.json$/);
      expect(p.notes.length).toBeGreaterThan(0);
    });
    it(`${p.id}: consistent shapes`, () => {
      const a = p.arch;
      expect(a.heads % a.kvHeads).toBe(0);
      // Llama-style configs without a head_dim key derive it as hidden / heads (Qwen3 sets head_dim explicitly).
      if (!a.mla && p.sources.headDim!.includes('hidden_size')) expect(a.headDim * a.heads).toBe(a.hidden);
      if (a.moe) {
        expect(a.moe.expertsPerToken).toBeLessThanOrEqual(a.moe.routedExperts);
        expect(a.moe.routedExperts % a.moe.nGroup).toBe(0);
        expect(a.moe.topkGroup).toBeLessThanOrEqual(a.moe.nGroup);
      }
    });
  }

  it('DeepSeek-V3: 61 layers, 128 heads, q_lora_rank 1536, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head 128', () => {
    const a = findPreset('deepseek-v3')!.arch;
    expect([a.layers, a.heads]).toEqual([61, 128]);
    expect(a.mla).toEqual({ qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });
    expect(a.moe).toMatchObject({ routedExperts: 256, expertsPerToken: 8, sharedExperts: 1, nGroup: 8, topkGroup: 4, scoreFunc: 'sigmoid', routeScale: 2.5 });
  });

  it('V3.2 is V3 plus the DSA indexer', () => {
    const v3 = findPreset('deepseek-v3')!.arch;
    const { dsa, ...rest } = findPreset('deepseek-v3.2')!.arch;
    expect(rest).toEqual(v3);
    expect(dsa).toEqual({ indexHeads: 64, indexHeadDim: 128, indexTopk: 2048 });
  });

  it('sources name the config.json key', () => {
    const p = findPreset('deepseek-v3')!;
    expect(fieldSource(p, 'mla.kvLoraRank')).toBe('https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json (kv_lora_rank)');
    expect(fieldSource(findPreset('mixtral-8x7b')!, 'moe.scoreFunc')).toMatch(/^paper eq\. 2/);
    expect(fieldSource(p, 'nonsense')).toBeUndefined();
  });
});
