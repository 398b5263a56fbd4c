// The Node front door: Dawn through the `webgpu` package. On a machine without a GPU driver Dawn finds no
// adapter; then (and only then) we point the Vulkan loader at Chromium's SwiftShader ICD and say so.
// Never imported by the registry or the UI.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpuContext, requestAdapter, type GpuContext } from './context.ts';
import { NoWebGpuError } from './errors.ts';

const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

// Dawn's instances must stay referenced while any device lives: a collected instance segfaults the process.
const instances: GPU[] = [];

async function dawnInstance(): Promise<GPU> {
  // Headless machines (CI, containers) have no XDG_RUNTIME_DIR; the Vulkan loader then prints
  // "error: XDG_RUNTIME_DIR is invalid" for every driver it probes, which reads like a failure of ours.
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `kernel-lab-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  // Unquantised timestamps: Dawn otherwise rounds them to 65,536 ns. KERNEL_LAB_QUANTISED_TIMESTAMPS=1 keeps
  // the rounding on, to check that the timer's numbers agree with a quantised clock (as a browser's).
  const quantised = process.env.KERNEL_LAB_QUANTISED_TIMESTAMPS === '1';
  const gpu = webgpu.create(quantised ? [] : ['disable-dawn-features=timestamp_quantization']) as unknown as GPU;
  instances.push(gpu);
  return gpu;
}

export interface NodeGpuOptions {
  /** Print how the adapter was found (default true). */
  log?: (line: string) => void;
}

export async function acquireNodeGpu(opts: NodeGpuOptions = {}): Promise<GpuContext> {
  const log = opts.log ?? ((line: string) => console.error(line));
  let adapter = await requestAdapter(await dawnInstance());
  let backend = 'dawn';
  if (!adapter && !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (icd) {
      process.env.VK_ICD_FILENAMES = icd;
      adapter = await requestAdapter(await dawnInstance());
      backend = 'dawn + SwiftShader ICD';
      if (adapter) log(`note: no GPU adapter found; using SwiftShader (CPU) through ${icd}`);
    }
  }
  if (!adapter) {
    throw new NoWebGpuError(
      'Dawn found no WebGPU adapter. Install a Vulkan/Metal/D3D12 GPU driver, or Debian\'s chromium package (its SwiftShader ICD runs WebGPU on the CPU).',
    );
  }
  return createGpuContext(adapter, backend);
}
