// One Dawn device (SwiftShader here) for every Node test file, created on first use. The node project runs
// its files in one process (`isolate: false` in vite.config.ts), so a pipeline one file compiled is reused
// by the next: compiling is most of a GPU test's time on SwiftShader (the router's selection pass or the
// decoder layer's pipelines take tens of seconds), and the golden, golden-case and layer-fixture files run
// many of the same kernels. The device lives as long as the process; a lost one is replaced.
import { acquireNodeGpu } from '../src/gpu/node.ts';
import type { GpuContext } from '../src/gpu/context.ts';

let ctx: Promise<GpuContext> | undefined;
let current: GpuContext | undefined;

export function nodeGpu(): Promise<GpuContext> {
  if (!ctx || current?.lostReason !== undefined) {
    ctx = acquireNodeGpu({ log: () => {} });
    void ctx.then((c) => (current = c));
  }
  return ctx;
}
