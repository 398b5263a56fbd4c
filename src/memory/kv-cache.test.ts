// KV-cache formulas against values computed by hand from the models' config.json numbers and the deployed
// record formats (FlashMLA README, DeepSeek-V3.2-Exp inference/model.py): every expected number below is
// written out as its own product, never taken from the code under test.
import { describe, expect, it } from 'vitest';
import { findPreset } from '../models/presets.ts';
import {
  bytesPerTokenPerLayer,
  deepseekV2PaperReduction,
  elementsPerTokenPerLayer,
  groupSize,
  layerKinds,
  modelCacheRows,
  nativeRow,
  type CacheDType,
  type MlaRecord,
  type ModelCacheRow,
} from './kv-cache.ts';
import { memoryReport } from './report.ts';

const preset = (id: string) => {
  const p = findPreset(id);
  if (!p) throw new Error(`no preset ${id}`);
  return p;
};
const rowsOf = (id: string, dtype: CacheDType = 'bf16', context = 1, batch = 1, record: MlaRecord = 'latent') => modelCacheRows(preset(id), { dtype, context, batch }, record);
const named = (rows: ModelCacheRow[], start: string) => {
  const r = rows.find((x) => x.name.startsWith(start));
  if (!r) throw new Error(`no row ${start} in ${rows.map((x) => x.name).join(', ')}`);
  return r;
};
const K128 = 131072;

describe('bytes per token, whole model (hand-computed)', () => {
  it('DeepSeek-V3 bf16: MLA (512+64)·2·61 = 70,272; MHA-equivalent 2·128·128·2·61 = 3,997,696', () => {
    const rows = rowsOf('deepseek-v3');
    const mla = named(rows, 'MLA');
    expect(mla.bytesPerToken).toBe(70272);
    expect(named(rows, 'MHA').bytesPerToken).toBe(3997696);
    expect(mla.native).toBe(true);
    expect(mla.groups[0]!.formula).toBe('(d_c + d_rope)·b');
    expect(mla.groups[0]!.substituted).toBe('(512 + 64)·2');
    expect(named(rows, 'MHA').groups[0]!.substituted).toBe('2·128·128·2');
  });
  it('Llama-3.1-8B bf16: GQA 2·8·128·2·32 = 131,072 (native); MHA 2·32·128·2·32 = 524,288', () => {
    const rows = rowsOf('llama-3.1-8b');
    const gqa = named(rows, 'GQA');
    expect(gqa.bytesPerToken).toBe(131072);
    expect(gqa.native).toBe(true);
    expect(gqa.groups[0]!.formula).toBe('2·n_kv·d_h·b');
    expect(named(rows, 'MHA').bytesPerToken).toBe(524288);
  });
  it('Llama-3.1-70B 2·8·128·2·80 = 327,680; 405B 2·8·128·2·126 = 516,096; Qwen3-235B 2·4·128·2·94 = 192,512', () => {
    expect(named(rowsOf('llama-3.1-70b'), 'GQA').bytesPerToken).toBe(327680);
    expect(named(rowsOf('llama-3.1-405b'), 'GQA').bytesPerToken).toBe(516096);
    expect(named(rowsOf('qwen3-235b-a22b'), 'GQA').bytesPerToken).toBe(192512);
  });
  it('Mixtral-8x7B: 2·8·128·2·32 = 131,072, no window; MQA 2·128·2·32 = 16,384', () => {
    const rows = rowsOf('mixtral-8x7b');
    expect(named(rows, 'GQA').bytesPerToken).toBe(131072);
    expect(named(rows, 'MQA').bytesPerToken).toBe(16384);
    expect(rows.some((r) => r.groups.some((g) => g.window !== undefined))).toBe(false);
  });
  it('element types: f32 4, f16/bf16 2, fp8 1 byte; the fixed records ignore the element type', () => {
    const mla = { kind: 'mla', latent: 512, rope: 64 } as const;
    expect(bytesPerTokenPerLayer(mla, 'f32')).toBe(576 * 4);
    expect(bytesPerTokenPerLayer(mla, 'bf16')).toBe(576 * 2);
    expect(bytesPerTokenPerLayer(mla, 'fp8')).toBe(576);
    for (const d of ['f32', 'bf16', 'fp8'] as const) {
      expect(bytesPerTokenPerLayer({ kind: 'mla-fp8', latent: 512, rope: 64 }, d)).toBe(512 * 1 + 4 * 4 + 64 * 2);
      expect(bytesPerTokenPerLayer({ kind: 'indexer', headDim: 128 }, d)).toBe(128 * 1 + 1 * 4);
    }
    expect(elementsPerTokenPerLayer({ kind: 'mha', heads: 3, headDim: 5 })).toBe(30);
    expect(elementsPerTokenPerLayer({ kind: 'gqa', kvHeads: 2, headDim: 5 })).toBe(20);
    expect(elementsPerTokenPerLayer({ kind: 'mqa', headDim: 5 })).toBe(10);
    expect(elementsPerTokenPerLayer({ kind: 'mla', latent: 7, rope: 4 })).toBe(11);
  });
});

