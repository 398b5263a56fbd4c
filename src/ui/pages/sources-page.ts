// <kl-sources-page>: where everything comes from — each kernel's papers and reference code (from the
// registry), each technique's reading list, and every model preset with the source of each number.
import { LitElement, html, css, nothing } from 'lit';
import type { AnyKernel } from '../../kernels/contract.ts';
import { KERNELS } from '../../kernels/registry.ts';
import { MODEL_PRESETS, archFields, fieldSource } from '../../models/presets.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { FAMILY_PAGES } from './family-pages.ts';
import { linkify } from './linkify.ts';

function archValue(arch: object, path: string): string {
  const v = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), arch);
  return typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
}

export class SourcesPage extends LitElement {
  static override properties = { kernels: { attribute: false } };
  declare kernels: readonly AnyKernel[];

  constructor() {
    super();
    this.kernels = KERNELS;
  }

  override render() {
    return html`<h2>Sources</h2>
      <p class="muted">Papers and reference code behind each kernel, and where every number of the model presets comes from.</p>
      ${Object.values(FAMILY_PAGES).map(
        (p) => html`<section class="card">
          <h3>${p.heading}</h3>
          <ul>
            ${p.lesson.sources.map((s) => html`<li><a href=${s.url} target="_blank" rel="noopener noreferrer">${s.title}</a></li>`)}
          </ul>
          <table>
            <thead>
              <tr><th>kernel</th><th>sources</th></tr>
            </thead>
            <tbody>
              ${this.kernels
                .filter((k) => k.family === p.family)
                .map(
                  (k) => html`<tr>
                    <td><code>${k.id}</code></td>
                    <td>${k.sources.map((s, i) => html`${i ? html`<br />` : nothing}${linkify(s)}`)}</td>
                  </tr>`,
                )}
            </tbody>
          </table>
        </section>`,
      )}
      <section class="card">
        <h3>Model presets</h3>
        ${MODEL_PRESETS.map(
          (m) => html`<details>
            <summary><strong>${m.name}</strong> — ${m.arch.layers} layers, ${m.arch.heads} heads${m.arch.mla ? ', MLA' : ''}${m.arch.moe ? `, ${m.arch.moe.routedExperts} experts` : ''}</summary>
            <p class="small">config: <a href=${m.configUrl} target="_blank" rel="noopener noreferrer">${m.configUrl}</a>${m.paper ? html`<br />paper: ${linkify(m.paper)}` : nothing}</p>
            <div class="table-wrap">
              <table class="small">
                <thead>
                  <tr><th>field</th><th class="num">value</th><th>source</th></tr>
                </thead>
                <tbody>
                  ${archFields(m.arch).map(
                    (f) => html`<tr>
                      <td><code>${f}</code></td>
                      <td class="num">${archValue(m.arch, f)}</td>
                      <td>${fieldSource(m, f) ?? html`<span class="muted">—</span>`}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            <ul class="small muted">
              ${m.notes.map((n) => html`<li>${n}</li>`)}
            </ul>
          </details>`,
        )}
      </section>`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        gap: var(--kl-gap);
      }
      ul {
        padding-left: 18px;
      }
      td {
        overflow-wrap: anywhere;
      }
      td code {
        white-space: nowrap;
      }
      details {
        border-top: 1px solid var(--kl-border);
        padding: 6px 0;
      }
      summary {
        cursor: pointer;
      }
    `,
  ];
}

customElements.define('kl-sources-page', SourcesPage);

declare global {
  interface HTMLElementTagNameMap {
    'kl-sources-page': SourcesPage;
  }
}
