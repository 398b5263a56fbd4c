// Every registered kernel's byte count against an independent count: its float64 reference run on a test
// case with inputs that record every element read (read-trace.ts); the decoder layer's reference split into its
// state (earlier cache rows) and one step, the step traced. `bytes - intermediateBytes` must be
// exactly the distinct input bytes read plus the output bytes written. Kernels whose reads depend on the
// data (selected blocks, routed experts, valid key lists) are checked through `runCost` on the reference's
// own outputs, as the bench computes it from a run's. A traced read costs ~100x a plain one, so the test
// cases whose inputs are small enough (and always the smallest) are traced.
import { describe, expect, it } from 'vitest';
import { withDefaults, type KernelDefinition } from '../kernels/contract.ts';
import { makeInputs } from '../kernels/execute.ts';
import { createRng, freshSeed } from '../kernels/random.ts';
import { KERNELS } from '../kernels/registry.ts';
import { numel, type HostTensor } from '../kernels/tensor.ts';
import { traceReads } from './read-trace.ts';
import { layerStepCost, type LayerConfig } from '../kernels/layer/layer-config.ts';
import { decoderLayerStep, layerPrefill, type LayerAttention, type LayerFfn } from '../reference/layer.ts';

/** Input elements a traced case may hold. */
const TRACE_BUDGET = 20_000;

/**
 * Kernels a trace of the reference cannot check, each with the reason (a new kernel is checked unless it is
 * listed here).
 */
const NOT_TRACEABLE: Record<string, string> = {};

/**
 * The decoder layer's inputs hold the S - T earlier tokens, whose cache rows an instance fills once before its
 * timed steps: its trace is of one step (decoderLayerStep) given that state, and its inputs are the state's too.
 */
const STEP_TRACED = 'layer.deepseek_v32';

/** The reference path that reads what the GPU variant keeps: MHA's per-head cache is GQA with every head its own. */
function stepAttention(c: LayerConfig): { attention: LayerAttention; config: LayerConfig } {
  if (c.attention === 'mla_dsa') return { attention: 'dsa', config: c };
  if (c.attention === 'mha') return { attention: 'gqa', config: { ...c, gqa_kv_heads: c.n_heads } };
  return { attention: c.attention === 'gqa' ? 'gqa' : 'dense', config: c };
}

/** Trace one layer step on fresh inputs; the state (cache rows 0..S-T-1, GQA's pooled wkv_b) is made untraced. */
function traceLayerStep(def: KernelDefinition<LayerConfig>, c: LayerConfig, seed: number) {
  const inputs = makeInputs(def, c, createRng(seed));
  const { attention, config } = stepAttention(c);
  const ffn = c.ffn as LayerFfn;
  const state = layerPrefill(inputs, config, attention);
  const prefixed = Object.fromEntries(Object.entries(state).map(([k, t]) => [`state.${k}`, t]));
  const stepDef: KernelDefinition<LayerConfig> = {
    ...def,
    inputs: (cc) => [...def.inputs(cc), ...Object.entries(state).map(([k, t]) => ({ name: `state.${k}`, shape: t.shape, dtype: 'f32' as const }))],
    reference(t) {
      const st = Object.fromEntries(Object.keys(state).map((k) => [k, t[`state.${k}`]!]));
      const r = decoderLayerStep(t, st, config, attention, ffn);
      return { h: r.h, out: r.out, ...(r.selected ? { selected: r.selected } : {}), ...(r.experts ? { experts: r.experts } : {}) };
    },
  };
  return traceReads(stepDef, c, { ...inputs, ...prefixed });
}