describe('DeepSeek-V3.2 as deployed: the latent, the FP8 record and the indexer keys', () => {
  it('per layer: bf16 latent 576·2 = 1,152 B; FP8 record 512 + 4·4 + 64·2 = 656 B; indexer 128 + 4 = 132 B', () => {
    const rows = rowsOf('deepseek-v3.2');
    const latent = named(rows, 'MLA latent');
    const fp8 = named(rows, 'MLA FP8 record');
    expect(latent.groups.map((g) => [g.layout.kind, g.bytesPerTokenPerLayer, g.layers])).toEqual([
      ['mla', 1152, 61],
      ['indexer', 132, 61],
    ]);
    expect(fp8.groups.map((g) => [g.layout.kind, g.bytesPerTokenPerLayer, g.layers])).toEqual([
      ['mla-fp8', 656, 61],
      ['indexer', 132, 61],
    ]);
    expect(fp8.groups[0]!.formula).toBe('d_c·1 + ⌈d_c/128⌉·4 + d_rope·2');
    expect(fp8.groups[0]!.substituted).toBe('512·1 + 4·4 + 64·2');
    expect(fp8.groups[1]!.substituted).toBe('128·1 + 1·4');
  });
  it('at 128K tokens: latent 1,152·61·131,072 + indexer 132·61·131,072 bytes; FP8 record 656·61·131,072 + the same indexer', () => {
    const rows = rowsOf('deepseek-v3.2', 'bf16', K128);
    expect(named(rows, 'MLA latent').totalBytes).toBe((1152 + 132) * 61 * K128);
    expect(named(rows, 'MLA latent').groups[1]!.totalBytes).toBe(132 * 61 * K128);
    expect(named(rows, 'MLA FP8 record').totalBytes).toBe((656 + 132) * 61 * K128);
    expect(named(rows, 'MLA FP8 record').bytesPerToken).toBe((656 + 132) * 61);
  });
  it('the record option chooses the native row', () => {
    expect(nativeRow(rowsOf('deepseek-v3.2')).name).toBe('MLA latent (bf16) + DSA indexer');
    expect(nativeRow(rowsOf('deepseek-v3.2', 'bf16', 1, 1, 'fp8')).name).toBe('MLA FP8 record + DSA indexer');
    expect(rowsOf('deepseek-v3.2').filter((r) => r.native)).toHaveLength(1);
  });
  it('V3 (no indexer) has one MLA row and no FP8 record', () => {
    const rows = rowsOf('deepseek-v3');
    expect(rows.filter((r) => r.groups.some((g) => g.layout.kind === 'indexer' || g.layout.kind === 'mla-fp8'))).toEqual([]);
  });
  it('the report prints the three per-token figures with formula and source', () => {
    const text = memoryReport(preset('deepseek-v3.2'), { dtype: 'bf16', context: K128, batch: 1 }).join('\n');
    expect(text).toContain(`(d_c + d_rope)·b = (512 + 64)·2 = 1,152 B/layer, x 61 = ${(1152 * 61).toLocaleString('en-US')} B/token`);
    expect(text).toContain(`d_c·1 + ⌈d_c/128⌉·4 + d_rope·2 = 512·1 + 4·4 + 64·2 = 656 B/layer, x 61 = ${(656 * 61).toLocaleString('en-US')} B/token`);
    expect(text).toContain(`d_i·1 + ⌈d_i/128⌉·4 = 128·1 + 1·4 = 132 B/layer, x 61 = ${(132 * 61).toLocaleString('en-US')} B/token`);
    expect(text).toContain('https://github.com/deepseek-ai/FlashMLA/blob/main/README.md');
    expect(text).toContain('https://github.com/deepseek-ai/DeepSeek-V3.2-Exp/blob/main/inference/model.py');
    // 132 / 1152 and 132 / 656 of the per-layer bytes.
    expect(text).toContain(`The indexer adds ${((132 / 1152) * 100).toFixed(1)}% to the bf16 latent and ${((132 / 656) * 100).toFixed(1)}% to the FP8 record.`);
  });
});

