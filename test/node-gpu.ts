// One Dawn device per Node test file (SwiftShader here), created lazily and destroyed after the file.
import { afterAll } from 'vitest';
import { acquireNodeGpu } from '../src/gpu/node.ts';
import type { GpuContext } from '../src/gpu/context.ts';

let ctx: Promise<GpuContext> | undefined;

export function nodeGpu(): Promise<GpuContext> {
  ctx ??= acquireNodeGpu({ log: () => {} });
  return ctx;
}

afterAll(async () => {
  if (ctx) (await ctx).destroy();
  ctx = undefined;
});
