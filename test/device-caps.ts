// DeviceCaps for tests that check configs without a device: the limits of SwiftShader's adapter (the machine the
// suite runs on), with whatever a test varies overridden, so each test states only the limit it is about.
import type { DeviceCaps } from '../src/gpu/context.ts';

export const SWIFTSHADER_LIMITS: DeviceCaps['limits'] = {
  maxBufferSize: 2 ** 30,
  maxStorageBufferBindingSize: 2 ** 30,
  maxUniformBufferBindingSize: 65536,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
};

export function fakeCaps(limits: Partial<DeviceCaps['limits']> = {}, features: Partial<DeviceCaps['features']> = {}): DeviceCaps {
  return { limits: { ...SWIFTSHADER_LIMITS, ...limits }, features: { f16: false, subgroups: true, timestamps: true, ...features } };
}
