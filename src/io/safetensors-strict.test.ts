// Mutants of a valid file that the format's reference reader refuses, and special files that must be
// refused before a byte is read. Each names the file and the tensor or key.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, SafetensorsError, writeSafetensors } from './safetensors.ts';
import { readSafetensorsFile } from './node-files.ts';
import { parseStrictJson } from './strict-json.ts';

/** A file from a raw header text and data bytes (no writer involved, so anything can be forged). */
function raw(header: string, data: Uint8Array | number = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(d, 8 + json.length);
  return out;
}

const t = (dtype: string, shape: string, b: number, e: number) => `{"dtype":"${dtype}","shape":${shape},"data_offsets":[${b},${e}]}`;

describe('safetensors reader: format violations (class 9)', () => {
  const refused: [string, Uint8Array, RegExp][] = [
    ['trailing bytes', raw(`{"a":${t('F32', '[2]', 0, 8)}}`, 12), /4 trailing bytes after the last tensor/],
    ['a gap between tensors', raw(`{"a":${t('F32', '[1]', 0, 4)},"b":${t('F32', '[1]', 8, 12)}}`, 12), /gap in the data section: bytes 4\.\.8 before tensor "b"/],
    ['a shape written 3.0', raw(`{"a":${t('F32', '[3.0]', 0, 12)}}`, 12), /tensor "a" shape has 3\.0, not a non-negative integer/],
    ['a shape written 2e0', raw(`{"a":${t('F32', '[2e0]', 0, 8)}}`, 8), /tensor "a" shape has 2e0/],
    ['an offset written 8.0', raw(`{"a":${t('F32', '[2]', 0, '8.0' as never)}}`, 8), /tensor "a" data_offsets/],
    ['a BOM before the header', raw(`\ufeff{"a":${t('F32', '[2]', 0, 8)}}`, 8), /must start with "\{"/],
    ['a duplicate tensor key', raw(`{"out":${t('F32', '[1]', 0, 4)},"out":${t('F32', '[1]', 4, 8)}}`, 8), /duplicate key "out"/],
    ['a duplicate metadata key', raw(`{"__metadata__":{"kernel":"a","kernel":"b"}}`), /duplicate key "kernel" at character \d+ in "__metadata__"/],
    ['a tensor named __proto__', raw(`{"__proto__":${t('F32', '[1]', 0, 4)}}`, 4), /tensor "__proto__": the name is not allowed/],
    ['deeply nested shapes', raw(`{"a":{"dtype":"F32","shape":${'['.repeat(100000)}${']'.repeat(100000)},"data_offsets":[0,0]}}`), /nested deeper than 3 levels at character \d+ in "a"\."shape"/],
    ['deeply nested metadata', raw(`{"__metadata__":{"x":${'{"y":'.repeat(50000)}1${'}'.repeat(50000)}}}`), /nested deeper than 3 levels/],
    ['an I64 index that overflows', raw(`{"idx":${t('I64', '[1]', 0, 8)}}`, new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0])), /tensor "idx" \(I64\) element 0 = 4294967296 does not fit/],
  ];
  for (const [name, bytes, message] of refused) {
    it(`refuses ${name}, naming the file and the tensor or key`, () => {
      expect(() => readSafetensors(bytes, 'm.safetensors')).toThrowError(SafetensorsError);
      expect(() => readSafetensors(bytes, 'm.safetensors')).toThrowError(/^m\.safetensors: /);
      expect(() => readSafetensors(bytes, 'm.safetensors')).toThrowError(message);
    });
  }

  it('finds overlaps whatever order the header lists the tensors in', () => {
    const a = t('F32', '[2]', 0, 8);
    const b = t('F32', '[2]', 4, 12);
    for (const header of [`{"a":${a},"b":${b}}`, `{"b":${b},"a":${a}}`]) {
      expect(() => readSafetensors(raw(header, 12), 'o.safetensors')).toThrowError(/tensors "a" and "b" overlap/);
    }
  });

  it('accepts tensors listed out of data order, and empty tensors', () => {
    const st = readSafetensors(raw(`{"b":${t('F32', '[1]', 4, 8)},"e":${t('F32', '[0,3]', 8, 8)},"a":${t('F32', '[1]', 0, 4)}}`, 8), 'ok');
    expect(Object.keys(st.tensors).sort()).toEqual(['a', 'b', 'e']);
  });
});

