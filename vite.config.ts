import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import { playwright } from '@vitest/browser-playwright';

// typegpu 0.12 probes `new Function('return true')` as soon as it is imported (data/compiledIO.js), to decide
// whether to compile its buffer writers. Under the site's CSP (no 'unsafe-eval') the probe fails and typegpu
// falls back to its interpreted writers, as intended, but the browser files a CSP violation for it on every
// page load. The built site never allows eval, so the build settles the probe as false (client only: Node
// keeps the compiled writers). If typegpu's code changes, the build warns and the e2e test's CSP check fails.
function typegpuWithoutEvalProbe(): Plugin {
  const probe = /export const EVAL_ALLOWED_IN_ENV = \(\(\) => \{[\s\S]*?\}\)\(\);/;
  return {
    name: 'typegpu-without-eval-probe',
    apply: 'build',
    transform(code, id, options) {
      if (options?.ssr || !/[\\/]typegpu[\\/]data[\\/]compiledIO\.js$/.test(id)) return null;
      if (!probe.test(code)) {
        this.warn('typegpu/data/compiledIO.js has no EVAL_ALLOWED_IN_ENV probe to settle any more: check the CSP (see vite.config.ts)');
        return null;
      }
      return { code: code.replace(probe, 'export const EVAL_ALLOWED_IN_ENV = false;'), map: null };
    },
  };
}

// Headless Chromium with WebGPU on SwiftShader (see docs/environment.md): Playwright adds the
// sandbox/networking flags itself; only --enable-unsafe-webgpu is needed. CHROMIUM_PATH overrides the
// Debian location for machines where Playwright manages its own browser.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  base: './',
  // onnxruntime-web (the peers study) finds its .wasm next to its own module: pre-bundling would move it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  plugins: [typegpuWithoutEvalProbe()],
  build: { target: 'es2023', outDir: 'dist' },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // KERNEL_LAB_COMPILE_LOG=1 prints what each file compiled (test/compile-count.ts), in Node and the browser.
    setupFiles: ['./test/compile-count.ts'],
    env: { KERNEL_LAB_COMPILE_LOG: process.env.KERNEL_LAB_COMPILE_LOG ?? '' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['src/**/*.browser.test.ts'],
          // Dawn and SwiftShader hold process-global state: one worker, files in sequence. In one process
          // (no isolation per file) the files share one device (test/node-gpu.ts), so a pipeline is compiled
          // once for the run, and no file pays a fresh process and module graph.
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['src/**/*.browser.test.ts'],
          // One page for all files, in sequence: the kernel test files share one device (test/browser-gpu.ts),
          // so a pipeline one file compiled (a third of them, summed over the files) is not compiled again.
          fileParallelism: false,
          isolate: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            instances: [{ browser: 'chromium' }],
            provider: playwright({
              launchOptions: { executablePath: chromium, args: ['--enable-unsafe-webgpu'] },
            }),
          },
        },
      },
      {
        extends: true,
        test: {
          // The built site in headless Chromium (test/e2e/): builds with Vite's build(), serves with preview()
          // and drives Playwright itself. Runs after the other projects so it does not compete for the CPU.
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.e2e.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
