// Headless Chromium with WebGPU for the end-to-end test, and what the test reads back from a page: every
// console error, page error and CSP violation (a test fails on any), numbers as shown, canvas pixels, and
// elements found through the components' shadow roots.
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright';

// Debian's Chromium (see docs/environment.md); CHROMIUM_PATH overrides it, as for the browser project.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu'] });
}

export interface OpenOptions {
  /** Pretend this browser has no WebGPU (navigator.gpu undefined) before any page script runs. */
  noWebGpu?: boolean;
}

export async function newContext(browser: Browser, o: OpenOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, colorScheme: 'light' });
  await context.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
  });
  if (o.noWebGpu) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
  return context;
}

export interface SitePage {
  page: Page;
  /** Console errors, uncaught page errors and CSP violations seen so far. */
  problems(): Promise<string[]>;
}

/** A fresh tab on `url`, waiting until the GPU session has settled (ready, none, failed). */
export async function openPage(context: BrowserContext, url: string): Promise<SitePage> {
  const page = await context.newPage();
  page.setDefaultTimeout(90_000);
  const seen: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') seen.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => {
    const s = window.__kernelLab?.state();
    return s !== undefined && s !== 'starting';
  });
  return {
    page,
    async problems() {
      const csp = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []).catch(() => [] as string[]);
      return [...seen, ...csp.map((c) => `CSP violation: ${c}`)];
    },
  };
}

/** "4.14 ms", "0.00816", "1.2e-5", "0.71%" -> the number; NaN when the text does not start with one. */
export function leadingNumber(text: string): number {
  const m = /^\s*(-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?)/i.exec(text);
  return m ? Number(m[1]!.replace(/,/g, '')) : NaN;
}

export async function shownNumber(l: Locator): Promise<number> {
  return leadingNumber(await l.innerText());
}

export interface Ink {
  width: number;
  height: number;
  /** Pixels that are not fully transparent. */
  inked: number;
  /** Distinct opaque colours. */
  colours: number;
  /** Pixels within 40 (per channel) of each colour asked for. */
  matches: number[];
}

/** What a 2D canvas holds: enough to tell a drawn chart or heatmap from a blank one. */
export function canvasInk(canvas: Locator, look: [number, number, number][] = []): Promise<Ink> {
  return canvas.evaluate((c, look) => {
    const el = c as HTMLCanvasElement;
    const { data } = el.getContext('2d')!.getImageData(0, 0, el.width, el.height);
    const colours = new Set<number>();
    const matches = look.map(() => 0);
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! === 0) continue;
      inked++;
      colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      look.forEach(([r, g, b], j) => {
        if (Math.abs(data[i]! - r) <= 40 && Math.abs(data[i + 1]! - g) <= 40 && Math.abs(data[i + 2]! - b) <= 40) matches[j]!++;
      });
    }
    return { width: el.width, height: el.height, inked, colours: colours.size, matches };
  }, look);
}

export function hex(c: string): [number, number, number] {
  const n = parseInt(c.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Form controls (in any shadow root) that a screen reader would announce without a name. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const visit = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll<HTMLElement>('*')) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLButtonElement || el instanceof HTMLTextAreaElement)) continue;
        if (el instanceof HTMLInputElement && el.type === 'hidden') continue;
        if (el.closest('[hidden]') || el.getClientRects().length === 0) continue;
        const named =
          (el.labels?.length ?? 0) > 0 ||
          !!el.getAttribute('aria-label') ||
          !!el.getAttribute('aria-labelledby') ||
          (el instanceof HTMLButtonElement && el.textContent!.trim() !== '') ||
          !!el.title;
        if (!named) out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : ''}`);
      }
    };
    visit(document);
    return out;
  });
}

/** The focused element through shadow roots: its tag and text. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.tagName.toLowerCase()}: ${(el.textContent ?? '').trim()}` : '';
  });
}

/** Whether any element with this id exists anywhere in the page, shadow roots included. */
export function existsDeep(page: Page, id: string): Promise<boolean> {
  return page.evaluate((id) => {
    const find = (root: Document | ShadowRoot): boolean => {
      if (root.getElementById(id)) return true;
      return [...root.querySelectorAll('*')].some((el) => !!el.shadowRoot && find(el.shadowRoot));
    };
    return find(document);
  }, id);
}