describe('models that mix windowed and global layers count each kind', () => {
  it('gpt-oss-120b: 18 windowed (w = 128) + 18 global GQA layers of 2·8·64·2 = 2,048 B', () => {
    expect(layerKinds(preset('gpt-oss-120b'))).toEqual({ global: 18, local: 18, window: 128 });
    const rows = rowsOf('gpt-oss-120b', 'bf16', K128);
    const mixed = nativeRow(rows);
    expect(mixed.name).toBe('GQA (n_kv = 8), 18 windowed (w = 128) + 18 global layers');
    const [global, local] = mixed.groups;
    expect([global!.layers, global!.bytesPerTokenPerLayer, global!.tokensKept, global!.totalBytes]).toEqual([18, 2048, K128, 18 * 2048 * K128]);
    expect([local!.layers, local!.bytesPerTokenPerLayer, local!.tokensKept, local!.totalBytes]).toEqual([18, 2048, 128, 18 * 2048 * 128]);
    expect(mixed.totalBytes).toBe(18 * 2048 * K128 + 18 * 2048 * 128);
    // Against MHA, every layer global: 2·64·64·2 B x 36 layers x 131,072 tokens.
    expect(mixed.ratioToMha).toBeCloseTo((18 * 2048 * K128 + 18 * 2048 * 128) / (2 * 64 * 64 * 2 * 36 * K128), 12);
    const gqaAllGlobal = named(rows, 'GQA');
    expect(gqaAllGlobal.native).toBe(false);
    expect(gqaAllGlobal.totalBytes).toBe(36 * 2048 * K128);
  });
  it('gpt-oss-20b: 12 + 12 layers', () => {
    const mixed = nativeRow(rowsOf('gpt-oss-20b', 'bf16', 4096, 2));
    expect(mixed.groups.map((g) => [g.layers, g.tokensKept])).toEqual([
      [12, 4096],
      [12, 128],
    ]);
    expect(mixed.totalBytes).toBe((12 * 4096 + 12 * 128) * 2048 * 2);
  });
  it('Gemma 3 27B: 52 windowed (w = 1024) + 10 global layers of 2·16·128·2 = 8,192 B', () => {
    expect(layerKinds(preset('gemma-3-27b'))).toEqual({ global: 10, local: 52, window: 1024 });
    const mixed = nativeRow(rowsOf('gemma-3-27b', 'bf16', K128));
    expect(mixed.groups.map((g) => [g.name, g.layers, g.bytesPerTokenPerLayer, g.tokensKept])).toEqual([
      ['global layers', 10, 8192, K128],
      ['windowed layers (w = 1024)', 52, 8192, 1024],
    ]);
    expect(mixed.totalBytes).toBe(10 * 8192 * K128 + 52 * 8192 * 1024);
  });
  it('below the window every layer keeps the whole context', () => {
    const mixed = nativeRow(rowsOf('gemma-3-27b', 'bf16', 500));
    expect(mixed.totalBytes).toBe(62 * 8192 * 500);
  });
  it('Mistral-7B: every layer windowed (w = 4,096), so 32K tokens keep 4,096', () => {
    const rows = rowsOf('mistral-7b-v0.1', 'bf16', 32768, 2);
    const sw = nativeRow(rows);
    expect(sw.name).toBe('sliding window (w = 4096)');
    expect(sw.groups).toHaveLength(1);
    expect(sw.bytesPerToken).toBe(2 * 8 * 128 * 2 * 32);
    expect(sw.groups[0]!.tokensKept).toBe(4096);
    expect(sw.totalBytes).toBe(2 * 8 * 128 * 2 * 32 * 4096 * 2);
    expect(sw.ratioToMha).toBeCloseTo((131072 * 4096) / (524288 * 32768), 12);
  });
});

