// The out-of-memory scope without a GPU: a device that reports GPUOutOfMemoryError after the kernel's
// create() returned. SwiftShader cannot be made to run out of memory in a test without exhausting the host.
import { describe, expect, it } from 'vitest';
import { withOutOfMemoryScope } from './buffers.ts';
import { GpuMemoryError } from './errors.ts';

function fakeDevice(error: { message: string } | null) {
  const scopes: string[] = [];
  return {
    scopes,
    pushErrorScope(filter: GPUErrorFilter): undefined {
      scopes.push(filter);
    },
    async popErrorScope() {
      scopes.pop();
      return error as GPUError | null;
    },
  };
}

describe('withOutOfMemoryScope', () => {
  it('an allocation refused by the device becomes a GpuMemoryError naming the kernel, and what was made is freed', async () => {
    const device = fakeDevice({ message: 'Out of memory allocating 68719476736 bytes\n - While calling createBuffer' });
    const freed: string[] = [];
    const p = withOutOfMemoryScope(device, 'attention.naive', async () => 'instance', (x) => freed.push(x));
    await expect(p).rejects.toThrow(GpuMemoryError);
    await expect(withOutOfMemoryScope(device, 'attention.naive', () => 'again')).rejects.toThrow(
      /^attention\.naive: the device is out of memory \(Out of memory allocating 68719476736 bytes\)$/,
    );
    expect(freed).toEqual(['instance']);
    expect(device.scopes).toEqual([]); // every pushed scope was popped
  });

  it('passes the result through when the device reports nothing, and pops the scope when make throws', async () => {
    const device = fakeDevice(null);
    await expect(withOutOfMemoryScope(device, 'k', () => 42)).resolves.toBe(42);
    await expect(withOutOfMemoryScope(device, 'k', () => Promise.reject(new Error('bad config')))).rejects.toThrow('bad config');
    expect(device.scopes).toEqual([]);
  });
});
