// <kl-theme-toggle>: light or dark. Starts from the system preference (prefers-color-scheme), remembers an
// explicit choice, and sets data-theme on <html>, which switches the design tokens of global-styles.ts.
import { LitElement, html, css } from 'lit';
import { sharedStyles } from './shared-styles.ts';

const KEY = 'kernel-lab:theme';
export type Theme = 'light' | 'dark';

export function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    // storage disabled: follow the system
  }
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

export class ThemeToggle extends LitElement {
  static override properties = { theme: { state: true } };
  declare theme: Theme;

  constructor() {
    super();
    this.theme = (document.documentElement.dataset.theme as Theme | undefined) ?? initialTheme();
  }

  #toggle() {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    applyTheme(this.theme);
    try {
      localStorage.setItem(KEY, this.theme);
    } catch {
      // not remembered, still applied
    }
  }

  override render() {
    const dark = this.theme === 'dark';
    return html`<button aria-pressed=${dark ? 'true' : 'false'} title="Switch between light and dark" @click=${() => this.#toggle()}>${dark ? '☾ dark' : '☀ light'}</button>`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: inline-block;
      }
      button {
        padding: 4px 10px;
      }
    `,
  ];
}

customElements.define('kl-theme-toggle', ThemeToggle);

declare global {
  interface HTMLElementTagNameMap {
    'kl-theme-toggle': ThemeToggle;
  }
}