describe('totals and checks', () => {
  it('DeepSeek-V3 at 131,072 tokens, batch 4: 70,272 x 131,072 x 4 bytes', () => {
    const mla = named(rowsOf('deepseek-v3', 'bf16', K128, 4), 'MLA');
    expect(mla.totalBytes).toBe(70272 * K128 * 4);
    expect(mla.ratioToMha).toBeCloseTo(70272 / 3997696, 12);
  });
  it('GQA of every model equals n_kv/n_h of its MHA row', () => {
    for (const id of ['llama-3.1-8b', 'qwen3-235b-a22b', 'deepseek-v3', 'mixtral-8x7b', 'gpt-oss-120b', 'gemma-3-27b']) {
      const rows = rowsOf(id);
      const gqa = named(rows, 'GQA');
      const kv = gqa.groups[0]!.layout.kind === 'gqa' ? gqa.groups[0]!.layout.kvHeads : 0;
      expect(gqa.ratioToMha).toBeCloseTo(kv / preset(id).arch.heads, 12);
    }
  });
  it('refuses nonsense sizes', () => {
    const g = { name: 'x', layout: { kind: 'mqa', headDim: 64 } as const, layers: 1 };
    expect(() => groupSize({ ...g, layers: 0 }, { dtype: 'f16', context: 1, batch: 1 })).toThrow(/layers/);
    expect(() => groupSize(g, { dtype: 'f16', context: 0, batch: 1 })).toThrow(/context/);
    expect(() => groupSize(g, { dtype: 'f16', context: 1, batch: 1.5 })).toThrow(/batch/);
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
    const text = memoryReport(preset('deepseek-v3'), { dtype: 'bf16', context: K128, batch: 1 }).join('\n');
    expect(text).toContain('MLA: (512 + 64)·2·61 B = 70,272 bytes/token against the MHA-equivalent 2·128·128·2·61 B = 3,997,696 bytes/token: 98.2% smaller.');
    expect(text).toContain('1 - 207,360 / 3,112,960 = 93.3%');
    expect(text).toContain('differ by 82.2%');
    expect(text).toMatch(/\* MLA .* 8\.6 GiB +1\.76%/);
  });
  it('a model without MLA gets no MLA headline', () => {
    const text = memoryReport(preset('llama-3.1-8b'), { dtype: 'bf16', context: 8192, batch: 1 }).join('\n');
    expect(text).not.toContain('MLA');
    expect(text).toMatch(/\* GQA \(n_kv = 8\) +2·n_kv·d_h·b = 2·8·128·2 +4,096 +32 +131,072 +8,192/);
  });
  it('a mixed model prints one line per kind of layer under its total', () => {
    const text = memoryReport(preset('gemma-3-27b'), { dtype: 'bf16', context: K128, batch: 1 }).join('\n');
    expect(text).toMatch(/\* GQA \(n_kv = 16\), 52 windowed \(w = 1024\) \+ 10 global layers +sum of the 2 below/);
    expect(text).toMatch(/\+ global layers +2·n_kv·d_h·b = 2·16·128·2 +8,192 +10 +81,920 +131,072 +10\.0 GiB/);
    expect(text).toMatch(/\+ windowed layers \(w = 1024\) +2·n_kv·d_h·b = 2·16·128·2 +8,192 +52 +425,984 +1,024 +416 MiB/);
  });
});