describe('safetensors reader: memory (class 5)', () => {
  it('keeps U8, I8 and BOOL one byte per element', () => {
    const st = readSafetensors(raw(`{"u":${t('U8', '[4]', 0, 4)},"i":${t('I8', '[4]', 4, 8)},"m":${t('BOOL', '[4]', 8, 12)}}`, new Uint8Array([1, 2, 3, 4, 255, 0, 1, 2, 1, 0, 1, 1])), 'n');
    expect(st.tensors.u!.data).toBeInstanceOf(Uint8Array);
    expect(st.tensors.i!.data).toBeInstanceOf(Int8Array);
    expect([...st.tensors.i!.data]).toEqual([-1, 0, 1, 2]);
    expect(st.tensors.m!.data.byteLength).toBe(4);
  });

  it('many empty tensors share one array, and the header tree is not kept beside the entries', () => {
    const n = 20_000;
    const header = `{${Array.from({ length: n }, (_, i) => `"t${i}":${t('F32', '[0]', 0, 0)}`).join(',')}}`;
    const st = readSafetensors(raw(header), 'e');
    expect(Object.keys(st.tensors)).toHaveLength(n);
    expect(new Set(Object.values(st.tensors).map((x) => x.data)).size).toBe(1);
    const members: string[] = [];
    const root = parseStrictJson(header, 3, (k) => members.push(k));
    expect(members).toHaveLength(n);
    expect((root as Map<string, unknown>).size).toBe(0);
    expect(() => parseStrictJson('{"a":1,"a":2}', 3, () => {})).toThrowError(/duplicate key "a"/);
  });

  it('decodes aligned F32 as a view of the bytes read (no second copy)', () => {
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] } });
    expect(readSafetensors(bytes).tensors.a!.data.buffer).toBe(bytes.buffer);
  });
});

describe('safetensors files: special files refused before reading (class 4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const fifo = join(dir, 'pipe.safetensors');
  execFileSync('mkfifo', [fifo]);
  for (const [name, path, message] of [
    ['a FIFO', fifo, /is a FIFO \(named pipe\), not a regular file/],
    ['/dev/zero', '/dev/zero', /is a character device, not a regular file/],
    ['a directory', dir, /is a directory, not a regular file/],
  ] as const) {
    it(`refuses ${name} at once`, () => {
      expect(() => readSafetensorsFile(path, 1 << 30)).toThrowError(SafetensorsError);
      expect(() => readSafetensorsFile(path, 1 << 30)).toThrowError(message);
    });
  }

  it('refuses a file whose header claims more data than the file holds, before allocating it', () => {
    const p = join(dir, 'short.safetensors');
    writeFileSync(p, raw(`{"a":${t('F32', '[268435456]', 0, 1073741824)}}`, 16));
    expect(() => readSafetensorsFile(p, 1 << 30)).toThrowError(/tensor "a" data_offsets \[0, 1073741824\] lie outside the 16-byte data section/);
  });

  it('refuses a 1000 MB file with a bad header after reading its first bytes, not the whole file (class 5)', () => {
    const p = join(dir, 'huge.safetensors');
    writeFileSync(p, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    truncateSync(p, 1000 * 2 ** 20); // sparse: no disk used
    const before = process.memoryUsage().rss;
    expect(() => readSafetensorsFile(p, 1 << 30)).toThrowError(/header length \d+ is over the 104857600-byte limit/);
    // Nothing near the file's size was allocated (the limit is generous: RSS moves by a few MB on its own).
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
  });

  it('refuses trailing bytes in a file on disk', () => {
    const p = join(dir, 'long.safetensors');
    writeFileSync(p, raw(`{"a":${t('F32', '[1]', 0, 4)}}`, 5));
    expect(() => readSafetensorsFile(p, 1 << 30)).toThrowError(/1 trailing bytes/);
  });
});
