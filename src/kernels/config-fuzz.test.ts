// Property tests over every registered kernel's config schema: thousands of random configs, valid and
// invalid, through validate() against several device profiles. validate never throws; an invalid field is
// always named; a config validate accepts has finite, non-negative shapes and costs.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceCaps } from '../gpu/context.ts';
import { KERNELS } from './registry.ts';
import { configArbitrary } from './config-arbitrary.ts';
import { validateConfig } from './common/validate.ts';
import { numel } from './tensor.ts';
import { fakeCaps } from '../../test/device-caps.ts';

const swiftshaderLike = fakeCaps({ maxStorageBufferBindingSize: 2 ** 27 });
const bigGpu: DeviceCaps = {
  limits: { ...swiftshaderLike.limits, maxBufferSize: 2 ** 36, maxStorageBufferBindingSize: 2 ** 32 - 4, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024, maxComputeWorkgroupStorageSize: 49152, maxStorageBuffersPerShaderStage: 10 },
  features: { f16: true, subgroups: true, timestamps: true },
};
// The WebGPU spec's guaranteed minimums: what a weak adapter offers.
const minimal: DeviceCaps = {
  limits: { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27, maxUniformBufferBindingSize: 65536, maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 8 },
  features: { f16: false, subgroups: false, timestamps: false },
};
const PROFILES = [swiftshaderLike, bigGpu, minimal];
const RUNS = 600;

let tried = 0;
let refused = 0;
let accepted = 0;
afterAll(() => console.log(`config fuzz: ${tried} configs through validate() over ${KERNELS.length} kernels: ${refused} refused with a named field, ${accepted} accepted with sane shapes and costs, 0 crashes`));

describe('validate() over random configs', () => {
  for (const def of KERNELS) {
    it(`${def.id}: never throws, names every invalid field, accepted configs have sane costs`, () => {
      // Half the runs break fields at random; half keep every field in bounds so the cross-field and
      // device rules (and the accepted path) are exercised too.
      const anyConfig = fc.oneof(configArbitrary(def.schema, { invalidRate: 0.2 }), configArbitrary(def.schema, { smallCap: 4096 }));
      fc.assert(
        fc.property(anyConfig, fc.constantFrom(...PROFILES), ({ config, invalid }, caps) => {
          tried++;
          const issues = validateConfig(def, config, caps);
          for (const i of issues) {
            expect(typeof i.field).toBe('string');
            expect(i.field.length).toBeGreaterThan(0);
            expect(i.message.length).toBeGreaterThan(0);
            expect(i.message).not.toMatch(/\n|undefined|\[object/);
          }
          if (invalid.length) {
            refused++;
            expect(issues.map((i) => i.field)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^(${invalid.join('|')})$`))]));
            return;
          }
          if (issues.length) {
            refused++;
            return;
          }
          for (const t of [...def.inputs(config), ...def.outputs(config)]) {
            expect(t.shape.every((x) => Number.isInteger(x) && x >= 0), `${t.name} [${t.shape}]`).toBe(true);
            expect(Number.isFinite(numel(t.shape))).toBe(true);
          }
          accepted++;
          const cost = def.cost(config);
          expect(Number.isFinite(cost.flops) && cost.flops >= 0).toBe(true);
          expect(Number.isFinite(cost.bytes) && cost.bytes > 0).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });
  }
});
