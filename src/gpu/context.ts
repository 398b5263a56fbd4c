// One GpuContext per device: the device, its real limits and optional features, adapter facts for result
// files, a typegpu root for typed uniforms, the buffer tracker, and the loss state. Browser and Node only
// differ in where the GPU object comes from (see browser.ts / node.ts).
import tgpu, { type TgpuRoot } from 'typegpu';
import { BufferTracker } from './buffers.ts';
import { DeviceLostError, NoWebGpuError } from './errors.ts';

/** The limits kernels validate against: copied from the adapter, so never the spec's low defaults. */
export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxUniformBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
}

export interface DeviceFeatures {
  timestamps: boolean;
  f16: boolean;
  subgroups: boolean;
}

/** What a kernel's `validate` may look at: plain data, so the UI can validate before a device exists. */
export interface DeviceCaps {
  limits: DeviceLimits;
  features: DeviceFeatures;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** How the adapter was found ("navigator.gpu", "dawn", "dawn + SwiftShader ICD"). */
  backend: string;
}

export interface GpuContext extends DeviceCaps {
  device: GPUDevice;
  root: TgpuRoot;
  adapter: AdapterSummary;
  buffers: BufferTracker;
  /** Set once the device is lost; every later use should throw DeviceLostError with this text. */
  lostReason: string | undefined;
  /** Throws DeviceLostError if the device is gone. */
  assertAlive(): void;
  destroy(): void;
}

const LIMIT_NAMES: (keyof DeviceLimits)[] = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  return gpu.requestAdapter({ powerPreference: 'high-performance' });
}

export async function createGpuContext(adapter: GPUAdapter, backend: string): Promise<GpuContext> {
  const wanted: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'llm-kernel-lab' });
  if (!device) throw new NoWebGpuError('the adapter returned no device');

  const limits = Object.fromEntries(LIMIT_NAMES.map((n) => [n, device.limits[n]])) as unknown as DeviceLimits;
  const features: DeviceFeatures = {
    timestamps: device.features.has('timestamp-query'),
    f16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
  };
  const info = adapter.info;
  const ctx: GpuContext = {
    device,
    root: tgpu.initFromDevice({ device }),
    limits,
    features,
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      backend,
    },
    buffers: new BufferTracker(device, limits),
    lostReason: undefined,
    assertAlive() {
      if (ctx.lostReason !== undefined) throw new DeviceLostError(ctx.lostReason);
    },
    destroy() {
      device.destroy();
    },
  };
  void device.lost.then((info) => {
    ctx.lostReason =
      info.reason === 'destroyed'
        ? 'the GPU device was lost: it was destroyed'
        : `the GPU device was lost: ${info.message.split('\n')[0] || 'no reason given'}`;
  });
  return ctx;
}

/** One line for a result file or a UI badge. */
/**
 * CPU emulation (SwiftShader, llvmpipe, WARP): every invocation is a SIMD lane and every load with a computed
 * index a per-lane gather, so kernels pick different tiles there and the bench takes fewer samples.
 */
export function isCpuEmulation(caps: { adapter?: AdapterSummary }): boolean {
  const a = caps.adapter;
  return a !== undefined && /swiftshader|llvmpipe|lavapipe|warp|cpu/i.test(`${a.architecture} ${a.description} ${a.vendor}`);
}

export function describeAdapter(a: AdapterSummary): string {
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ');
  return `${name || 'unknown adapter'} via ${a.backend}`;
}
