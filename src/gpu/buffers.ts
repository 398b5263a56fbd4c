// Every GPU buffer the project makes goes through a BufferTracker, so "live GPU bytes" is a number we can
// show and test (create -> run -> destroy must return to the baseline), and every allocation is checked
// against the device's limits before the driver sees it.
import { GpuMemoryError } from './errors.ts';

export class BufferTracker {
  #live = new Map<GPUBuffer, number>();
  #liveBytes = 0;

  constructor(
    readonly device: GPUDevice,
    readonly limits: { maxBufferSize: number; maxStorageBufferBindingSize: number },
  ) {}

  /** Bytes held by buffers that are neither destroyed nor released. */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  get liveCount(): number {
    return this.#live.size;
  }

  create(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    // Indirect-dispatch arguments can always be copied out: the bench reads them back to report geometry.
    if (usage & GPUBufferUsage.INDIRECT) usage |= GPUBufferUsage.COPY_SRC;
    // WebGPU wants sizes in multiples of 4; a zero-size binding is invalid, so keep at least 4 bytes.
    const bytes = Math.max(4, Math.ceil(size / 4) * 4);
    if (bytes > this.limits.maxBufferSize) {
      throw new GpuMemoryError(`${label}: ${fmtBytes(bytes)} exceeds this device's maxBufferSize of ${fmtBytes(this.limits.maxBufferSize)}`);
    }
    if (usage & GPUBufferUsage.STORAGE && bytes > this.limits.maxStorageBufferBindingSize) {
      throw new GpuMemoryError(
        `${label}: ${fmtBytes(bytes)} exceeds this device's maxStorageBufferBindingSize of ${fmtBytes(this.limits.maxStorageBufferBindingSize)}`,
      );
    }
    const buffer = this.device.createBuffer({ label, size: bytes, usage });
    this.#live.set(buffer, bytes);
    this.#liveBytes += bytes;
    return buffer;
  }

  /** A storage buffer that can be written from the CPU and read back. */
  storage(label: string, size: number): GPUBuffer {
    return this.create(label, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  }

  destroy(buffer: GPUBuffer | undefined): void {
    if (!buffer) return;
    const bytes = this.#live.get(buffer);
    if (bytes !== undefined) {
      this.#live.delete(buffer);
      this.#liveBytes -= bytes;
    }
    buffer.destroy();
  }

  /** Copy a storage buffer back to the CPU (one staging buffer, destroyed after). */
  async read(buffer: GPUBuffer, byteLength = buffer.size): Promise<ArrayBuffer> {
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.create(`${buffer.label}:readback`, size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0, byteLength);
    } finally {
      this.destroy(staging);
    }
  }
}

/**
 * Run `make` under an out-of-memory error scope: a refused allocation becomes a GpuMemoryError. WebGPU
 * reports it asynchronously, after `make` has returned an object holding the other (valid) buffers, so
 * `discard` frees that object before the error is thrown.
 */
export async function withOutOfMemoryScope<T>(device: Pick<GPUDevice, 'pushErrorScope' | 'popErrorScope'>, what: string, make: () => Promise<T> | T, discard?: (made: T) => void): Promise<T> {
  device.pushErrorScope('out-of-memory');
  let made: { value: T } | undefined;
  try {
    made = { value: await make() };
  } finally {
    const err = await device.popErrorScope();
    if (err) {
      if (made) discard?.(made.value);
      throw new GpuMemoryError(`${what}: the device is out of memory (${err.message.split('\n')[0]})`);
    }
  }
  return made.value;
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]} (${n} B)`;
}
