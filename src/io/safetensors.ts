// safetensors: 8-byte little-endian header length N, N bytes of JSON header, then raw little-endian data.
// Header: { "__metadata__": {str: str}, name: { dtype, shape, data_offsets: [begin, end] } } with offsets
// relative to the data section. The reader trusts nothing: every length, offset, dtype and shape is checked
// against the file before a byte is copied, and it never allocates more than the file's size.
import { fromHalfBits, numel, type HostTensor } from '../kernels/tensor.ts';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const ITEM_BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Largest header we accept (the format's own readers cap it at 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface StTensor extends HostTensor {
  dtype: StDType;
}

export interface Safetensors {
  metadata: Record<string, string>;
  tensors: Record<string, StTensor>;
}

function fail(where: string, msg: string): never {
  throw new SafetensorsError(`${where}: ${msg}`);
}

export function readSafetensors(bytes: Uint8Array, where = 'file'): Safetensors {
  if (bytes.byteLength < 8) fail(where, `truncated: ${bytes.byteLength} bytes, a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES) fail(where, `header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + headerLen > bytes.byteLength) fail(where, `header length ${headerLen} runs past the end of the ${bytes.byteLength}-byte file (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(where, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail(where, 'header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: StDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(where, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(where, `__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!t || typeof t !== 'object') fail(where, `tensor "${name}" has no description`);
    if (typeof t.dtype !== 'string' || !(t.dtype in ITEM_BYTES)) fail(where, `tensor "${name}" has unknown dtype ${JSON.stringify(t.dtype)} (known: ${Object.keys(ITEM_BYTES).join(', ')})`);
    const dtype = t.dtype as StDType;
    if (!Array.isArray(t.shape) || !t.shape.every((x) => Number.isSafeInteger(x) && x >= 0)) fail(where, `tensor "${name}" shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    const shape = t.shape as number[];
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0)) fail(where, `tensor "${name}" data_offsets ${JSON.stringify(off)} must be [begin, end]`);
    const [begin, end] = off as [number, number];
    if (end < begin) fail(where, `tensor "${name}" data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(where, `tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${dataLen}-byte data section`);
    const want = numel(shape) * ITEM_BYTES[dtype];
    if (end - begin !== want) fail(where, `tensor "${name}" has ${end - begin} bytes but ${dtype} [${shape}] needs ${want}`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // Tensors may not overlap (the format forbids it; overlapping ones usually mean a forged header).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) fail(where, `tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" overlap in the data section`);
  }
  const tensors: Record<string, StTensor> = {};
  for (const e of entries) tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decode(bytes, dataStart + e.begin, e.dtype, numel(e.shape)) };
  return { metadata, tensors };
}

function decode(bytes: Uint8Array, offset: number, dtype: StDType, n: number): StTensor['data'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, n * ITEM_BYTES[dtype]);
  switch (dtype) {
    case 'F64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F32': {
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
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`I64 value ${v} does not fit the 32-bit indices the kernels use`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'U32': {
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      return out;
    }
  }
}

export interface StWriteTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: ArrayLike<number>;
}

/** Write a safetensors file (F32 / I32 only: what golden files hold). Tensors are laid out in key order. */
export function writeSafetensors(tensors: Record<string, StWriteTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    if (t.data.length !== numel(t.shape)) throw new SafetensorsError(`tensor "${name}": ${t.data.length} values for shape [${t.shape}]`);
    const size = t.data.length * 4;
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
    for (let i = 0; i < t.data.length; i++, p += 4) {
      if (t.dtype === 'F32') view.setFloat32(p, t.data[i]!, true);
      else view.setInt32(p, t.data[i]!, true);
    }
  }
  return out;
}
