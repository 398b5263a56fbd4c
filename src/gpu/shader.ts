// WGSL lives in shaders/*.wgsl as plain WGSL. Parameter structs are declared once in TS as typegpu schemas;
// `tgpu.resolve` writes their declarations into the module, so byte layouts can never disagree.
// Storage element type: a kernel file that says `elem` / `vec4<elem>` is compiled either as f32 or, where
// the device has shader-f16, as f16 storage (arithmetic stays f32 in the kernels).
import tgpu from 'typegpu';
import * as d from 'typegpu/data';
import type { AnyWgslData, Infer } from 'typegpu/data';
import type { GpuContext } from './context.ts';
import { describeEntryPoint, rememberPipeline } from './pipeline-info.ts';

export type StorageDType = 'f32' | 'f16';

export interface ShaderSource {
  label: string;
  wgsl: string;
  /** typegpu schemas (structs) used by name in the WGSL. */
  structs?: Record<string, object>;
  /** Storage type substituted for `elem` (default f32). */
  elem?: StorageDType;
  /** Extra `enable` directives, e.g. 'subgroups'. */
  enable?: string[];
}

export function resolveShader(src: ShaderSource): string {
  const enables = [...(src.elem === 'f16' ? ['f16'] : []), ...(src.enable ?? [])];
  const header = enables.map((e) => `enable ${e};`).join('\n');
  const alias = `alias elem = ${src.elem ?? 'f32'};`;
  const body = src.structs ? tgpu.resolve({ template: src.wgsl, externals: src.structs }) : src.wgsl;
  return `${header}\n${alias}\n${body}`;
}

/** How a `@binding(i)` is declared in the WGSL: `var<uniform>`, `var<storage, read>`, `var<storage, read_write>`. */
export type BindingKind = 'uniform' | 'read' | 'rw';

export interface KernelPipelines<E extends string> {
  layout: GPUBindGroupLayout;
  pipelines: Record<E, GPUComputePipeline>;
}

/**
 * Compile one WGSL module and a pipeline per entry point, all sharing one explicit bind-group layout
 * (bindings 0..n-1 in `bindings` order), so a multi-stage kernel binds its buffers once.
 * WGSL compilation errors become one readable error with the offending line.
 */
export async function kernelPipelines<E extends string>(
  ctx: GpuContext,
  src: ShaderSource,
  bindings: BindingKind[],
  entryPoints: readonly E[],
  constants: Record<string, number> = {},
): Promise<KernelPipelines<E>> {
  const code = resolveShader(src);
  const module = ctx.device.createShaderModule({ label: src.label, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = code.split('\n');
    const detail = errors.map((e) => `${src.label}:${e.lineNum}:${e.linePos} ${e.message} | ${lines[e.lineNum - 1]?.trim() ?? ''}`);
    throw new Error(`WGSL compilation failed: ${detail.join(' ; ')}`);
  }
  const layout = ctx.device.createBindGroupLayout({
    label: src.label,
    entries: bindings.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
    })),
  });
  const pipelineLayout = ctx.device.createPipelineLayout({ label: src.label, bindGroupLayouts: [layout] });
  const made = await Promise.all(
    entryPoints.map((entryPoint) =>
      ctx.device.createComputePipelineAsync({
        label: `${src.label}:${entryPoint}`,
        layout: pipelineLayout,
        compute: { module, entryPoint, constants },
      }),
    ),
  );
  // Threads and workgroup memory per pipeline, for the bench's dispatch geometry (a WGSL shape the reader
  // does not know leaves the pipeline undescribed; the geometry test names it).
  for (const [i, e] of entryPoints.entries()) {
    try {
      rememberPipeline(made[i]!, describeEntryPoint(code, e, constants));
    } catch {
      /* undescribed */
    }
  }
  return { layout, pipelines: Object.fromEntries(entryPoints.map((e, i) => [e, made[i]!])) as Record<E, GPUComputePipeline> };
}

/** Bind buffers to @group(0) @binding(i), i = position in the list. */
export function bindGroup(ctx: GpuContext, layout: GPUBindGroupLayout, buffers: GPUBuffer[], label?: string): GPUBindGroup {
  return ctx.device.createBindGroup({
    label,
    layout,
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

/**
 * Workgroup grid for `groups` workgroups when one dimension holds at most `maxPerDim` (65,535 usually):
 * the shader recovers the linear id as wg.x + wg.y * num_workgroups.x and returns when it is >= groups.
 */
export function grid(groups: number, maxPerDim: number): [number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

/** One uniform buffer holding a typegpu struct: tracked like every other buffer, written through typegpu. */
export function uniformBuffer<T extends AnyWgslData>(ctx: GpuContext, label: string, schema: T, value: Infer<T>): GPUBuffer {
  const raw = ctx.buffers.create(label, d.sizeOf(schema), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  ctx.root.createBuffer(schema as never, raw).write(value as never);
  return raw;
}
