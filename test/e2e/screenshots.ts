// Full-page screenshots from the end-to-end run: always kept as test artifacts under
// test-results/screenshots/ (git-ignored); with UPDATE_SCREENSHOTS=1 also written to docs/screenshots/, the
// copies the README shows (their numbers change with every run, so a plain `npm test` leaves them alone).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { ROOT } from './built-site.ts';

export const ARTIFACTS = join(ROOT, 'test-results', 'screenshots');
export const DOCS = join(ROOT, 'docs', 'screenshots');
const updateDocs = process.env.UPDATE_SCREENSHOTS === '1';

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // Let charts and heatmaps finish their resize-driven redraws before the picture is taken.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
  if (updateDocs) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, `${name}.png`));
  }
  return path;
}
