// `npm run bench -- --study peers`: the peers study runs in headless Chromium (onnxruntime-web and tfjs are
// browser libraries), so this serves src/bench/peers/peers.html with Vite, drives it with Playwright on the
// browser's own WebGPU adapter, and prints the digest.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { ArgError } from './args.ts';
import { renderDigest } from '../src/bench/format.ts';
import { peersDigest } from '../src/bench/peers/digest.ts';
import type { MeasureOptions, WorkloadResult } from '../src/bench/peers/measure.ts';
import { PEER_WORKLOADS } from '../src/bench/peers/workloads.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface PeersCommand {
  repeats: number;
  warmup: number;
  seed?: number;
  json?: string;
  /** Only workloads whose id contains one of these (default: all seven). */
  ids?: string[];
}

export async function runPeersStudy(o: PeersCommand): Promise<number> {
  const unknown = (o.ids ?? []).filter((id) => !PEER_WORKLOADS.some((w) => w.id.includes(id)));
  // A usage error (exit 2), like any other flag the suite refuses.
  if (unknown.length) throw new ArgError(`--shapes: no peers workload matches ${unknown.join(', ')} (workloads: ${PEER_WORKLOADS.map((w) => w.id).join(', ')})`);
  const ids = o.ids ? PEER_WORKLOADS.filter((w) => o.ids!.some((s) => w.id.includes(s))).map((w) => w.id) : undefined;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false },
    // onnxruntime-web finds its .wasm next to its own module: pre-bundling would move the module.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu'] });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.resolvedUrls!.local[0]}src/bench/peers/peers.html`);
    await page.waitForFunction(() => 'gpu' in navigator && (window as unknown as { __peers?: unknown }).__peers !== undefined, undefined, { timeout: 120_000 });
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu.requestAdapter();
      return a ? `${a.info.vendor} / ${a.info.architecture} / ${a.info.description || a.info.device} via headless Chromium` : 'no adapter';
    });
    console.error(`adapter: ${adapter}`);
    let shown = 0;
    const timer = setInterval(async () => {
      const lines = await page.evaluate(() => (window as unknown as { __peers: { progress: string[] } }).__peers.progress).catch(() => [] as string[]);
      for (; shown < lines.length; shown++) console.error(`  ${lines[shown]}`);
    }, 1000);
    const opts: MeasureOptions = { repeats: o.repeats, warmup: o.warmup, seed: o.seed, ids };
    let results: WorkloadResult[];
    try {
      results = await page.evaluate((opts) => (window as unknown as { __peers: { run(o: unknown): Promise<WorkloadResult[]> } }).__peers.run(opts), opts);
    } finally {
      clearInterval(timer);
    }
    if (pageErrors.length) console.error(`page errors: ${pageErrors.join('; ')}`);
    const digest = peersDigest(results, adapter);
    console.log(renderDigest(digest));
    if (o.json) writeFileSync(o.json, JSON.stringify({ study: 'peers', createdAt: new Date().toISOString(), adapter, repeats: o.repeats, warmup: o.warmup, digest, results }, null, 2));
    const unverified = results.flatMap((w) => w.runs.filter((r) => r.peer === 'this project' && !r.verified.ok));
    return unverified.length ? 1 : 0;
  } finally {
    await browser.close();
    await server.close();
  }
}