describe('cost models against a trace of the reference', () => {
  it('the trace counts distinct elements, not accesses, and notices a row never read', () => {
    // A toy kernel: out[i] = a[i] + a[i] for the first half of a; its claimed cost says it reads all of a.
    const toy: KernelDefinition<{ n: number }> = {
      id: 'toy.half',
      family: 'linear',
      title: 'toy',
      explain: '',
      sources: [],
      schema: { n: { type: 'int', label: 'n', default: 8, min: 2, max: 64 } },
      inputs: (c) => [{ name: 'a', shape: [c.n], dtype: 'f32' }],
      outputs: (c) => [{ name: 'out', shape: [c.n / 2], dtype: 'f32' }],
      cost: (c) => ({ flops: c.n / 2, bytes: 4 * c.n + 2 * c.n }),
      reference: (t, c) => ({ out: { shape: [c.n / 2], data: Float64Array.from({ length: c.n / 2 }, (_, i) => t.a!.data[i]! + t.a!.data[i]!) } }),
      create: () => Promise.reject(new Error('not a GPU kernel')),
      benchmarks: [],
      testCases: [],
    };
    const tr = traceReads(toy, { n: 8 }, { a: { shape: [8], data: new Float32Array(8) } });
    expect(tr.inputs.a).toBe(16);
    expect(tr.total).toBe(16 + 16);
    expect(toy.cost({ n: 8 }).bytes).not.toBe(tr.total);
  });

  const layer = KERNELS.find((k) => k.id === STEP_TRACED) as KernelDefinition<LayerConfig> | undefined;
  it(`${STEP_TRACED}: one step's bytes beyond the intermediates = a traced step's distinct reads + its writes, every variant`, () => {
    expect(layer, `${STEP_TRACED} is not registered`).toBeDefined();
    const seed = freshSeed();
    const variants = new Set<string>();
    for (const tc of layer!.testCases) {
      const c = withDefaults(layer!, tc.config);
      const where = `${STEP_TRACED} "${tc.name}" (seed ${seed})`;
      const trace = traceLayerStep(layer!, c, seed);
      const cost = layerStepCost(c, { selected: trace.result.selected?.data, experts: trace.result.experts?.data });
      expect(cost.intermediateBytes, `${where}: intermediateBytes`).toBeGreaterThanOrEqual(0);
      expect(cost.bytes - cost.intermediateBytes, `${where}: ${JSON.stringify(trace.inputs)} read, ${JSON.stringify(trace.outputs)} written`).toBe(trace.total);
      // The earlier tokens' x rows are the state's business, not the step's.
      expect(trace.inputs.x, where).toBe(4 * c.T * c.dim);
      variants.add(`${c.attention} + ${c.ffn}`);
    }
    expect([...variants].sort()).toEqual(expect.arrayContaining(['gqa + moe', 'mha + moe', 'mla_dense + moe', 'mla_dsa + dense', 'mla_dsa + moe', 'mla_naive + moe']));
  });

  for (const def of KERNELS) {
    if (def.id === STEP_TRACED) continue;
    if (NOT_TRACEABLE[def.id]) {
      it.skip(`${def.id}: not traced: ${NOT_TRACEABLE[def.id]}`, () => {});
      continue;
    }
    it(`${def.id}: bytes beyond the intermediates = the reference's distinct reads + its writes`, () => {
      expect(def.testCases.length, `${def.id} has no test cases`).toBeGreaterThan(0);
      const seed = freshSeed();
      const size = (tc: (typeof def.testCases)[number]) => def.inputs(withDefaults(def, tc.config)).reduce((a, s) => a + numel(s.shape), 0);
      const sized = def.testCases.map((tc) => ({ tc, n: size(tc) })).sort((a, b) => a.n - b.n);
      const cases = sized.filter((s, i) => i === 0 || s.n <= TRACE_BUDGET).map((s) => s.tc);
      for (const tc of cases) {
        const config = withDefaults(def, tc.config);
        const where = `${def.id} "${tc.name}" (seed ${seed})`;
        const inputs = makeInputs(def, config, createRng(seed));
        const trace = traceReads(def, config, inputs);
        const tensors: Record<string, HostTensor> = { ...inputs, ...trace.result };
        const cost = def.runCost ? def.runCost(config, tensors) : def.cost(config);
        const extra = cost.intermediateBytes ?? 0;
        expect(extra, `${where}: intermediateBytes`).toBeGreaterThanOrEqual(0);
        expect(cost.bytes - extra, `${where}: ${JSON.stringify(trace.inputs)} read, ${JSON.stringify(trace.outputs)} written`).toBe(trace.total);
        if (def.runCost) expect(def.cost(config).intermediateBytes ?? 0, `${where}: the config-only cost's intermediates`).toBeGreaterThanOrEqual(0);
      }
    });
  }
});
