// Every registered kernel's float64 reference returns exactly the outputs the kernel declares, each with the
// declared shape, for every one of its test cases. The GPU tests compare the outputs a reference returns,
// so one the reference forgot would otherwise go unchecked.
import { describe, expect, it } from 'vitest';
import { withDefaults } from './contract.ts';
import { makeInputs } from './execute.ts';
import { createRng, freshSeed } from './random.ts';
import { KERNELS } from './registry.ts';
import { numel } from './tensor.ts';

describe('references return every declared output', () => {
  it('the registry is not empty', () => expect(KERNELS.length).toBeGreaterThanOrEqual(19));
  for (const def of KERNELS) {
    it(`${def.id}: every test case`, () => {
      expect(def.testCases.length, `${def.id} has no test cases`).toBeGreaterThan(0);
      const seed = freshSeed();
      const rng = createRng(seed);
      for (const tc of def.testCases) {
        const config = withDefaults(def, tc.config);
        const where = `${def.id} "${tc.name}" (seed ${seed})`;
        const specs = def.outputs(config);
        expect(specs.length, where).toBeGreaterThan(0);
        const got = def.reference(makeInputs(def, config, rng), config);
        expect(Object.keys(got).sort(), where).toEqual(specs.map((s) => s.name).sort());
        for (const s of specs) {
          const t = got[s.name]!;
          expect(t.shape, `${where}: ${s.name} shape`).toEqual(s.shape);
          expect(t.data.length, `${where}: ${s.name} data length`).toBe(numel(s.shape));
        }
      }
    });
  }
});
