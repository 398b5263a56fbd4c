// fast-check arbitraries generated from a kernel's config schema, so every registered kernel is fuzzed
// without writing anything per kernel: valid values inside the bounds, and invalid ones (out of range,
// fractional, NaN, wrong type, unknown enum) that validate() must refuse by naming the field.
import fc from 'fast-check';
import type { Config, ConfigSchema, FieldSpec } from './contract.ts';

export function validValue(spec: FieldSpec, smallCap?: number): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'int': {
      const max = smallCap === undefined ? spec.max : Math.min(spec.max, Math.max(spec.min, smallCap));
      // Bias towards the bounds and small values: that is where the bugs are.
      return fc.oneof(fc.constant(spec.min), fc.constant(max), fc.integer({ min: spec.min, max }));
    }
    case 'number': {
      const max = smallCap === undefined ? spec.max : Math.min(spec.max, Math.max(spec.min, smallCap));
      return fc.oneof(fc.constant(spec.min), fc.double({ min: spec.min, max, noNaN: true, noDefaultInfinity: true }));
    }
    case 'bool':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values);
    case 'text':
      return fc.string();
  }
}

export function invalidValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const wrongType = fc.constantFrom<unknown>(null, undefined, 'x', [], {}, NaN, Infinity);
  switch (spec.type) {
    case 'int':
      return fc.oneof(
        wrongType,
        fc.integer({ min: -1e9, max: spec.min - 1 }).filter((x) => x < spec.min),
        spec.max < 2 ** 40 ? fc.integer({ min: spec.max + 1, max: spec.max + 1e9 }) : wrongType,
        fc.double({ min: spec.min, max: Math.min(spec.max, 1e6), noNaN: true }).filter((x) => !Number.isInteger(x)),
      );
    case 'number':
      return fc.oneof(wrongType, fc.double({ min: -1e12, max: spec.min, noNaN: true }).filter((x) => x < spec.min), fc.constant(spec.max * 2 + 1));
    case 'bool':
      return fc.constantFrom<unknown>(0, 1, 'true', null);
    case 'enum':
      return fc.oneof(fc.constantFrom<unknown>(1, null, ''), fc.string().filter((s) => !spec.values.includes(s)));
    case 'text':
      return fc.constantFrom<unknown>(1, null, undefined, [], {});
  }
}

/** A config where each field is valid, plus the set of fields made invalid (possibly empty). */
export function configArbitrary<C extends Config>(schema: ConfigSchema<C>, opts: { invalidRate?: number; smallCap?: number } = {}) {
  const fields = Object.entries(schema) as [string, FieldSpec][];
  return fc
    .tuple(
      ...fields.map(([, spec]) =>
        fc.tuple(fc.integer({ min: 0, max: 999 }), validValue(spec, opts.smallCap), invalidValue(spec)),
      ),
    )
    .map((vals) => {
      const config: Record<string, unknown> = {};
      const invalid: string[] = [];
      vals.forEach(([coin, good, bad], i) => {
        const name = fields[i]![0];
        if (coin < (opts.invalidRate ?? 0) * 1000) {
          config[name] = bad;
          invalid.push(name);
        } else {
          config[name] = good;
        }
      });
      return { config: config as C, invalid };
    });
}
