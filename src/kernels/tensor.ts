// Host-side tensors and their byte encodings. Float16 is converted by hand: Float16Array is not yet in
// every runtime we target (Node 20, older Safari).
export type TensorDType = 'f32' | 'f16' | 'i32' | 'u32';

export interface HostTensor {
  shape: number[];
  /** Floats in f32 or f64; integers in Int32Array / Uint32Array. */
  data: Float32Array | Float64Array | Int32Array | Uint32Array;
}

export const BYTES_PER: Record<TensorDType, number> = { f32: 4, f16: 2, i32: 4, u32: 4 };

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(shape: readonly number[], dtype: TensorDType): number {
  return numel(shape) * BYTES_PER[dtype];
}

export function f64(shape: number[], data?: ArrayLike<number>): HostTensor {
  return { shape, data: data ? Float64Array.from(data) : new Float64Array(numel(shape)) };
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary16 bits of x, round to nearest even (subnormals and overflow to Inf handled). */
export function toHalfBits(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | half;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Bytes to upload for a tensor stored on the device as `dtype` (padded to 4 bytes). */
export function encodeTensor(t: HostTensor, dtype: TensorDType): ArrayBuffer {
  const n = t.data.length;
  const bytes = Math.ceil((n * BYTES_PER[dtype]) / 4) * 4;
  const out = new ArrayBuffer(Math.max(4, bytes));
  switch (dtype) {
    case 'f32':
      new Float32Array(out, 0, n).set(t.data);
      break;
    case 'f16': {
      const h = new Uint16Array(out, 0, n);
      for (let i = 0; i < n; i++) h[i] = toHalfBits(t.data[i]!);
      break;
    }
    case 'i32':
      new Int32Array(out, 0, n).set(t.data);
      break;
    case 'u32':
      new Uint32Array(out, 0, n).set(t.data);
      break;
  }
  return out;
}

export function decodeTensor(bytes: ArrayBuffer, shape: number[], dtype: TensorDType): HostTensor {
  const n = numel(shape);
  switch (dtype) {
    case 'f32':
      return { shape, data: new Float32Array(bytes, 0, n) };
    case 'f16': {
      const h = new Uint16Array(bytes, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = fromHalfBits(h[i]!);
      return { shape, data: out };
    }
    case 'i32':
      return { shape, data: new Int32Array(bytes, 0, n) };
    case 'u32':
      return { shape, data: new Uint32Array(bytes, 0, n) };
  }
}

/** A tensor rounded through the device dtype, so references see exactly what the GPU sees. */
export function roundTo(t: HostTensor, dtype: TensorDType): HostTensor {
  if (dtype !== 'f16') return t;
  return decodeTensor(encodeTensor(t, 'f16'), t.shape, 'f16');
}
