// Run a kernel once on host tensors: validate, create, upload, poison the outputs, dispatch, read back,
// destroy. Used by the tests, verify and the UI's verification badge (the bench has its own timed loop).
import type { GpuContext } from '../gpu/context.ts';
import { withOutOfMemoryScope } from '../gpu/buffers.ts';
import { ConfigError } from '../gpu/errors.ts';
import type { Config, KernelDefinition, KernelInstance, OutputSpec, TensorSpec } from './contract.ts';
import { decodeTensor, encodeTensor, numel, tensorBytes, type HostTensor } from './tensor.ts';
import { validateConfig } from './common/validate.ts';
import { randomNormal, type Rng } from './random.ts';

/** Validate or throw ConfigError (one line per field). */
export function assertValid<C extends Config>(ctx: GpuContext, def: KernelDefinition<C>, config: C): void {
  const issues = validateConfig(def, config, ctx);
  if (issues.length) throw new ConfigError(issues);
}

export async function createInstance<C extends Config>(ctx: GpuContext, def: KernelDefinition<C>, config: C): Promise<KernelInstance> {
  ctx.assertAlive();
  assertValid(ctx, def, config);
  return withOutOfMemoryScope(ctx.device, def.id, () => def.create(ctx, config), (instance) => instance.destroy());
}

export function makeInputs<C extends Config>(def: KernelDefinition<C>, config: C, rng: Rng): Record<string, HostTensor> {
  if (def.randomInputs) return def.randomInputs(config, rng);
  const out: Record<string, HostTensor> = {};
  for (const spec of def.inputs(config)) out[spec.name] = randomNormal(rng, spec.shape);
  return out;
}

export function uploadInputs(ctx: GpuContext, instance: KernelInstance, specs: TensorSpec[], inputs: Record<string, HostTensor>): void {
  for (const spec of specs) {
    const t = inputs[spec.name];
    if (!t) throw new ConfigError([{ field: spec.name, message: 'input tensor is missing' }]);
    if (numel(t.shape) !== numel(spec.shape) || t.data.length !== numel(spec.shape)) {
      throw new ConfigError([{ field: spec.name, message: `shape [${t.shape}] does not match the expected [${spec.shape}]` }]);
    }
    ctx.device.queue.writeBuffer(instance.tensors[spec.name]!, 0, encodeTensor(t, spec.dtype));
  }
}

/** Fill outputs with 0xFF bytes (NaN in f32/f16, -1 in integers) so an unwritten element cannot pass. */
export function poisonOutputs(ctx: GpuContext, instance: KernelInstance, specs: OutputSpec[]): void {
  for (const spec of specs) {
    const bytes = Math.ceil(tensorBytes(spec.shape, spec.dtype) / 4) * 4;
    ctx.device.queue.writeBuffer(instance.tensors[spec.name]!, 0, new Uint8Array(bytes).fill(0xff));
  }
}

export async function readOutputs(ctx: GpuContext, instance: KernelInstance, specs: OutputSpec[]): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const spec of specs) {
    const bytes = await ctx.buffers.read(instance.tensors[spec.name]!, tensorBytes(spec.shape, spec.dtype));
    out[spec.name] = decodeTensor(bytes, spec.shape, spec.dtype);
  }
  return out;
}

export function encodeOnce(ctx: GpuContext, instance: KernelInstance): void {
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  instance.encode(pass);
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
}

/** One full run on the device; returns the kernel's outputs. `create` builds the instance another way (tests set internal knobs). */
export async function runKernel<C extends Config>(
  ctx: GpuContext,
  def: KernelDefinition<C>,
  config: C,
  inputs: Record<string, HostTensor>,
  create: () => Promise<KernelInstance> = () => createInstance(ctx, def, config),
): Promise<Record<string, HostTensor>> {
  const instance = await create();
  try {
    uploadInputs(ctx, instance, def.inputs(config), inputs);
    const outs = def.outputs(config);
    poisonOutputs(ctx, instance, outs);
    encodeOnce(ctx, instance);
    const result = await readOutputs(ctx, instance, outs);
    ctx.assertAlive();
    return result;
  } finally {
    instance.destroy();
  }
}
