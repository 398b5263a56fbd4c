import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, readSafetensors, SafetensorsError, writeSafetensors } from './safetensors.ts';

function file(header: object, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 and I32 tensors with metadata', () => {
    const bytes = writeSafetensors(
      { a: { dtype: 'F32', shape: [2, 3], data: [1, -2.5, 3, 4, 5, 6e-8] }, idx: { dtype: 'I32', shape: [3], data: [-1, 0, 7] } },
      { kernel: 'x', topk: '3' },
    );
    const st = readSafetensors(bytes);
    expect(st.metadata).toEqual({ kernel: 'x', topk: '3' });
    expect([...st.tensors.a!.data]).toEqual([...Float32Array.from([1, -2.5, 3, 4, 5, 6e-8])]);
    expect(st.tensors.a!.shape).toEqual([2, 3]);
    expect([...st.tensors.idx!.data]).toEqual([-1, 0, 7]);
    expect(st.tensors.idx!.dtype).toBe('I32');
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than the length prefix', new Uint8Array(5), /truncated/],
    ['header length past the end', (() => { const b = file({}); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /runs past the end/],
    ['huge header length', (() => { const b = file({}); new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES) + 1n, true); return b; })(), /over the .* limit/],
    ['header not JSON', (() => { const b = file({}); b[8] = 0x7a; return b; })(), /must start with "\{"/],
    ['unknown dtype', file({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown dtype "F8_E4M3"/],
    ['offsets outside data', file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /outside the 8-byte data section/],
    ['shape disagrees with bytes', file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /has 8 bytes but F32 \[3\] needs 12/],
    ['overlapping tensors', file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /overlap/],
    ['negative shape', file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }), /shape has -1, not a non-negative integer/],
    ['metadata not strings', file({ __metadata__: { topk: 3 } }), /must be a string/],
    ['end before begin', file({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /end before/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`rejects ${name} with a message`, () => {
      expect(() => readSafetensors(bytes, 'x.safetensors')).toThrowError(SafetensorsError);
      expect(() => readSafetensors(bytes, 'x.safetensors')).toThrowError(message);
    });
  }
});
