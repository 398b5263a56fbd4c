// The buffer plan without a GPU: allocation frees what it made when a later buffer fails, the limits are
// checked per buffer, and a converted kernel's scratch and validation come from its plan.
import * as d from 'typegpu/data';
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../gpu/context.ts';
import { WEBGPU_DEFAULT_CAPS } from '../../ui/device/default-caps.ts';
import { withDefaults } from '../contract.ts';
import { naiveAttention } from '../attention/naive.ts';
import { allocate, planIssues, planScratch, planned, plannedTensors, plannedUniform } from './buffer-plan.ts';
import { validateConfig } from './validate.ts';
import { instanceOfStage } from '../stage-instance.ts';

// Node has no WebGPU globals unless Dawn is loaded; the flags' values do not matter to a fake tracker.
Object.assign(globalThis, { GPUBufferUsage: (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage ?? { STORAGE: 128, COPY_DST: 8, COPY_SRC: 4, UNIFORM: 64, INDIRECT: 256 } });

function fakeContext(failAt: string) {
  const live = new Set<string>();
  const written: string[] = [];
  const ctx = {
    buffers: {
      create(label: string) {
        if (label.endsWith(failAt)) throw new Error(`no room for ${label}`);
        live.add(label);
        return { label } as GPUBuffer;
      },
      destroy(b: GPUBuffer) {
        live.delete(b.label);
      },
    },
    root: { createBuffer: (_s: unknown, b: GPUBuffer) => ({ write: () => written.push(b.label) }) },
  };
  return { ctx: ctx as unknown as GpuContext, live, written };
}

const P = d.struct({ n: d.u32 }).$name('P');
const plan = { a: planned('input', 16), b: planned('scratch', 32), params: plannedUniform(P, { n: 3 }), c: planned('output', 8) };

describe('allocate', () => {
  it('makes every buffer, writes the uniforms, and frees all of them', () => {
    const { ctx, live, written } = fakeContext('never');
    const made = allocate(ctx, 'k', plan);
    expect([...live].sort()).toEqual(['k:a', 'k:b', 'k:c', 'k:params']);
    expect(written).toEqual(['k:params']);
    expect(Object.keys(made.tensors).sort()).toEqual(['a', 'c']);
    made.destroy();
    expect(live.size).toBe(0);
  });

  it('frees the buffers already made when a later one throws', () => {
    const { ctx, live } = fakeContext(':c');
    expect(() => allocate(ctx, 'k', plan)).toThrow(/no room for k:c/);
    expect(live.size).toBe(0);
  });
});

describe('instanceOfStage', () => {
  it('allocates the plan, hands the stage every buffer, exposes only the tensors, and frees all when the stage throws', async () => {
    const { ctx, live } = fakeContext('never');
    let seen: string[] = [];
    const inst = await instanceOfStage(ctx, plan, async (buffers) => {
      seen = Object.keys(buffers).sort();
      return { encode() {}, destroy() {} };
    });
    expect(seen).toEqual(['a', 'b', 'c', 'params']);
    expect(Object.keys(inst.tensors).sort()).toEqual(['a', 'c']);
    inst.destroy();
    expect(live.size).toBe(0);
    await expect(instanceOfStage(ctx, plan, async () => Promise.reject(new Error('bad stage')))).rejects.toThrow('bad stage');
    expect(live.size).toBe(0);
  });
});

describe('plan checks', () => {
  it('names each buffer over its limit, uniforms against the uniform limit', () => {
    const caps = WEBGPU_DEFAULT_CAPS;
    const issues = planIssues({ big: planned('scratch', caps.limits.maxStorageBufferBindingSize + 4), ok: planned('input', 4), u: { role: 'uniform', bytes: 70_000 } }, caps);
    expect(issues.map((i) => i.field)).toEqual(['big', 'u']);
    expect(issues[0]!.message).toMatch(/maxStorageBufferBindingSize/);
    expect(issues[1]!.message).toMatch(/maxUniformBufferBindingSize/);
  });

  it('refuses tensor names that differ from the definition', () => {
    expect(() => plannedTensors([{ name: 'q', shape: [2], dtype: 'f32' }], [{ name: 'out', shape: [2], dtype: 'f32' }], ['q', 'o'])).toThrow(/names tensors o, q, the definition declares out, q/);
  });

  it("attention.naive's scratch and limit check read its plan", () => {
    const c = withDefaults(naiveAttention, { T: 512, S: 1 << 16, Hq: 4, Hkv: 4, D: 64 });
    const p = naiveAttention.plan!(c);
    expect(naiveAttention.scratch!(c)).toEqual(planScratch(p));
    expect(p.scores!.bytes).toBe(512 * 4 * (1 << 16) * 4);
    expect(Object.keys(p).sort()).toEqual(['k', 'out', 'params', 'q', 'scores', 'v']);
    const issues = validateConfig(naiveAttention, c, WEBGPU_DEFAULT_CAPS);
    expect(issues).toEqual([{ field: 'scores', message: expect.stringMatching(/^needs 512 MiB .*, over this device's maxStorageBufferBindingSize/) }]);
  });
});
