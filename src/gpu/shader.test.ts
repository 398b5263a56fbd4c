// The seam between TS and WGSL without a GPU: includes, generated declarations (bindings, constants,
// workgroup arrays) and the by-name bind group. The browser and Dawn suites compile the results.
import * as d from 'typegpu/data';
import { describe, expect, it } from 'vitest';
import { WGSL_LIBRARY } from '../../shaders/lib/index.ts';
import { bindGroupEntries, storage, uniform } from './bindings.ts';
import { expandIncludes, resolveShader } from './shader.ts';
import { constantDeclarations, workgroupArray, workgroupBytes, workgroupDeclarations } from './wgsl-declarations.ts';

const lib = {
  'lib/a.wgsl': 'const A: u32 = 1u;',
  'lib/b.wgsl': '#include "lib/a.wgsl"\nconst B: u32 = A + 1u;',
  'lib/c.wgsl': '#include "lib/a.wgsl"\n#include "lib/b.wgsl"\nconst C: u32 = B + 1u;',
};

describe('expandIncludes', () => {
  it('expands recursively and each file once, also when reached through two paths', () => {
    const out = expandIncludes('#include "lib/c.wgsl"\n#include "lib/b.wgsl"\nfn f() {}', 'test.wgsl', lib);
    expect(out.match(/const A/g)).toHaveLength(1);
    expect(out.match(/const B/g)).toHaveLength(1);
    expect(out.indexOf('const A')).toBeLessThan(out.indexOf('const B'));
    expect(out).not.toContain('#include');
  });

  it('names the file that asked for an unknown include', () => {
    expect(() => expandIncludes('#include "lib/a.wgsl"\n#include "lib/nope.wgsl"', 'kernel.wgsl', lib)).toThrow(/^kernel\.wgsl: #include "lib\/nope\.wgsl" is not in the WGSL library/);
    expect(() => expandIncludes('#include "lib/x.wgsl"', 'k.wgsl', { 'lib/x.wgsl': '#include "lib/y.wgsl"' })).toThrow(/^lib\/x\.wgsl: #include "lib\/y\.wgsl"/);
  });

  it('resolves every library file, and each library include names a library file', () => {
    for (const [name, text] of Object.entries(WGSL_LIBRARY)) {
      expect(() => expandIncludes(text, name)).not.toThrow();
    }
    expect(expandIncludes('#include "lib/row-softmax.wgsl"', 'k.wgsl').match(/const NEG_INF/g)).toHaveLength(1);
  });
});

describe('generated declarations', () => {
  const Params = d.struct({ n: d.u32, scale: d.f32 }).$name('TestParams');
  const bindings = { params: uniform(Params), x: storage('vec4<elem>'), hist: storage('atomic<u32>', 'read_write'), out: storage('f32', 'read_write') };

  it('declares the bindings in record order, with the uniform struct resolved by typegpu', () => {
    const code = resolveShader({ label: 't', wgsl: 'fn f() { let n = params.n; }', bindings, elem: 'f16', constants: { TILE: 16, OFF: { value: -3, type: 'i32' }, EPS: { value: 0.5, type: 'f32' } } });
    expect(code).toContain('enable f16;');
    expect(code).toContain('alias elem = f16;');
    expect(code).toMatch(/struct TestParams \{/);
    expect(code).toContain('@group(0) @binding(0) var<uniform> params: TestParams;');
    expect(code).toContain('@group(0) @binding(1) var<storage, read> x: array<vec4<elem>>;');
    expect(code).toContain('@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;');
    expect(code).toContain('@group(0) @binding(3) var<storage, read_write> out: array<f32>;');
    expect(code).toContain('const TILE: u32 = 16u;');
    expect(code).toContain('const OFF: i32 = -3i;');
    expect(code).toContain('const EPS: f32 = 0.5;');
  });

  it('refuses constants that do not fit their type', () => {
    expect(() => constantDeclarations({ N: -1 })).toThrow(/does not fit a u32/);
    expect(() => constantDeclarations({ N: 1.5 })).toThrow(/must be an integer/);
    expect(() => constantDeclarations({ 'not-an-ident': 1 })).toThrow(/not a WGSL identifier/);
  });

  it('counts workgroup bytes as WGSL lays them out (strides, 16-byte rounding per variable)', () => {
    const vars = { tile: workgroupArray('f32', 16, 16), acc: workgroupArray('vec4<f32>', 3), odd: workgroupArray('u32', 5) };
    expect(workgroupDeclarations(vars)).toBe('var<workgroup> tile: array<array<f32, 16>, 16>;\nvar<workgroup> acc: array<vec4<f32>, 3>;\nvar<workgroup> odd: array<u32, 5>;');
    expect(workgroupBytes(vars)).toBe(1024 + 48 + 32);
    expect(workgroupBytes({ v: workgroupArray('vec2<f32>', 3, 3) })).toBe(80); // 3 x 24, rounded to 16
  });

  it('builds the bind group by name and refuses a missing or an extra buffer', () => {
    const buf = (label: string) => ({ label }) as GPUBuffer;
    const entries = bindGroupEntries(bindings, { out: buf('o'), params: buf('p'), hist: buf('h'), x: buf('x') }, 't');
    expect(entries.map((e) => [e.binding, (e.resource as GPUBufferBinding).buffer.label])).toEqual([[0, 'p'], [1, 'x'], [2, 'h'], [3, 'o']]);
    // @ts-expect-error a missing name is a type error too
    expect(() => bindGroupEntries(bindings, { params: buf('p'), x: buf('x'), hist: buf('h') }, 't')).toThrow(/^t: bind group misses out/);
    const extra = { params: buf('p'), x: buf('x'), hist: buf('h'), out: buf('o'), y: buf('y') };
    expect(() => bindGroupEntries(bindings, extra, 't')).toThrow(/has no binding named y/);
  });
});
