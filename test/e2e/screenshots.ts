// Screenshots from the end-to-end run, of a whole page or of one part of it: always kept as test artifacts
// under test-results/screenshots/ (git-ignored); with UPDATE_SCREENSHOTS=1 also written to docs/screenshots/,
// the copies the README shows (their numbers change with every run, so a plain `npm test` leaves them alone).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright';
import { ROOT } from './built-site.ts';

export const ARTIFACTS = join(ROOT, 'test-results', 'screenshots');
export const DOCS = join(ROOT, 'docs', 'screenshots');
const updateDocs = process.env.UPDATE_SCREENSHOTS === '1';

async function take(page: Page, name: string, shoot: (path: string) => Promise<unknown>): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // Let charts and heatmaps finish their resize-driven redraws before the picture is taken.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await shoot(path);
  if (updateDocs) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, `${name}.png`));
  }
  return path;
}

export function screenshot(page: Page, name: string): Promise<string> {
  return take(page, name, (path) => page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' }));
}

/** One part of a page (a chart, a step-through). */
export function screenshotOf(part: Locator, name: string): Promise<string> {
  return take(part.page(), name, (path) => part.screenshot({ path, animations: 'disabled', caret: 'hide' }));
}
