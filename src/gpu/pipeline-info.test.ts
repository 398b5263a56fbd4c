import { describe, expect, it } from 'vitest';
import copyWgsl from '../../shaders/common/copy-probe.wgsl?raw';
import readWgsl from '../../shaders/common/read-probe.wgsl?raw';
import fmaWgsl from '../../shaders/common/fma-probe.wgsl?raw';
import { probeShader } from '../bench/roofline.ts';
import { describeEntryPoint } from './pipeline-info.ts';
import { resolveShader } from './shader.ts';

describe('describeEntryPoint', () => {
  it('reads @workgroup_size with override constants, default or given', () => {
    expect(describeEntryPoint(readWgsl, 'main').threads).toBe(256);
    expect(describeEntryPoint(readWgsl, 'main', { WG: 128 }).threads).toBe(128);
  });

  it('reads @workgroup_size from generated constants, after the resolved structs', () => {
    expect(describeEntryPoint(resolveShader(probeShader('copy', copyWgsl)), 'main')).toEqual({ entryPoint: 'main', threads: 256, workgroupBytes: 0 });
    expect(describeEntryPoint(resolveShader(probeShader('copy', copyWgsl, 64)), 'main').threads).toBe(64);
    expect(describeEntryPoint(resolveShader(probeShader('fma', fmaWgsl, 128)), 'main').threads).toBe(128);
  });

  it('sizes var<workgroup> arrays from the constants (vec4<f32> strides 16 bytes)', () => {
    expect(describeEntryPoint(readWgsl, 'main').workgroupBytes).toBe(256 * 16);
    expect(describeEntryPoint(readWgsl, 'main', { WG: 64 }).workgroupBytes).toBe(64 * 16);
  });

  it('refuses an unknown entry point instead of guessing', () => {
    expect(() => describeEntryPoint(readWgsl, 'nope')).toThrow(/no entry point/);
  });
});
