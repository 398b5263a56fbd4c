import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// Headless Chromium with WebGPU on SwiftShader (see ../shared/ENVIRONMENT.md): Playwright adds the
// sandbox/networking flags itself; only --enable-unsafe-webgpu is needed. CHROMIUM_PATH overrides the
// Debian location for machines where Playwright manages its own browser.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  base: './',
  build: { target: 'es2023', outDir: 'dist' },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
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
          // Dawn and SwiftShader hold process-global state: one worker, files in sequence.
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['src/**/*.browser.test.ts'],
          fileParallelism: false,
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
    ],
  },
});
