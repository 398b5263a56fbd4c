// WGSL lives in shaders/*.wgsl as plain WGSL. Parameter structs are declared once in TS as typegpu schemas;
// `tgpu.resolve` writes their declarations into the module, so byte layouts can never disagree.
// Storage element type: a kernel file that says `elem` / `vec4<elem>` is compiled either as f32 or, where
// the device has shader-f16, as f16 storage (arithmetic stays f32 in the kernels).
// A module is assembled as: enables, `alias elem`, generated constants, generated bindings (bindings.ts),
// generated workgroup arrays, then the kernel text with its `#include "lib/NAME.wgsl"` lines expanded.
import tgpu from 'typegpu';
import * as d from 'typegpu/data';
import type { AnyWgslData, Infer } from 'typegpu/data';
import { WGSL_LIBRARY } from '../../shaders/lib/index.ts';
import { bindGroupEntries, bindGroupLayoutEntries, bindingDeclarations, type BindingBuffers, type BindingRecord } from './bindings.ts';
import type { GpuContext } from './context.ts';
import { describeEntryPoint, rememberBindGroup, rememberPipeline } from './pipeline-info.ts';
import { constantDeclarations, workgroupDeclarations, type ConstantRecord, type WorkgroupRecord } from './wgsl-declarations.ts';

export type StorageDType = 'f32' | 'f16';

export interface ShaderSource {
  label: string;
  wgsl: string;
  /** typegpu schemas (structs) used by name in the WGSL (uniform structs of `bindings` come on their own). */
  structs?: Record<string, object>;
  /** Storage type substituted for `elem` (default f32). */
  elem?: StorageDType;
  /** Extra `enable` directives, e.g. 'subgroups'. */
  enable?: string[];
  /** The module's bindings: declarations generated here, in record order. */
  bindings?: BindingRecord;
  /** `const NAME: u32 = value;` lines (tile sizes, limits) the TS side reads from the same record. */
  constants?: ConstantRecord;
  /** `var<workgroup>` arrays; their bytes are `workgroupBytes` of the same record. */
  workgroup?: WorkgroupRecord;
}

const INCLUDE = /^[ \t]*#include[ \t]+"([^"]+)"[ \t]*(?:\/\/.*)?$/gm;

/**
 * Expand `#include "lib/NAME.wgsl"` lines from `library` (default: shaders/lib), recursively, each file once
 * (a second include of the same file, also through another file, expands to nothing). An unknown name throws
 * naming the file that asked for it.
 */
export function expandIncludes(wgsl: string, from: string, library: Readonly<Record<string, string>> = WGSL_LIBRARY, seen = new Set<string>()): string {
  return wgsl.replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    const text = library[name];
    if (text === undefined) {
      throw new Error(`${from}: #include "${name}" is not in the WGSL library (known: ${Object.keys(library).join(', ')})`);
    }
    seen.add(name);
    return `// ---- ${name}\n${expandIncludes(text, name, library, seen)}\n// ---- end ${name}`;
  });
}

export function resolveShader(src: ShaderSource): string {
  const enables = [...(src.elem === 'f16' ? ['f16'] : []), ...(src.enable ?? [])];
  const header = enables.map((e) => `enable ${e};`).join('\n');
  const alias = `alias elem = ${src.elem ?? 'f32'};`;
  const bound = src.bindings ? bindingDeclarations(src.bindings) : { wgsl: '', externals: {} };
  const generated = [
    src.constants ? constantDeclarations(src.constants) : '',
    bound.wgsl,
    src.workgroup ? workgroupDeclarations(src.workgroup) : '',
  ].filter(Boolean);
  // Leading newline: tgpu.resolve puts its struct declarations right before the template, with no line break.
  const template = ['', ...generated, expandIncludes(src.wgsl, src.label)].join('\n');
  const externals = { ...bound.externals, ...src.structs };
  const body = Object.keys(externals).length ? tgpu.resolve({ template, externals }) : template;
  return `${header}\n${alias}\n${body}`;
}

