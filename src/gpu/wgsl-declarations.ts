// Module-scope WGSL generated from TS values, so a number that both sides need is written once:
//   constants   `const TILE: u32 = 16u;`                 (tile sizes, limits: TS reads the same record)
//   workgroup   `var<workgroup> tileA: array<array<f32, 16>, 16>;` and its byte count, which is what the
//               kernel's check compares with maxComputeWorkgroupStorageSize (never recomputed by hand).

/** Scalar type of a generated constant. Integers are u32 unless declared otherwise. */
export type ConstantType = 'u32' | 'i32' | 'f32';
export type ConstantValue = number | { readonly value: number; readonly type: ConstantType };
export type ConstantRecord = Readonly<Record<string, ConstantValue>>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkIdent(what: string, name: string): void {
  if (!IDENT.test(name)) throw new Error(`${what} name ${JSON.stringify(name)} is not a WGSL identifier`);
}

function constantLiteral(name: string, v: ConstantValue): { type: ConstantType; literal: string } {
  const { value, type } = typeof v === 'number' ? { value: v, type: 'u32' as const } : v;
  if (!Number.isFinite(value)) throw new Error(`constant ${name} = ${value} is not finite`);
  if (type === 'f32') return { type, literal: Number.isInteger(value) ? `${value}.0` : String(value) };
  if (!Number.isInteger(value)) throw new Error(`constant ${name} = ${value} must be an integer for ${type}`);
  if (type === 'u32') {
    if (value < 0 || value > 0xffffffff) throw new Error(`constant ${name} = ${value} does not fit a u32`);
    return { type, literal: `${value}u` };
  }
  if (value < -(2 ** 31) || value >= 2 ** 31) throw new Error(`constant ${name} = ${value} does not fit an i32`);
  return { type, literal: `${value}i` };
}

export function constantDeclarations(constants: ConstantRecord): string {
  return Object.entries(constants)
    .map(([name, v]) => {
      checkIdent('constant', name);
      const { type, literal } = constantLiteral(name, v);
      return `const ${name}: ${type} = ${literal};`;
    })
    .join('\n');
}

/** Element types of workgroup arrays, with WGSL's size and alignment (bytes). */
const WORKGROUP_ELEMENTS = {
  f32: { size: 4, align: 4 },
  u32: { size: 4, align: 4 },
  i32: { size: 4, align: 4 },
  'atomic<u32>': { size: 4, align: 4 },
  'atomic<i32>': { size: 4, align: 4 },
  'vec2<f32>': { size: 8, align: 8 },
  'vec4<f32>': { size: 16, align: 16 },
  // f16 tiles (needs `enable f16`, which an f16-storage module has): K/V staged in their storage type.
  'vec4<f16>': { size: 8, align: 8 },
  'vec2<u32>': { size: 8, align: 8 },
  'vec4<u32>': { size: 16, align: 16 },
} as const;
export type WorkgroupElement = keyof typeof WORKGROUP_ELEMENTS;

/** `array<element, dims[last]>` nested outwards: dims [16, 8] is array<array<element, 8>, 16> (row-major). */
export interface WorkgroupArray {
  readonly element: WorkgroupElement;
  readonly dims: readonly number[];
}
export type WorkgroupRecord = Readonly<Record<string, WorkgroupArray>>;

export function workgroupArray(element: WorkgroupElement, ...dims: number[]): WorkgroupArray {
  return { element, dims };
}

function arrayType(a: WorkgroupArray): string {
  return [...a.dims].reverse().reduce((inner, n) => `array<${inner}, ${n}>`, a.element as string);
}

/** Bytes of one array: the stride of each level is the inner size rounded up to the element alignment. */
export function workgroupArrayBytes(a: WorkgroupArray): number {
  const { size, align } = WORKGROUP_ELEMENTS[a.element];
  return [...a.dims].reverse().reduce((inner, n) => {
    if (!Number.isInteger(n) || n < 1) throw new Error(`workgroup array dimension ${n} must be a positive integer`);
    return n * Math.ceil(inner / align) * align;
  }, size);
}

/** What a module's workgroup variables count against maxComputeWorkgroupStorageSize (WebGPU rounds each to 16 B). */
export function workgroupBytes(vars: WorkgroupRecord): number {
  return Object.values(vars).reduce((sum, a) => sum + Math.ceil(workgroupArrayBytes(a) / 16) * 16, 0);
}

export function workgroupDeclarations(vars: WorkgroupRecord): string {
  return Object.entries(vars)
    .map(([name, a]) => {
      checkIdent('workgroup variable', name);
      workgroupArrayBytes(a);
      return `var<workgroup> ${name}: ${arrayType(a)};`;
    })
    .join('\n');
}
