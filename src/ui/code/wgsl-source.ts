// <kl-wgsl-source>: the chosen kernel's WGSL, highlighted, beside the page's formulas. Each formula the
// kernel implements lists the lines that do it; choosing one marks those lines and scrolls to the first.
// The files are the kernel's own (as the host module assembles them), loaded only when shown.
import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { Lesson } from '../pages/lessons.ts';
import { KERNEL_SOURCES, loadShader, matchingLines } from './kernel-sources.ts';
import { highlightWgsl, type Segment } from './wgsl-tokens.ts';

interface LoadedFile {
  file: string;
  text: string;
  lines: Segment[][];
}

/** "3, 10–12, 40" from sorted line numbers. */
export function lineRanges(lines: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    out.push(j > i ? `${lines[i]}–${lines[j]}` : String(lines[i]));
    i = j;
  }
  return out.join(', ');
}

export class WgslSource extends LitElement {
  static override properties = { kernel: { type: String }, lesson: { attribute: false }, files: { state: true }, chosen: { state: true }, error: { state: true } };
  declare kernel: string;
  declare lesson: Lesson | undefined;
  declare files: LoadedFile[];
  /** The formula whose lines are marked. */
  declare chosen: string;
  declare error: string;
  #loading = '';

  constructor() {
    super();
    this.kernel = '';
    this.files = [];
    this.chosen = '';
    this.error = '';
  }

  override willUpdate(changed: Map<string, unknown>) {
    if (changed.has('kernel') && this.kernel !== this.#loading) void this.#load(this.kernel);
  }

  async #load(kernel: string) {
    this.#loading = kernel;
    this.chosen = '';
    const src = KERNEL_SOURCES[kernel];
    if (!src) {
      this.files = [];
      return;
    }
    try {
      const texts = await Promise.all(src.files.map((f) => loadShader(f)));
      if (this.#loading !== kernel) return;
      this.files = src.files.map((file, i) => ({ file, text: texts[i]!, lines: highlightWgsl(texts[i]!) }));
      this.error = '';
    } catch (e) {
      this.error = `the shader source could not be loaded: ${(e as Error).message}`;
    }
  }

  /** Formula label -> file -> matching line numbers, for the loaded files. */
  get links(): Map<string, Map<string, number[]>> {
    const out = new Map<string, Map<string, number[]>>();
    for (const l of KERNEL_SOURCES[this.kernel]?.links ?? []) {
      const f = this.files.find((x) => x.file === l.file);
      if (!f) continue;
      const lines = matchingLines(f.text, l.pattern);
      if (!lines.length) continue;
      const byFile = out.get(l.formula) ?? new Map<string, number[]>();
      byFile.set(l.file, lines);
      out.set(l.formula, byFile);
    }
    return out;
  }

  async #choose(formula: string) {
    this.chosen = this.chosen === formula ? '' : formula;
    await this.updateComplete;
    const first = this.renderRoot.querySelector<HTMLElement>('.line.hit');
    first?.closest('details')?.setAttribute('open', '');
    first?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  override render() {
    const src = KERNEL_SOURCES[this.kernel];
    if (!src) return html`<p class="muted">No WGSL source is listed for ${this.kernel}.</p>`;
    if (this.error) return html`<p class="error">${this.error}</p>`;
    const links = this.links;
    const formulas = this.lesson?.formulas.filter((f) => links.has(f.label)) ?? [];
    const hits = links.get(this.chosen);
    return html`${formulas.length
        ? html`<ul class="formulas small">
            ${formulas.map((f) => {
              const where = [...links.get(f.label)!].map(([file, lines]) => `${file} lines ${lineRanges(lines)}`).join('; ');
              return html`<li>
                <button class="link" data-formula=${f.label} aria-pressed=${this.chosen === f.label ? 'true' : 'false'} @click=${() => this.#choose(f.label)}>${f.label}</button>
                <code>${f.text}</code> <span class="muted">→ ${where}</span>
              </li>`;
            })}
          </ul>`
        : nothing}
      ${this.files.map((f, i) => {
        const marked = new Set(hits?.get(f.file) ?? []);
        return html`<details class="file" ?open=${i === 0 || marked.size > 0}>
          <summary><code>shaders/${f.file}</code> <span class="muted small">(${f.lines.length} lines)</span></summary>
          <pre class="code" data-file=${f.file}><code>${f.lines.map(
            (segs, n) =>
              html`<span class="line ${marked.has(n + 1) ? 'hit' : ''}" data-line=${n + 1}><span class="ln" aria-hidden="true">${n + 1}</span>${segs.map((s) =>
                  s.classes.length ? html`<span class="token ${s.classes.join(' ')}">${s.text}</span>` : s.text,
                )}
</span>`,
          )}</code></pre>
        </details>`;
      })}`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        --kl-code-comment: #5f6b76;
        --kl-code-keyword: #8a2ca8;
        --kl-code-builtin: #1f5fbf;
        --kl-code-number: #a34f00;
        --kl-code-attr: #1a7f37;
        --kl-code-fn: #b42318;
        --kl-code-hit: #fff4d6;
      }
      :host-context([data-theme='dark']) {
        --kl-code-comment: #8b98a5;
        --kl-code-keyword: #d2a8ff;
        --kl-code-builtin: #79c0ff;
        --kl-code-number: #ffa657;
        --kl-code-attr: #7ee787;
        --kl-code-fn: #ff7b72;
        --kl-code-hit: #33290d;
      }
      .formulas {
        padding-left: 18px;
      }
      .formulas li {
        margin-bottom: 4px;
      }
      button.link {
        padding: 0 6px;
        font-weight: 600;
      }
      button.link[aria-pressed='true'] {
        background: var(--kl-accent);
        color: var(--kl-accent-text);
      }
      pre.code {
        max-height: 420px;
        overflow: auto;
        margin: 6px 0;
        padding: 8px 0;
        background: var(--kl-surface-2);
        border-radius: var(--kl-radius);
        font-family: var(--kl-mono);
        font-size: 0.8rem;
        line-height: 1.45;
      }
      .line {
        display: block;
        padding-right: 12px;
        white-space: pre;
      }
      .line.hit {
        background: var(--kl-code-hit);
        box-shadow: inset 3px 0 var(--kl-warn);
      }
      .ln {
        display: inline-block;
        width: 4ch;
        margin-right: 1.5ch;
        text-align: right;
        color: var(--kl-muted);
        user-select: none;
      }
      .token.comment {
        color: var(--kl-code-comment);
        font-style: italic;
      }
      .token.keyword {
        color: var(--kl-code-keyword);
      }
      .token.builtin,
      .token.class-name {
        color: var(--kl-code-builtin);
      }
      .token.number,
      .token.boolean {
        color: var(--kl-code-number);
      }
      .token.attr-name,
      .token.attr-value {
        color: var(--kl-code-attr);
      }
      .token.function {
        color: var(--kl-code-fn);
      }
    `,
  ];
}

customElements.define('kl-wgsl-source', WgslSource);

declare global {
  interface HTMLElementTagNameMap {
    'kl-wgsl-source': WgslSource;
  }
}
