// Page-wide design tokens (colours, spacing, fonts) as CSS custom properties. They inherit into every
// component's shadow root, so one switch of `data-theme` on <html> restyles the whole app. Adopted as a
// constructable stylesheet: no <style> element, so the CSP can keep style-src 'self'.
import { css } from 'lit';

export const globalStyles = css`
  :root {
    color-scheme: light;
    --kl-bg: #f6f7f9;
    --kl-surface: #ffffff;
    --kl-surface-2: #eef1f5;
    --kl-text: #17202b;
    --kl-muted: #52606d;
    --kl-border: #d3d9e0;
    --kl-accent: #1f5fbf;
    --kl-accent-text: #ffffff;
    --kl-ok: #1a7f37;
    --kl-ok-bg: #dafbe1;
    --kl-bad: #b42318;
    --kl-bad-bg: #fde8e6;
    --kl-warn: #8a5a00;
    --kl-warn-bg: #fff4d6;
    --kl-focus: #f59e0b;
    --kl-scroll-shadow: rgba(0, 0, 0, 0.28);
    --kl-radius: 8px;
    --kl-gap: 16px;
    --kl-font: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif;
    --kl-mono: ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', monospace;
  }
  :root[data-theme='dark'] {
    color-scheme: dark;
    --kl-bg: #0f141a;
    --kl-surface: #171e26;
    --kl-surface-2: #202934;
    --kl-text: #e6edf3;
    --kl-muted: #9aa7b4;
    --kl-border: #33404d;
    --kl-accent: #6ea8fe;
    --kl-accent-text: #0b1320;
    --kl-ok: #56d364;
    --kl-ok-bg: #12301a;
    --kl-bad: #ff7b72;
    --kl-bad-bg: #3a1512;
    --kl-warn: #e3b341;
    --kl-warn-bg: #33290d;
    --kl-scroll-shadow: rgba(0, 0, 0, 0.7);
  }
  html,
  body {
    margin: 0;
    background: var(--kl-bg);
    color: var(--kl-text);
    font-family: var(--kl-font);
    font-size: 15px;
    line-height: 1.5;
  }
`;
