// Most kernels are one stage (a set of pipelines with their bind groups) over buffers somebody else owns,
// so that composites (sparse.dsa, moe.forward) can chain stages on shared buffers. Registered alone, a
// stage gets the buffers of its plan (or one storage buffer per tensor spec): this wraps that into a
// KernelInstance, allocating through `allocate` and freeing every buffer if the stage cannot be built.
import type { GpuContext } from '../gpu/context.ts';
import { allocate, planned, type BufferPlan } from './common/buffer-plan.ts';
import type { KernelInstance, TensorSpec } from './contract.ts';
import { tensorBytes } from './tensor.ts';

export interface StageLike {
  encode(pass: GPUComputePassEncoder): void;
  /** Stages that own buffers free them here; stages whose buffers all come from the plan have nothing to free. */
  destroy?(): void;
}

function isSpecList(buffers: readonly TensorSpec[] | BufferPlan): buffers is readonly TensorSpec[] {
  return Array.isArray(buffers);
}

/**
 * `buffers`: the stage's buffer plan (the instance's tensors are its inputs and outputs; the stage gets every
 * buffer), or the tensor specs of its inputs and outputs (each one storage buffer, all of them tensors).
 */
export async function instanceOfStage<N extends string>(
  ctx: GpuContext,
  buffers: BufferPlan<N>,
  makeStage: (buffers: Record<N, GPUBuffer>) => Promise<StageLike>,
): Promise<KernelInstance>;
export async function instanceOfStage(
  ctx: GpuContext,
  buffers: readonly TensorSpec[],
  makeStage: (buffers: Record<string, GPUBuffer>) => Promise<StageLike>,
): Promise<KernelInstance>;
export async function instanceOfStage(
  ctx: GpuContext,
  buffers: readonly TensorSpec[] | BufferPlan,
  makeStage: (buffers: Record<string, GPUBuffer>) => Promise<StageLike>,
): Promise<KernelInstance> {
  const specs = isSpecList(buffers) ? buffers : undefined;
  const plan: BufferPlan = isSpecList(buffers) ? Object.fromEntries(buffers.map((t) => [t.name, planned('input', tensorBytes(t.shape, t.dtype))])) : buffers;
  const made = allocate(ctx, '', plan);
  let stage: StageLike;
  try {
    stage = await makeStage({ ...made.buffers });
  } catch (e) {
    made.destroy();
    throw e;
  }
  return {
    tensors: specs ? { ...made.buffers } : { ...made.tensors },
    encode: (pass) => stage.encode(pass),
    destroy() {
      stage.destroy?.();
      made.destroy();
    },
  };
}
