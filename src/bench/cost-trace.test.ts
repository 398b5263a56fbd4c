// Every registered kernel's byte count against an independent count: its float64 reference run on a test
// case with inputs that record every element read (read-trace.ts). `bytes - intermediateBytes` must be
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

/** Input elements a traced case may hold. */
const TRACE_BUDGET = 20_000;

/**
 * Kernels a trace of the reference cannot check, each with the reason (a new kernel is checked unless it is
 * listed here).
 */
const NOT_TRACEABLE: Record<string, string> = {
  'layer.deepseek_v32':
    "its inputs hold the S - T earlier tokens, whose cache rows an instance fills once before the timed steps, so the reference's reads include work a step does not do; its cost is the sum of its stages' costs",
};

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

  for (const def of KERNELS) {
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
