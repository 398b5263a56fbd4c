// The decoder-layer study without a GPU: its runs, and its two digests over synthetic stage timings.
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../kernels/contract.ts';
import { KERNELS } from '../../kernels/registry.ts';
import { layerStageCosts, type LayerConfig } from '../../kernels/layer/layer-config.ts';
import { fakeResult, fakeResultFile } from '../result-fixture.ts';
import { ResultFileSchema } from '../result-schema.ts';
import { digestStudies } from './index.ts';
import { LAYER_SIZES, layerStages, layerWaterfall, SCALED, V32, WATERFALL } from './layer.ts';

/** Every stage of a run takes `ms`, the cache fill 1000 ms (it must not count in the step). */
function measure(msPerStage: (c: LayerConfig) => number) {
  return layerStages.jobs(KERNELS).map((j) => {
    const config = withDefaults(j.def, j.shape.config) as LayerConfig;
    const names = layerStageCosts(config).map((s) => s.name);
    const ms = msPerStage(config);
    const stages = names.map((name) => ({ name, medianMs: name === 'cache fill' ? 1000 : ms, share: 0 }));
    return fakeResult({ kernel: j.def.id, family: j.def.family, shape: j.shape.name, config, cost: j.def.cost(config), medianMs: 1000 + ms * names.length, stages });
  });
}

describe('layer study', () => {
  it('runs the five waterfall variants at S = 1K..8K on the scaled V3.2 shape', () => {
    const jobs = layerStages.jobs(KERNELS);
    expect(jobs).toHaveLength(LAYER_SIZES.length * WATERFALL.length);
    expect(new Set(jobs.map((j) => j.shape.config.S))).toEqual(new Set(LAYER_SIZES));
    expect(SCALED.kv_lora_rank).toBe(V32.kv_lora_rank);
    expect(SCALED.index_topk).toBe(2048);
    expect(SCALED.dim).toBe(1024);
  });

  it('stacked bar: step ms without the cache fill, stage groups, unscaled figures', () => {
    const d = layerStages.digest(fakeResultFile(measure(() => 2)))!;
    expect(d.rows).toHaveLength(20);
    const col = (name: string) => d.columns.indexOf(name);
    const v32at8k = d.rows.find((r) => r[0] === 8192 && r[1] === 'mla_dsa + moe')!;
    // 15 stages of 2 ms besides the cache fill: indexer, top-k, absorb, attention, un-absorb, router ... residual.
    expect(v32at8k[col('step ms')]).toBe(2 * (layerStageCosts(withDefaults(KERNELS.find((k) => k.id === 'layer.deepseek_v32')!, { ...SCALED, T: 1, S: 8192 }) as LayerConfig).length - 1));
    expect(v32at8k[col('attention ms')]).toBe(6); // absorb + attention + un-absorb
    expect(v32at8k[col('FFN ms')]).toBe(8); // router, dispatch, experts, combine
    const mha = d.rows.find((r) => r[0] === 8192 && r[1] === 'mha + dense')!;
    expect(mha[col('indexer ms')]).toBeNull();
    // Unscaled KV read per step: MHA 8192 x 81920 B = 640 MiB, V3.2 2048 latent rows + 8192 index keys.
    expect(mha[col('unscaled KV MiB read/token')]).toBe(640);
    expect(v32at8k[col('unscaled KV MiB read/token')]).toBe(Number(((2048 * 1152 + 8192 * 132) / 2 ** 20).toPrecision(3)));
    expect(layerStages.digest(fakeResultFile([]))).toBeUndefined();
  });

  it('waterfall: each step against the one before, in ms and in the unscaled bytes per token', () => {
    // MHA 40 ms a stage, GQA 30, MLA 20, + MoE 18, + DSA 10: each step saves time.
    const ms = (c: LayerConfig) => (c.attention === 'mha' ? 40 : c.attention === 'gqa' ? 30 : c.attention === 'mla_dense' ? (c.ffn === 'dense' ? 20 : 18) : 10);
    const file = fakeResultFile(measure(ms));
    const d = layerWaterfall.digest(file)!;
    expect(d.rows).toHaveLength(20);
    const at8k = d.rows.filter((r) => r[0] === 8192);
    expect(at8k.map((r) => r[1])).toEqual(WATERFALL.map((w) => w.label));
    expect(at8k[0]![3]).toBeNull(); // nothing before the first step
    expect(at8k[1]![4]).toBe(8 * 320 * 2); // 8 KV heads of K (192) and V (128) in bf16
    expect(at8k[1]![5]).toBe(81920 - 5120);
    expect(at8k[2]![4]).toBe(1152);
    expect(at8k[2]![5]).toBe(5120 - 1152);
    expect(at8k[4]![4]).toBe(1152 + 132); // + the indexer's key cache
    expect(Number(at8k[1]![3])).toBeGreaterThan(0);
    expect(Number(at8k[2]![3])).toBeGreaterThan(0);
    // Both digests land in a valid result file.
    const studies = digestStudies(file);
    expect(studies.map((s) => s.id)).toEqual(expect.arrayContaining(['layer', 'layer-waterfall']));
    expect(ResultFileSchema.safeParse({ ...file, studies }).success).toBe(true);
  });
});
