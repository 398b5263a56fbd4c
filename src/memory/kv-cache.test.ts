// KV-cache formulas against values computed by hand from the models' config.json numbers.
import { describe, expect, it } from 'vitest';
import { findPreset } from '../models/presets.ts';
import { cacheSize, deepseekV2PaperReduction, elementsPerTokenPerLayer, modelCacheRows, type CacheDType } from './kv-cache.ts';
import { memoryReport } from './report.ts';

const preset = (id: string) => {
  const p = findPreset(id);
  if (!p) throw new Error(`no preset ${id}`);
  return p;
};
const rowsOf = (id: string, dtype: CacheDType = 'bf16', context = 1, batch = 1) => modelCacheRows(preset(id), { dtype, context, batch });
const row = (id: string, kind: string, dtype: CacheDType = 'bf16') => rowsOf(id, dtype).find((r) => r.layout.kind === kind)!;

describe('bytes per token, whole model (hand-computed)', () => {
  it('DeepSeek-V3 bf16: MLA (512+64)·61·2 = 70,272; MHA-equivalent 2·128·128·61·2 = 3,997,696', () => {
    expect(row('deepseek-v3', 'mla').bytesPerToken).toBe(70272);
    expect(row('deepseek-v3', 'mha').bytesPerToken).toBe(3997696);
    expect(1 - 70272 / 3997696).toBeCloseTo(0.9824, 4);
    expect(row('deepseek-v3', 'mla').formula).toBe('(d_c + d_rope)·l');
    expect(row('deepseek-v3', 'mla').substituted).toBe('(512 + 64)·61');
    expect(row('deepseek-v3', 'mha').substituted).toBe('2·128·128·61');
  });
  it('Llama-3.1-8B bf16: GQA 2·8·128·32·2 = 131,072 (native); MHA 2·32·128·32·2 = 524,288', () => {
    const gqa = row('llama-3.1-8b', 'gqa');
    expect(gqa.bytesPerToken).toBe(131072);
    expect(gqa.native).toBe(true);
    expect(gqa.formula).toBe('2·n_kv·d_h·l');
    expect(gqa.substituted).toBe('2·8·128·32');
    expect(row('llama-3.1-8b', 'mha').bytesPerToken).toBe(524288);
  });
  it('Llama-3.1-70B: 2·8·128·80·2 = 327,680; 405B: 2·8·128·126·2 = 516,096', () => {
    expect(row('llama-3.1-70b', 'gqa').bytesPerToken).toBe(327680);
    expect(row('llama-3.1-405b', 'gqa').bytesPerToken).toBe(516096);
  });
  it('Qwen3-235B-A22B: 4 KV heads, 2·4·128·94·2 = 192,512', () => {
    expect(row('qwen3-235b-a22b', 'gqa').bytesPerToken).toBe(192512);
  });
  it('Kimi K2: the DeepSeek-V3 cache (70,272) with 64 heads, so MHA-equivalent 2·64·128·61·2 = 1,998,848', () => {
    expect(row('kimi-k2', 'mla').bytesPerToken).toBe(70272);
    expect(row('kimi-k2', 'mha').bytesPerToken).toBe(1998848);
  });
  it('Mixtral-8x7B: 2·8·128·32·2 = 131,072 with no window; MQA 2·128·32·2 = 16,384', () => {
    expect(row('mixtral-8x7b', 'gqa').bytesPerToken).toBe(131072);
    expect(row('mixtral-8x7b', 'mqa').bytesPerToken).toBe(16384);
    expect(rowsOf('mixtral-8x7b').some((r) => r.layout.kind === 'sliding')).toBe(false);
  });
  it('element types: f32 4, f16/bf16 2, fp8 1 byte', () => {
    const layout = { kind: 'mla', latent: 512, rope: 64 } as const;
    const q = { layers: 61, context: 1, batch: 1 };
    expect(cacheSize(layout, { ...q, dtype: 'f32' }).bytesPerToken).toBe(140544);
    expect(cacheSize(layout, { ...q, dtype: 'f16' }).bytesPerToken).toBe(70272);
    expect(cacheSize(layout, { ...q, dtype: 'fp8' }).bytesPerToken).toBe(35136);
  });
});

