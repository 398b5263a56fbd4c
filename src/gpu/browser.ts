// The browser front door: navigator.gpu, with a message that says how to get it when it is missing.
import { createGpuContext, requestAdapter, type GpuContext } from './context.ts';
import { NoWebGpuError } from './errors.ts';

export const NO_WEBGPU_HELP =
  'WebGPU is not available. Use Chrome or Edge 113+ (Safari 26+, Firefox 141+ on Windows), serve the page over https or from localhost, ' +
  'and for headless Chromium pass --enable-unsafe-webgpu.';

export async function acquireBrowserGpu(): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new NoWebGpuError(NO_WEBGPU_HELP);
  const adapter = await requestAdapter(gpu);
  if (!adapter) throw new NoWebGpuError(`navigator.gpu found no adapter. ${NO_WEBGPU_HELP}`);
  return createGpuContext(adapter, 'navigator.gpu');
}
