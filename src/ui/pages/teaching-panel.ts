// <kl-teaching-panel>: the trick of a page in a few lines — formulas, why it saves time or memory, the
// chosen kernel's own explanation — and the papers and code it comes from.
import { LitElement, html, css, nothing } from 'lit';
import type { AnyKernel } from '../../kernels/contract.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { Lesson } from './lessons.ts';
import { linkify } from './linkify.ts';

export class TeachingPanel extends LitElement {
  static override properties = { lesson: { attribute: false }, def: { attribute: false } };
  declare lesson: Lesson | undefined;
  declare def: AnyKernel | undefined;

  override render() {
    const l = this.lesson;
    if (!l) return nothing;
    return html`<h3>How it works</h3>
      <dl class="formulas">
        ${l.formulas.map((f) => html`<dt>${f.label}</dt><dd><code>${f.text}</code></dd>`)}
      </dl>
      <h4>Why it is faster or smaller</h4>
      <ul>
        ${l.why.map((w) => html`<li>${w}</li>`)}
      </ul>
      ${this.def
        ? html`<h4>This kernel: <code>${this.def.id}</code></h4>
            <p>${this.def.explain}</p>
            <p class="small muted">Sources: ${this.def.sources.map((s, i) => html`${i ? '; ' : ''}${linkify(s)}`)}</p>`
        : nothing}
      <h4>Read more</h4>
      <ul class="small">
        ${l.sources.map((s) => html`<li><a href=${s.url} target="_blank" rel="noopener noreferrer">${s.title}</a></li>`)}
      </ul>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .formulas {
        margin: 0 0 12px;
      }
      dt {
        font-weight: 600;
        font-size: 0.85rem;
        color: var(--kl-muted);
      }
      dd {
        margin: 0 0 8px;
        overflow-x: auto;
      }
      dd code {
        white-space: pre-wrap;
      }
      ul {
        padding-left: 18px;
        margin: 0 0 12px;
      }
      li {
        margin-bottom: 4px;
      }
    `,
  ];
}

customElements.define('kl-teaching-panel', TeachingPanel);

declare global {
  interface HTMLElementTagNameMap {
    'kl-teaching-panel': TeachingPanel;
  }
}
