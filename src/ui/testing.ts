// Helpers for the components' browser tests (*.browser.test.ts): mount an element with the app's design
// tokens, wait for Lit to render, reach into nested shadow roots, and type into inputs as a user would
// (value set, then the input/change event Lit listens to).
import type { LitElement } from 'lit';
import { globalStyles } from './shell/global-styles.ts';

let styled = false;

export async function mount<T extends HTMLElement>(el: T): Promise<T> {
  if (!styled) {
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, globalStyles.styleSheet!];
    styled = true;
  }
  document.body.append(el);
  await settle(el);
  return el;
}

export function unmountAll(): void {
  document.body.replaceChildren();
  delete document.documentElement.dataset.theme;
}

/** Wait until the element and every Lit element in its shadow tree has rendered. */
export async function settle(el: Element): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const pending = [el, ...allInShadows(el)].filter((e): e is LitElement => 'updateComplete' in e);
    const changed = await Promise.all(pending.map((e) => e.updateComplete));
    if (changed.every(Boolean)) return;
  }
}

function allInShadows(el: Element): Element[] {
  const root = el.shadowRoot;
  if (!root) return [];
  return [...root.querySelectorAll('*')].flatMap((e) => [e, ...allInShadows(e)]);
}

/** `q(app, 'kl-device-panel', '[data-device="adapter"]')`: each selector inside the previous match's shadow root. */
export function q<T extends Element = HTMLElement>(from: Element, ...selectors: string[]): T {
  let cur: Element = from;
  for (const s of selectors) {
    const next = (cur.shadowRoot ?? cur).querySelector(s);
    if (!next) throw new Error(`no ${s} in ${cur.tagName.toLowerCase()} (looking for ${selectors.join(' » ')})`);
    cur = next;
  }
  return cur as T;
}

export function qa<T extends Element = HTMLElement>(from: Element, selector: string): T[] {
  return [...(from.shadowRoot ?? from).querySelectorAll<T>(selector as never)] as T[];
}

/** The text of an element and of the shadow roots inside it, whitespace collapsed. */
export function text(el: Node): string {
  const walk = (n: Node): string => {
    if (n.nodeType === Node.TEXT_NODE) return n.textContent ?? '';
    if (n instanceof HTMLStyleElement || n instanceof HTMLScriptElement) return '';
    if (n instanceof HTMLProgressElement) return '';
    const kids = n instanceof Element && n.shadowRoot ? n.shadowRoot.childNodes : n.childNodes;
    const inner = [...kids].map(walk).join('');
    // Block-level boxes (rows, cells, paragraphs) are separated by a space, inline ones are not.
    return n instanceof HTMLElement && !getComputedStyle(n).display.startsWith('inline') ? ` ${inner} ` : inner;
  };
  return walk(el).replace(/\s+/g, ' ').trim();
}

export function type(input: HTMLInputElement | HTMLSelectElement, value: string, event: 'input' | 'change' = input instanceof HTMLSelectElement ? 'change' : 'input'): void {
  input.value = value;
  input.dispatchEvent(new Event(event, { bubbles: true, composed: true }));
}

export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
