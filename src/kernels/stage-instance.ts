// Most kernels are one stage (a set of pipelines with their bind groups) over buffers somebody else owns,
// so that composites (sparse.dsa, moe.forward) can chain stages on shared buffers. Registered alone, a
// stage gets one storage buffer per input and output tensor: this wraps that into a KernelInstance and
// frees the buffers if the stage cannot be built.
import type { GpuContext } from '../gpu/context.ts';
import type { KernelInstance, TensorSpec } from './contract.ts';
import { tensorBytes } from './tensor.ts';

export interface StageLike {
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

export async function instanceOfStage(
  ctx: GpuContext,
  specs: TensorSpec[],
  makeStage: (tensors: Record<string, GPUBuffer>) => Promise<StageLike>,
): Promise<KernelInstance> {
  const b = ctx.buffers;
  const tensors: Record<string, GPUBuffer> = {};
  const free = () => {
    for (const buf of Object.values(tensors)) b.destroy(buf);
  };
  let stage: StageLike;
  try {
    for (const s of specs) tensors[s.name] = b.storage(s.name, tensorBytes(s.shape, s.dtype));
    stage = await makeStage(tensors);
  } catch (e) {
    free();
    throw e;
  }
  return {
    tensors,
    encode: (pass) => stage.encode(pass),
    destroy() {
      stage.destroy();
      free();
    },
  };
}
