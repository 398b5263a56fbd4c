// safetensors: 8-byte little-endian header length N, N bytes of JSON header, then raw little-endian data.
// Header: { "__metadata__": {str: str}, name: { dtype, shape, data_offsets: [begin, end] } } with offsets
// relative to the data section. The reader checks what the format's reference implementation checks: the
// header is one JSON object starting with `{` (no BOM), with no duplicate keys; shapes and offsets are plain
// non-negative integers (not `3.0` or `2e0`); sorted by offset, the tensors tile the data section exactly,
// from byte 0 to its last byte (no gaps, no overlaps, no trailing bytes), in whatever order the header
// lists them. Nothing is copied before all of that holds, and decoded data never takes more room than
// twice its bytes (halves widen to f32; bytes stay bytes).
import { fromHalfBits, numel, toHalfBits, type HostTensor } from '../kernels/tensor.ts';
import { quote } from './printable.ts';
import { JsonNumber, parseStrictJson, type JsonValue } from './strict-json.ts';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export const ITEM_BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Largest header we accept (the format's own readers cap it at 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Narrow integer types stay narrow (a U8 mask is not four times its size in memory). */
export type StData = HostTensor['data'] | Uint8Array | Int8Array | Int16Array;

export interface StTensor {
  dtype: StDType;
  shape: number[];
  data: StData;
}

export interface Safetensors {
  metadata: Record<string, string>;
  tensors: Record<string, StTensor>;
}

export interface StEntry {
  name: string;
  dtype: StDType;
  shape: number[];
  begin: number;
  end: number;
}

export interface StHeader {
  metadata: Record<string, string>;
  /** In data order. */
  entries: StEntry[];
  /** Bytes the data section must have: the last tensor's end (0 without tensors). */
  dataBytes: number;
}

function fail(where: string, msg: string): never {
  throw new SafetensorsError(`${where}: ${msg}`);
}

/** The 8-byte prefix: the header length, checked against the format's cap (and the file size when known). */
export function headerLength(prefix: Uint8Array, where: string, fileBytes?: number): number {
  if (prefix.byteLength < 8) fail(where, `truncated: ${prefix.byteLength} bytes, a safetensors file starts with an 8-byte header length`);
  const len = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (len > BigInt(MAX_HEADER_BYTES)) fail(where, `header length ${len} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(len);
  if (n < 2) fail(where, `header length ${n} is too short for a JSON object`);
  if (fileBytes !== undefined && 8 + n > fileBytes) fail(where, `header length ${n} runs past the end of the ${fileBytes}-byte file (truncated?)`);
  return n;
}

/** Plain non-negative integer as the reference reader accepts for a usize: digits only. */
function count(v: JsonValue | undefined): number | undefined {
  return v instanceof JsonNumber && /^(0|[1-9][0-9]*)$/.test(v.text) && Number.isSafeInteger(v.value) ? v.value : undefined;
}

function show(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v instanceof JsonNumber) return v.text;
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v === 'string' ? quote(v.length > 40 ? `${v.slice(0, 40)}...` : v) : String(v);
}

/** Parse and check the JSON header (the bytes after the length prefix); nothing about the data is read. */
export function parseHeader(headerBytes: Uint8Array, where: string): StHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail(where, 'header is not valid UTF-8');
  }
  // The reference reader requires the header to start with `{` (a BOM or leading space is refused);
  // trailing spaces are the writer's alignment padding.
  if (text.charCodeAt(0) !== 0x7b) fail(where, `header must start with "{", it starts with ${quote(text.slice(0, 1))}`);
  const metadata: Record<string, string> = Object.create(null);
  const entries: StEntry[] = [];
  const member = (name: string, raw: JsonValue) => {
    if (name === '__metadata__') {
      if (!(raw instanceof Map)) fail(where, `__metadata__ must be an object of strings, got ${show(raw)}`);
      for (const [k, v] of raw) {
        if (k === '__proto__') fail(where, `__metadata__ key ${quote(k)} is not allowed`);
        if (typeof v !== 'string') fail(where, `__metadata__.${quote(k)} must be a string, got ${show(v)}`);
        metadata[k] = v;
      }
      return;
    }
    const t = () => `tensor ${quote(name)}`;
    if (name === '__proto__') fail(where, `${t()}: the name is not allowed`);
    if (!(raw instanceof Map)) fail(where, `${t()} has no description (got ${show(raw)})`);
    for (const k of raw.keys()) if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') fail(where, `${t()} has an unknown field ${quote(k)}`);
    const dt = raw.get('dtype');
    if (typeof dt !== 'string' || !Object.hasOwn(ITEM_BYTES, dt)) fail(where, `${t()} has unknown dtype ${show(dt)} (known: ${Object.keys(ITEM_BYTES).join(', ')})`);
    const dtype = dt as StDType;
    const rawShape = raw.get('shape');
    if (!Array.isArray(rawShape)) fail(where, `${t()} shape ${show(rawShape)} is not a list of non-negative integers`);
    const shape: number[] = [];
    for (const x of rawShape) {
      const v = count(x);
      if (v === undefined) fail(where, `${t()} shape has ${show(x)}, not a non-negative integer`);
      shape.push(v);
    }
    const off = raw.get('data_offsets');
    const begin = Array.isArray(off) && off.length === 2 ? count(off[0]) : undefined;
    const end = Array.isArray(off) && off.length === 2 ? count(off[1]) : undefined;
    if (begin === undefined || end === undefined) fail(where, `${t()} data_offsets ${Array.isArray(off) ? `[${off.map(show).join(', ')}]` : show(off)} must be [begin, end], two non-negative integers`);
    if (end < begin) fail(where, `${t()} data_offsets [${begin}, ${end}] end before they begin`);
    // Elements times item size without overflow: any product past 2^53 cannot match a real byte range.
    let want = ITEM_BYTES[dtype];
    for (const d of shape) {
      want *= d;
      if (want > Number.MAX_SAFE_INTEGER) fail(where, `${t()} ${dtype} [${shape}] is larger than any file`);
    }
    if (end - begin !== want) fail(where, `${t()} has ${end - begin} bytes but ${dtype} [${shape}] needs ${want}`);
    entries.push({ name, dtype, shape, begin, end });
  };
  let header: JsonValue;
  try {
    // Depth 3 is all the format has (header -> tensor -> shape list); more is refused, not walked. Each
    // member becomes an entry as soon as it is parsed, so the JSON tree is never held whole.
    header = parseStrictJson(text, 3, member);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    fail(where, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (!(header instanceof Map)) fail(where, 'header is not a JSON object');
  // Sorted by offset, every tensor must start where the previous one ended (the reference reader's rule:
  // no gaps, no overlaps, whatever order the header lists them in).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: StEntry | undefined;
  for (const e of entries) {
    if (e.begin < at) fail(where, `tensors ${quote(prev!.name)} and ${quote(e.name)} overlap in the data section ([${prev!.begin}, ${prev!.end}] and [${e.begin}, ${e.end}])`);
    if (e.begin > at) fail(where, `gap in the data section: bytes ${at}..${e.begin} before tensor ${quote(e.name)} belong to no tensor`);
    at = e.end;
    prev = e;
  }
  return { metadata, entries, dataBytes: at };
}

/** Check the data section's size against the header: exactly its tensors, nothing missing, nothing after. */
export function checkDataSize(header: StHeader, dataBytes: number, where: string): void {
  if (dataBytes < header.dataBytes) {
    const last = header.entries[header.entries.length - 1]!;
    fail(where, `tensor ${quote(last.name)} data_offsets [${last.begin}, ${last.end}] lie outside the ${dataBytes}-byte data section (truncated?)`);
  }
  if (dataBytes > header.dataBytes) fail(where, `${dataBytes - header.dataBytes} trailing bytes after the last tensor (the data section must hold exactly its tensors)`);
}

/** Decode every tensor of a checked header from its data section (offset 0 = the first data byte). */
export function decodeTensors(header: StHeader, data: Uint8Array, where: string): Safetensors {
  checkDataSize(header, data.byteLength, where);
  const tensors: Record<string, StTensor> = Object.create(null);
  for (const e of header.entries) tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decode(data, e, where) };
  return { metadata: header.metadata, tensors };
}

/** Read a whole safetensors file held in memory (the UI; Node reads files with readSafetensorsFile). */
export function readSafetensors(bytes: Uint8Array, where = 'file'): Safetensors {
  const n = headerLength(bytes, where, bytes.byteLength);
  const header = parseHeader(bytes.subarray(8, 8 + n), where);
  return decodeTensors(header, bytes.subarray(8 + n), where);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Empty tensors of each dtype share one zero-length array: a header can list hundreds of thousands of them. */
const EMPTY: Partial<Record<StDType, StData>> = {};

function decode(bytes: Uint8Array, e: StEntry, where: string): StData {
  if (e.begin === e.end) return (EMPTY[e.dtype] ??= decodeData(new Uint8Array(0), { ...e, begin: 0, end: 0 }, where));
  return decodeData(bytes, e, where);
}

function decodeData(bytes: Uint8Array, e: StEntry, where: string): StData {
  const n = numel(e.shape);
  const offset = bytes.byteOffset + e.begin;
  const view = new DataView(bytes.buffer, offset, e.end - e.begin);
  // Same-width types are views when aligned (no copy); otherwise element by element.
  const aligned = (size: number) => LITTLE_ENDIAN && offset % size === 0;
  switch (e.dtype) {
    case 'F64': {
      if (aligned(8)) return new Float64Array(bytes.buffer, offset, n);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F32': {
      if (aligned(4)) return new Float32Array(bytes.buffer, offset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = fromHalfBits(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) fail(where, `tensor ${quote(e.name)} (I64) element ${i} = ${v} does not fit the 32-bit indices the kernels use`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32': {
      if (aligned(4)) return new Int32Array(bytes.buffer, offset, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'U32': {
      if (aligned(4)) return new Uint32Array(bytes.buffer, offset, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true);
      return out;
    }
    case 'I16': {
      if (aligned(2)) return new Int16Array(bytes.buffer, offset, n);
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8':
      return new Int8Array(bytes.buffer, offset, n);
    case 'U8':
      return new Uint8Array(bytes.buffer, offset, n);
    case 'BOOL': {
      for (let i = 0; i < n; i++) if (bytes[e.begin + i]! > 1) fail(where, `tensor ${quote(e.name)} (BOOL) element ${i} is ${bytes[e.begin + i]}, not 0 or 1`);
      return new Uint8Array(bytes.buffer, offset, n);
    }
  }
}

/** Every tensor as the kernels' host type (narrow integers widened), for code that feeds them to references. */
export function hostTensors(st: Safetensors): Safetensors & { tensors: Record<string, StTensor & HostTensor> } {
  const tensors: Record<string, StTensor & HostTensor> = Object.create(null);
  for (const [name, t] of Object.entries(st.tensors)) tensors[name] = { ...t, data: hostData(t) };
  return { metadata: st.metadata, tensors };
}

/** A tensor's data as one of the kernels' host types (narrow integers widened to Int32 on demand). */
export function hostData(t: StTensor): HostTensor['data'] {
  const d = t.data;
  return d instanceof Uint8Array || d instanceof Int8Array || d instanceof Int16Array ? Int32Array.from(d) : d;
}

export interface StWriteTensor {
  dtype: 'F32' | 'I32' | 'F16';
  shape: number[];
  data: ArrayLike<number>;
}

/** Write a safetensors file (F32 / F16 / I32: what golden files hold). Tensors are laid out in key order. */
export function writeSafetensors(tensors: Record<string, StWriteTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    if (t.data.length !== numel(t.shape)) throw new SafetensorsError(`tensor ${quote(name)}: ${t.data.length} values for shape [${t.shape}]`);
    const size = t.data.length * ITEM_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name]!;
    for (let i = 0; i < t.data.length; i++) {
      if (t.dtype === 'F32') view.setFloat32(p, t.data[i]!, true);
      else if (t.dtype === 'F16') view.setUint16(p, toHalfBits(t.data[i]!), true);
      else view.setInt32(p, t.data[i]!, true);
      p += ITEM_BYTES[t.dtype];
    }
  }
  return out;
}
