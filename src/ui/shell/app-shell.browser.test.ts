// <kl-app> and <kl-theme-toggle>: the hash picks the page (unknown ones are the overview), pages are made
// once and kept while hidden, the URL takes a page's settings, the title and navigation follow; the theme
// toggle switches data-theme on <html> and remembers the choice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { page } from 'vitest/browser';
import { GpuSession } from '../device/gpu-session.ts';
import { mount, q, qa, settle, text, type, unmountAll, until } from '../testing.ts';
import { AppShell } from './app-shell.ts';
import { PAGES } from './routes.ts';
import { ThemeToggle } from './theme-toggle.ts';

const start = location.href;

async function app(hash: string): Promise<AppShell> {
  history.replaceState(null, '', hash);
  const a = new AppShell();
  // A session that never starts: routing and forms need no GPU.
  a.session = new GpuSession();
  return mount(a);
}

const shown = (a: AppShell) => qa(a, 'main > *').filter((el) => !el.hidden).map((el) => el.dataset.page);

beforeEach(() => localStorage.removeItem('kernel-lab:theme'));
afterEach(() => {
  unmountAll();
  history.replaceState(null, '', start);
});

describe('<kl-app>', () => {
  it('shows the page the hash names, with its navigation entry current and its title', async () => {
    const a = await app('#/sources');
    expect(shown(a)).toEqual(['sources']);
    expect(qa(a, 'nav a').map((l) => [l.textContent, l.getAttribute('aria-current')])).toEqual(PAGES.map((p) => [p.label, p.id === 'sources' ? 'page' : 'false']));
    expect(document.title).toBe('Sources · LLM Kernel Lab');
    expect(text(a)).toContain('starting WebGPU');
  });

  it('treats an unknown page as the overview', async () => {
    const a = await app('#/nonsense?x=1');
    expect(shown(a)).toEqual(['overview']);
  });

  it('keeps a visited page (and its state) when another is shown, and moves focus to the content', async () => {
    const a = await app('#/dense');
    const dense = q(a, 'main > [data-page="dense"]');
    location.hash = '#/moe';
    await until(() => shown(a)[0] === 'moe', 'the MoE page');
    expect(dense.hidden).toBe(true);
    expect(dense.isConnected).toBe(true);
    location.hash = '#/dense';
    await until(() => shown(a)[0] === 'dense', 'the dense page again');
    expect(q(a, 'main > [data-page="dense"]')).toBe(dense);
    await settle(a);
    expect(a.shadowRoot!.activeElement?.id).toBe('main');
  });

  it('reads a page\'s settings from the URL and writes them back as they change', async () => {
    const a = await app('#/dense?S=64&D=32');
    const form = q(a, 'main > [data-page="dense"]', 'kl-kernel-form');
    await settle(a);
    expect(q<HTMLInputElement>(form, 'input[name="S"]').value).toBe('64');
    type(q<HTMLInputElement>(form, 'input[name="Hq"]'), '16');
    await settle(a);
    expect(new URLSearchParams(location.hash.split('?')[1]).get('Hq')).toBe('16');
    expect(location.hash).toMatch(/^#\/dense\?/);
    expect(location.hash).toContain('S=64');
    // A bare link to the page shows it as it was, settings back in the URL.
    location.hash = '#/overview';
    await until(() => shown(a)[0] === 'overview', 'the overview');
    location.hash = '#/dense';
    await until(() => location.hash.includes('Hq=16'), 'the settings back in the URL');
  });

  it('has a skip link to the content', async () => {
    const a = await app('#/overview');
    const skip = q<HTMLAnchorElement>(a, 'a.skip');
    expect(skip.textContent).toBe('Skip to content');
    skip.click();
    expect(a.shadowRoot!.activeElement?.id).toBe('main');
  });
});

describe('<kl-theme-toggle>', () => {
  it('switches light and dark on <html>, says which is on, and remembers it', async () => {
    document.documentElement.dataset.theme = 'light';
    const t = await mount(new ThemeToggle());
    const button = q<HTMLButtonElement>(t, 'button');
    expect([button.getAttribute('aria-pressed'), button.textContent]).toEqual(['false', '☀ light']);
    button.click();
    await settle(t);
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect([button.getAttribute('aria-pressed'), button.textContent]).toEqual(['true', '☾ dark']);
    expect(localStorage.getItem('kernel-lab:theme')).toBe('dark');
    expect(getComputedStyle(document.body).backgroundColor).toBe('rgb(15, 20, 26)');
    button.click();
    expect(document.documentElement.dataset.theme).toBe('light');
  });
});

describe('phone width', () => {
  it('the tabs scroll sideways with a shadow cue, the current tab kept in view; wide tables scroll with the same cue', async () => {
    await page.viewport(360, 740);
    try {
      const a = await app('#/sources');
      const nav = q(a, 'nav');
      await until(() => getComputedStyle(nav).overflowX === 'auto', 'the phone layout');
      expect(nav.scrollWidth).toBeGreaterThan(nav.clientWidth);
      // The cue: edge shadows under covers that scroll with the content.
      const bg = getComputedStyle(nav).backgroundImage;
      expect(bg.match(/radial-gradient/g)).toHaveLength(2);
      expect(getComputedStyle(nav).backgroundAttachment).toBe('local, local, scroll, scroll');
      const current = q(a, 'nav a[aria-current="page"]');
      await until(() => {
        const n = nav.getBoundingClientRect();
        const c = current.getBoundingClientRect();
        return c.left >= n.left - 1 && c.right <= n.right + 1;
      }, 'the current tab scrolled into view');
      // Every component's .table-wrap shares the cue (the KV table, results, limits).
      const wrap = document.createElement('div');
      wrap.className = 'table-wrap';
      const probe = a.shadowRoot!.appendChild(wrap);
      expect(getComputedStyle(probe).backgroundAttachment).toBe('local, local, scroll, scroll');
      probe.remove();
    } finally {
      await page.viewport(414, 896);
    }
  });
});
