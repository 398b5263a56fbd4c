import { describe, expect, it } from 'vitest';
import copyWgsl from '../../shaders/common/copy-probe.wgsl?raw';
import readWgsl from '../../shaders/common/read-probe.wgsl?raw';
import fmaWgsl from '../../shaders/common/fma-probe.wgsl?raw';
import { probeShader } from '../bench/roofline.ts';
import layoutWgsl from '../../test/fixtures/workgroup-layout.wgsl?raw';
import { describeEntryPoint } from './pipeline-info.ts';
import { resolveShader } from './shader.ts';

describe('describeEntryPoint', () => {
  it('reads @workgroup_size with override constants, default or given', () => {
    expect(describeEntryPoint(resolveShader(probeShader('read', readWgsl)), 'main').threads).toBe(256);
    expect(describeEntryPoint(resolveShader(probeShader('read', readWgsl, 128)), 'main').threads).toBe(128);
  });

  it('reads @workgroup_size from generated constants, after the resolved structs', () => {
    expect(describeEntryPoint(resolveShader(probeShader('copy', copyWgsl)), 'main')).toEqual({ entryPoint: 'main', threads: 256, workgroupBytes: 0, reads: ['src'] });
    expect(describeEntryPoint(resolveShader(probeShader('copy', copyWgsl, 64)), 'main').threads).toBe(64);
    expect(describeEntryPoint(resolveShader(probeShader('fma', fmaWgsl, 128)), 'main').threads).toBe(128);
  });

  it('sizes nested arrays, vec3 strides and atomics from constants, counting only what the entry point reaches', () => {
    // 512 (tile) + 48 (corners, 16-byte aligned) + 4 (flag); `unused` is not reached.
    expect(describeEntryPoint(layoutWgsl, 'main')).toMatchObject({ entryPoint: 'main', threads: 32, workgroupBytes: 564 });
    expect(describeEntryPoint(layoutWgsl, 'main', { ROWS: 2 })).toMatchObject({ entryPoint: 'main', threads: 16, workgroupBytes: 256 + 48 + 4 });
  });

  it('lists the storage bindings the entry point reads (also through a function): not unused, store-only or length-only ones', () => {
    expect(describeEntryPoint(layoutWgsl, 'main').reads).toEqual(['weights', 'bias', 'acc']);
  });

  it('refuses an unknown entry point instead of guessing', () => {
    expect(() => describeEntryPoint(readWgsl, 'nope')).toThrow(/no entry point/);
  });
});
