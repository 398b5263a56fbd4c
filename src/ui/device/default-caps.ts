// The limits every WebGPU device guarantees (spec defaults) and no optional features: what the forms
// validate against before a device exists, or where there is none (the analytic pages still work).
import type { DeviceCaps } from '../../gpu/context.ts';

export const WEBGPU_DEFAULT_CAPS: DeviceCaps = {
  limits: {
    maxBufferSize: 268_435_456,
    maxStorageBufferBindingSize: 134_217_728,
    maxUniformBufferBindingSize: 65_536,
    maxComputeWorkgroupStorageSize: 16_384,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupsPerDimension: 65_535,
    maxStorageBuffersPerShaderStage: 8,
  },
  features: { timestamps: false, f16: false, subgroups: false },
};
