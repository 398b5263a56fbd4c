// Thousands of malformed files: random truncations, byte flips, forged header lengths and forged JSON
// headers. The reader must either parse (then every tensor lies inside the file) or throw a
// SafetensorsError with a message: never a RangeError, a hang, or an allocation beyond the file's size.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, SafetensorsError, writeSafetensors } from './safetensors.ts';

const base = writeSafetensors(
  {
    q: { dtype: 'F32', shape: [3, 2, 4], data: Array.from({ length: 24 }, (_, i) => i * 0.5 - 3) },
    idx: { dtype: 'I32', shape: [2, 3], data: [0, 1, -1, 5, 4, 3] },
  },
  { kernel: 'attention.dense', causal: '1' },
);

/** KERNEL_LAB_FUZZ_SCALE=N multiplies every run count (the suite keeps 1: a few seconds). */
const SCALE = Math.max(1, Number(process.env.KERNEL_LAB_FUZZ_SCALE) || 1);

let tried = 0;
let rejected = 0;
afterAll(() => console.log(`safetensors fuzz: ${tried} mutated files tried: ${rejected} rejected with a message, ${tried - rejected} still well-formed (mutations inside tensor data), 0 crashes`));

function attempt(bytes: Uint8Array) {
  tried++;
  try {
    const st = readSafetensors(bytes, 'fuzz.safetensors');
    let total = 0;
    for (const t of Object.values(st.tensors)) total += t.data.byteLength;
    // Decoded F32/I32 data is never larger than the bytes it came from (F16/BF16 would double, none here).
    expect(total).toBeLessThanOrEqual(bytes.byteLength);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).toMatch(/^fuzz\.safetensors: \S/);
    rejected++;
  }
}

const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
const headerJson = JSON.parse(new TextDecoder().decode(base.subarray(8, 8 + headerLen)));

describe('safetensors reader under malformed input', () => {
  it('byte flips and truncations', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 8 }), fc.nat(base.length), (flips, cut) => {
        const b = new Uint8Array(base.subarray(0, cut));
        for (const [i, v] of flips) if (i < b.length) b[i] = v;
        attempt(b);
      }),
      { numRuns: 3000 * SCALE },
    );
  });

  it('forged header lengths', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (len) => {
        const b = new Uint8Array(base);
        new DataView(b.buffer).setBigUint64(0, len, true);
        attempt(b);
      }),
      { numRuns: 1000 * SCALE },
    );
  });

  it('forged JSON headers (dtypes, shapes, offsets, metadata)', () => {
    const value = fc.oneof(fc.integer({ min: -10, max: 1 << 30 }), fc.string(), fc.constant(null), fc.array(fc.integer({ min: -5, max: 200 }), { maxLength: 4 }));
    fc.assert(
      fc.property(fc.constantFrom('q', 'idx', '__metadata__'), fc.constantFrom('dtype', 'shape', 'data_offsets', 'kernel'), value, (name, field, v) => {
        const h = structuredClone(headerJson);
        h[name][field] = v;
        const json = new TextEncoder().encode(JSON.stringify(h));
        const b = new Uint8Array(8 + json.length + (base.length - 8 - headerLen));
        new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
        b.set(json, 8);
        b.set(base.subarray(8 + headerLen), 8 + json.length);
        attempt(b);
      }),
      { numRuns: 2000 * SCALE },
    );
  });
});
