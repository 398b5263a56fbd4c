// Styles every component shares (cards, buttons, form controls, tables, badges), included in each
// component's static styles so shadow roots look alike and keyboard focus is always visible.
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  h2,
  h3,
  h4 {
    margin: 0 0 8px;
    line-height: 1.25;
  }
  h2 {
    font-size: 1.45rem;
  }
  h3 {
    font-size: 1.1rem;
  }
  h4 {
    font-size: 1rem;
  }
  p {
    margin: 0 0 8px;
  }
  a {
    color: var(--kl-accent);
  }
  code,
  .mono {
    font-family: var(--kl-mono);
    font-size: 0.9em;
  }
  .card {
    background: var(--kl-surface);
    border: 1px solid var(--kl-border);
    border-radius: var(--kl-radius);
    padding: var(--kl-gap);
    min-width: 0;
  }
  .muted {
    color: var(--kl-muted);
  }
  .small {
    font-size: 0.85rem;
  }
  button,
  .button {
    font: inherit;
    border: 1px solid var(--kl-border);
    background: var(--kl-surface-2);
    color: var(--kl-text);
    border-radius: 6px;
    padding: 6px 14px;
    cursor: pointer;
    text-decoration: none;
    display: inline-block;
  }
  button.primary {
    background: var(--kl-accent);
    color: var(--kl-accent-text);
    border-color: var(--kl-accent);
    font-weight: 600;
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  button:focus-visible,
  a:focus-visible,
  input:focus-visible,
  select:focus-visible,
  summary:focus-visible,
  canvas:focus-visible {
    outline: 3px solid var(--kl-focus);
    outline-offset: 2px;
  }
  input,
  select {
    font: inherit;
    color: var(--kl-text);
    background: var(--kl-surface);
    border: 1px solid var(--kl-border);
    border-radius: 6px;
    padding: 4px 8px;
    min-width: 0;
  }
  input[aria-invalid='true'] {
    border-color: var(--kl-bad);
    background: var(--kl-bad-bg);
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-size: 0.9rem;
  }
  th,
  td {
    text-align: left;
    padding: 4px 8px;
    border-bottom: 1px solid var(--kl-border);
    vertical-align: top;
  }
  td.num,
  th.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  /*
   * A wide table scrolls sideways inside its card; a shadow at an edge says there is more that way. The
   * surface-coloured covers scroll with the content ('local') and hide the shadows ('scroll') at the ends.
   */
  .table-wrap,
  .scroll-cue {
    overflow-x: auto;
    background:
      linear-gradient(to right, var(--kl-cue-cover, var(--kl-surface)), transparent) left / 24px 100% no-repeat local,
      linear-gradient(to left, var(--kl-cue-cover, var(--kl-surface)), transparent) right / 24px 100% no-repeat local,
      radial-gradient(farthest-side at 0 50%, var(--kl-scroll-shadow), transparent) left / 12px 100% no-repeat scroll,
      radial-gradient(farthest-side at 100% 50%, var(--kl-scroll-shadow), transparent) right / 12px 100% no-repeat scroll;
  }
  .badge {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 999px;
    font-size: 0.8rem;
    font-weight: 600;
    border: 1px solid currentColor;
  }
  .badge.ok {
    color: var(--kl-ok);
    background: var(--kl-ok-bg);
  }
  .badge.bad {
    color: var(--kl-bad);
    background: var(--kl-bad-bg);
  }
  .badge.warn {
    color: var(--kl-warn);
    background: var(--kl-warn-bg);
  }
  .badge.off {
    color: var(--kl-muted);
  }
  .error {
    color: var(--kl-bad);
  }
  .notice {
    border-radius: var(--kl-radius);
    padding: 10px 14px;
    border: 1px solid var(--kl-border);
  }
  .notice.bad {
    background: var(--kl-bad-bg);
    border-color: var(--kl-bad);
  }
  .notice.warn {
    background: var(--kl-warn-bg);
    border-color: var(--kl-warn);
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    align-items: center;
  }
  .grid {
    display: grid;
    gap: var(--kl-gap);
    grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr));
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