async function compileModule(ctx: GpuContext, src: ShaderSource): Promise<{ module: GPUShaderModule; code: string }> {
  const code = resolveShader(src);
  const module = ctx.device.createShaderModule({ label: src.label, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = code.split('\n');
    const detail = errors.map((e) => `${src.label}:${e.lineNum}:${e.linePos} ${e.message} | ${lines[e.lineNum - 1]?.trim() ?? ''}`);
    throw new Error(`WGSL compilation failed: ${detail.join(' ; ')}`);
  }
  return { module, code };
}

async function buildPipelines<E extends string>(
  ctx: GpuContext,
  src: ShaderSource,
  layout: GPUBindGroupLayout,
  entryPoints: readonly E[],
  overrides: Record<string, number>,
): Promise<Record<E, GPUComputePipeline>> {
  const { module, code } = await compileModule(ctx, src);
  const pipelineLayout = ctx.device.createPipelineLayout({ label: src.label, bindGroupLayouts: [layout] });
  const made = await Promise.all(
    entryPoints.map((entryPoint) =>
      ctx.device.createComputePipelineAsync({
        label: `${src.label}:${entryPoint}`,
        layout: pipelineLayout,
        compute: { module, entryPoint, constants: overrides },
      }),
    ),
  );
  // Threads and workgroup memory per pipeline, for the bench's dispatch geometry (a WGSL shape the reader
  // does not know leaves the pipeline undescribed; the geometry test names it).
  for (const [i, e] of entryPoints.entries()) {
    try {
      rememberPipeline(made[i]!, describeEntryPoint(code, e, overrides));
    } catch {
      /* undescribed */
    }
  }
  return Object.fromEntries(entryPoints.map((e, i) => [e, made[i]!])) as Record<E, GPUComputePipeline>;
}

export interface KernelShader<B extends BindingRecord> extends ShaderSource {
  bindings: B;
}

export interface Kernel<B extends BindingRecord, E extends string> {
  layout: GPUBindGroupLayout;
  pipelines: Record<E, GPUComputePipeline>;
  /**
   * A bind group from buffers by binding name (every name of the record, no other). `reads` gives, for a
   * binding a dispatch reads only part of (a gather of k rows from a bound S-row cache, the selected experts'
   * weights), the bytes one dispatch reads through it; the dispatch geometry counts the others whole.
   */
  bind(buffers: BindingBuffers<B>, label?: string, reads?: Partial<Record<keyof B & string, number>>): GPUBindGroup;
}

/**
 * Compile one WGSL module and a pipeline per entry point, all sharing the layout generated from
 * `src.bindings`, so a multi-stage kernel binds its buffers once. `overrides` feeds `override` declarations.
 * WGSL compilation errors become one readable error with the offending line.
 */
/**
 * Pipelines already built on a device, by generated module text, entry points and overrides: a composite that
 * chains the same kernel a dozen times (the decoder layer's projections, norms, RoPEs) compiles it once. The
 * text includes the binding declarations, so equal text means an equal layout, which is cached with them.
 */
const BUILT = new WeakMap<GPUDevice, Map<string, Promise<{ layout: GPUBindGroupLayout; pipelines: Record<string, GPUComputePipeline> }>>>();

export async function createKernel<B extends BindingRecord, E extends string>(
  ctx: GpuContext,
  src: KernelShader<B>,
  entryPoints: readonly E[],
  overrides: Record<string, number> = {},
): Promise<Kernel<B, E>> {
  const key = JSON.stringify([resolveShader(src), entryPoints, overrides]);
  let cache = BUILT.get(ctx.device);
  if (!cache) BUILT.set(ctx.device, (cache = new Map()));
  let built = cache.get(key);
  if (!built) {
    const layout = ctx.device.createBindGroupLayout({ label: src.label, entries: bindGroupLayoutEntries(src.bindings) });
    built = buildPipelines(ctx, src, layout, entryPoints, overrides).then((pipelines) => ({ layout, pipelines }));
    cache.set(key, built);
    // A failed build (WGSL error, lost device) is not remembered: the next call reports it afresh.
    built.catch(() => cache.delete(key));
  }
  const { layout, pipelines: all } = await built;
  const pipelines = all as Record<E, GPUComputePipeline>;
  return {
    layout,
    pipelines,
    bind: (buffers, label, reads) => {
      const group = ctx.device.createBindGroup({ label: label ?? src.label, layout, entries: bindGroupEntries(src.bindings, buffers, src.label) });
      const given = buffers as Readonly<Record<string, GPUBuffer>>;
      const hint = (reads ?? {}) as Readonly<Record<string, number | undefined>>;
      rememberBindGroup(group, Object.fromEntries(Object.keys(src.bindings).map((n) => [n, hint[n] ?? given[n]!.size])));
      return group;
    },
  };
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