describe('totals at a context and batch', () => {
  it('DeepSeek-V3 at 131,072 tokens, batch 4: 70,272 x 131,072 x 4 bytes', () => {
    const mla = rowsOf('deepseek-v3', 'bf16', 131072, 4).find((r) => r.layout.kind === 'mla')!;
    expect(mla.totalBytes).toBe(70272 * 131072 * 4);
    expect(mla.ratioToMha).toBeCloseTo(70272 / 3997696, 12);
  });
  it('a sliding window keeps at most w tokens: Mistral-7B at 32K holds 4,096', () => {
    const rows = rowsOf('mistral-7b-v0.1', 'bf16', 32768, 2);
    const sw = rows.find((r) => r.layout.kind === 'sliding')!;
    expect(sw.native).toBe(true);
    expect(sw.bytesPerToken).toBe(131072);
    expect(sw.tokensKept).toBe(4096);
    expect(sw.totalBytes).toBe(131072 * 4096 * 2);
    expect(sw.ratioToMha).toBeCloseTo((131072 * 4096) / (524288 * 32768), 12);
    expect(rowsOf('mistral-7b-v0.1', 'bf16', 1000).find((r) => r.layout.kind === 'sliding')!.tokensKept).toBe(1000);
  });
  it('GQA of every model equals n_kv/n_h of its MHA row', () => {
    for (const id of ['llama-3.1-8b', 'qwen3-235b-a22b', 'deepseek-v3', 'mixtral-8x7b']) {
      const rows = rowsOf(id);
      const gqa = rows.find((r) => r.layout.kind === 'gqa')!;
      const kv = gqa.layout.kind === 'gqa' ? gqa.layout.kvHeads : 0;
      expect(gqa.ratioToMha).toBeCloseTo(kv / preset(id).arch.heads, 12);
    }
  });
  it('refuses nonsense sizes', () => {
    expect(() => cacheSize({ kind: 'mqa', headDim: 64 }, { layers: 0, dtype: 'f16', context: 1, batch: 1 })).toThrow(/layers/);
    expect(() => cacheSize({ kind: 'mqa', headDim: 64 }, { layers: 1, dtype: 'f16', context: 0, batch: 1 })).toThrow(/context/);
    expect(() => cacheSize({ kind: 'mqa', headDim: 64 }, { layers: 1, dtype: 'f16', context: 1, batch: 1.5 })).toThrow(/batch/);
  });
  it('elements per token and layer per layout', () => {
    expect(elementsPerTokenPerLayer({ kind: 'mha', heads: 3, headDim: 5 })).toBe(30);
    expect(elementsPerTokenPerLayer({ kind: 'gqa', kvHeads: 2, headDim: 5 })).toBe(20);
    expect(elementsPerTokenPerLayer({ kind: 'mqa', headDim: 5 })).toBe(10);
    expect(elementsPerTokenPerLayer({ kind: 'mla', latent: 7, rope: 4 })).toBe(11);
    expect(elementsPerTokenPerLayer({ kind: 'sliding', window: 9, inner: { kind: 'gqa', kvHeads: 2, headDim: 5 } })).toBe(20);
  });
});

describe("the DeepSeek-V2 paper's 93.3%", () => {
  it('is V2 (MLA, 60 layers, 6-bit cache) against DeepSeek 67B (GQA 8x128, 95 layers, 16-bit)', () => {
    const r = deepseekV2PaperReduction(preset('deepseek-v2'), preset('deepseek-llm-67b'));
    expect(r.v2Bits).toBe(576 * 60 * 6);
    expect(r.baseBits).toBe(2 * 8 * 128 * 95 * 16);
    expect(r.reduction).toBeCloseTo(0.9334, 4);
  });
  it('the report shows bytes per token, the totals, the ratio to MHA and the paper\'s 93.3%', () => {
    const text = memoryReport(preset('deepseek-v3'), { dtype: 'bf16', context: 131072, batch: 1 }).join('\n');
    expect(text).toContain('MLA: (512 + 64)·61·2 B = 70,272 bytes/token against the MHA-equivalent 2·128·128·61·2 B = 3,997,696 bytes/token: 98.2% smaller.');
    expect(text).toContain('1 - 207,360 / 3,112,960 = 93.3%');
    expect(text).toContain('differ by 82.2%');
    expect(text).toMatch(/\* MLA .* 8\.6 GiB +1\.76%/);
  });
  it('a model without MLA gets no MLA headline', () => {
    const text = memoryReport(preset('llama-3.1-8b'), { dtype: 'bf16', context: 8192, batch: 1 }).join('\n');
    expect(text).not.toContain('MLA');
    expect(text).toMatch(/\* GQA \(n_kv = 8\) +2·n_kv·d_h·l = 2·8·128·32 +65,536 +131,072/);
  });
});
