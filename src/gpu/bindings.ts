// A pipeline's bindings, declared once as a named record. From it come the WGSL declarations
// (`@group(0) @binding(i) var<...> name: T;`, i = the entry's position in the record), the GPUBindGroupLayout,
// and the bind group, built by name with the record's keys as its type, so the shader, the layout and the
// buffers cannot drift apart.
//
// Why not typegpu's bindGroupLayout: `tgpu.resolve` emits its declarations only for bindings the template names
// as `layout.$.name`, so every kernel would stop being plain WGSL. Structs still come from typegpu schemas.
import type { AnyWgslData } from 'typegpu/data';

/** Storage element types a binding may hold; `elem` is the kernel's storage type (f32 or f16, see shader.ts). */
export type StorageElement =
  | 'elem'
  | 'vec2<elem>'
  | 'vec4<elem>'
  | 'f32'
  | 'vec2<f32>'
  | 'vec4<f32>'
  | 'u32'
  | 'vec2<u32>'
  | 'vec4<u32>'
  | 'i32'
  | 'atomic<u32>'
  | 'atomic<i32>';

export type StorageAccess = 'read' | 'read_write';

export type BindingSpec =
  | { readonly kind: 'uniform'; readonly schema: AnyWgslData }
  | { readonly kind: 'storage'; readonly element: StorageElement; readonly access: StorageAccess };

export type BindingRecord = Readonly<Record<string, BindingSpec>>;

/** A uniform buffer holding one typegpu struct (named with `.$name`). */
export function uniform(schema: AnyWgslData): BindingSpec {
  return { kind: 'uniform', schema };
}

/** A runtime-sized storage array `array<element>`, read-only unless `access` says otherwise. */
export function storage(element: StorageElement, access: StorageAccess = 'read'): BindingSpec {
  return { kind: 'storage', element, access };
}

/** Storage buffers a record binds: what counts against maxStorageBuffersPerShaderStage. */
export function storageBindingCount(bindings: BindingRecord): number {
  return Object.values(bindings).filter((b) => b.kind === 'storage').length;
}

/** One buffer per binding name: a missing or extra name is a type error (and a runtime error in bindGroup). */
export type BindingBuffers<B extends BindingRecord> = { readonly [K in keyof B]: GPUBuffer };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The identifier tgpu.resolve replaces by the uniform's struct name (and declaration). */
export function uniformTypeName(binding: string): string {
  return `UniformOf_${binding}`;
}

/** The WGSL declarations, in record order. Uniform struct types are left as externals for tgpu.resolve. */
export function bindingDeclarations(bindings: BindingRecord): { wgsl: string; externals: Record<string, object> } {
  const lines: string[] = [];
  const externals: Record<string, object> = {};
  Object.entries(bindings).forEach(([name, spec], i) => {
    if (!IDENT.test(name)) throw new Error(`binding name ${JSON.stringify(name)} is not a WGSL identifier`);
    if (spec.kind === 'uniform') {
      const type = uniformTypeName(name);
      externals[type] = spec.schema;
      lines.push(`@group(0) @binding(${i}) var<uniform> ${name}: ${type};`);
    } else {
      lines.push(`@group(0) @binding(${i}) var<storage, ${spec.access}> ${name}: array<${spec.element}>;`);
    }
  });
  return { wgsl: lines.join('\n'), externals };
}

export function bindGroupLayoutEntries(bindings: BindingRecord): GPUBindGroupLayoutEntry[] {
  return Object.values(bindings).map((spec, binding) => ({
    binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type: spec.kind === 'uniform' ? 'uniform' : spec.access === 'read' ? 'read-only-storage' : 'storage' },
  }));
}

/** Bind group entries by name; refuses a missing or an extra buffer, naming it. */
export function bindGroupEntries<B extends BindingRecord>(bindings: B, buffers: BindingBuffers<B>, label: string): GPUBindGroupEntry[] {
  const names = Object.keys(bindings);
  const given = buffers as Readonly<Record<string, GPUBuffer | undefined>>;
  const extra = Object.keys(given).filter((k) => !(k in bindings));
  const missing = names.filter((k) => !given[k]);
  if (extra.length || missing.length) {
    throw new Error(
      `${label}: bind group ${missing.length ? `misses ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `has no binding named ${extra.join(', ')}` : ''} (bindings: ${names.join(', ')})`,
    );
  }
  return names.map((name, binding) => ({ binding, resource: { buffer: given[name]! } }));
}
