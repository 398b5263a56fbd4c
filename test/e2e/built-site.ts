// The site as users get it: `vite build` (the project's own vite.config.ts) into a temporary folder, served
// by Vite's preview server started from code on 127.0.0.1 (a secure context, so WebGPU is on). Closing it
// stops the server and removes the folder; nothing is left running.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { build, preview } from 'vite';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BuiltSite {
  url: string;
  /** The built index.html and scripts, for checks on what is shipped (the CSP, no development build). */
  indexHtml: string;
  scripts: string[];
  close(): Promise<void>;
}

export async function buildAndServe(): Promise<BuiltSite> {
  const outDir = mkdtempSync(join(tmpdir(), 'kernel-lab-e2e-'));
  // Vitest runs with NODE_ENV=test, which would make Vite resolve Lit's development build: build what ships.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 4096 } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server = await preview({
    root: ROOT,
    configFile: false,
    base: './',
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const { port } = server.httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    indexHtml: readFileSync(join(outDir, 'index.html'), 'utf8'),
    scripts: readdirSync(join(outDir, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(outDir, 'assets', f), 'utf8')),
    async close() {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
