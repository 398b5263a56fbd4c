// Impossible configs (GQA ratio, zero or oversized dims, a cache over the binding limit, f16 without the feature): each refused before allocation with one line naming the field and
// the limit.
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../contract.ts';
import { findKernel } from '../registry.ts';
import { formatIssues, validateConfig } from './validate.ts';
import { fakeCaps } from '../../../test/device-caps.ts';

const caps = fakeCaps({ maxStorageBufferBindingSize: 2 ** 27 });

const dense = ['attention.naive', 'attention.flash_prefill', 'attention.flash_decode'];

describe('impossible attention configs', () => {
  for (const id of dense) {
    const def = findKernel(id)!;
    const check = (partial: object) => validateConfig(def, withDefaults(def, partial), caps);

    it(`${id}: Hq not a multiple of Hkv`, () => {
      const issues = check({ Hq: 12, Hkv: 8 });
      expect(formatIssues(issues)).toMatch(/^Hq: 12 is not a multiple of Hkv = 8/m);
    });
    it(`${id}: D = 0`, () => {
      expect(formatIssues(check({ D: 0 }))).toBe('D: 0 is below the minimum 1');
    });
    it(`${id}: head dim over 256`, () => {
      expect(formatIssues(check({ D: 512 }))).toBe('D: 512 is above the maximum 256');
    });
    it(`${id}: a KV cache over the binding limit names the tensor, its size and the limit`, () => {
      const issues = check({ T: 1, S: 1_000_000, Hq: 8, Hkv: 8, D: 128 });
      const line = issues.find((i) => i.field === 'k');
      expect(line?.message).toBe('needs 3.81 GiB (4096000000 B), over this device\'s maxStorageBufferBindingSize of 128 MiB (134217728 B)');
    });
    it(`${id}: f16 without shader-f16`, () => {
      expect(formatIssues(check({ dtype: 'f16' }))).toMatch(/dtype: f16 needs the shader-f16 feature/);
    });
    it(`${id}: unknown setting`, () => {
      const issues = validateConfig(def, { ...withDefaults(def, {}), heads: 4 }, caps);
      expect(formatIssues(issues)).toMatch(/^heads: is not a setting of/);
    });
  }
});
