// One WebGPU device (SwiftShader here) for the browser test files that test kernels, created on first use.
// The browser project runs its files in one page (`isolate: false` in vite.config.ts), so a pipeline one
// file compiled is reused by the next (shader.ts keeps built pipelines per device): the registry-wide files
// (kernels, geometry, robustness) and the per-family ones build many of the same modules, and compiling is
// most of a GPU test's time on SwiftShader. A lost device is replaced; files never destroy this one.
import { acquireBrowserGpu } from '../src/gpu/browser.ts';
import type { GpuContext } from '../src/gpu/context.ts';

let ctx: Promise<GpuContext> | undefined;
let current: GpuContext | undefined;

export function browserGpu(): Promise<GpuContext> {
  if (!ctx || current?.lostReason !== undefined) {
    ctx = acquireBrowserGpu();
    void ctx.then((c) => (current = c));
  }
  return ctx;
}
