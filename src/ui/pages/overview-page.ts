// <kl-overview-page>: what the lab is, the four techniques with what each page shows, how the numbers are
// made trustworthy, and every registered kernel (read from the registry, so a new kernel appears here).
import { LitElement, html, css } from 'lit';
import type { AnyKernel } from '../../kernels/contract.ts';
import { KERNELS } from '../../kernels/registry.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { FAMILY_PAGES } from './family-pages.ts';

const SHOWS: Record<keyof typeof FAMILY_PAGES, string> = {
  dense: 'naive vs FlashAttention vs flash decoding, GQA/MQA; the attention probabilities as a heatmap.',
  mla: "DeepSeek's latent KV cache: bytes per token for MHA / GQA / MQA / MLA / window, formula beside measured allocation; naive vs absorbed decode.",
  sparse: 'DSA indexer + top-k, sliding window with sinks, block selection; which keys each query attended to.',
  moe: 'DeepSeek-V3 routing on your GPU: token × expert heatmap, expert load, and the bias-balancing demo.',
};

export class OverviewPage extends LitElement {
  static override properties = { kernels: { attribute: false } };
  declare kernels: readonly AnyKernel[];

  constructor() {
    super();
    this.kernels = KERNELS;
  }

  override render() {
    return html`<section class="hero">
        <h2>The kernels behind DeepSeek, Kimi and Qwen efficiency tricks — on your GPU</h2>
        <p>
          Every technique here is a WGSL compute kernel that runs in this browser through WebGPU. Pick a technique, set its knobs or a real model's shape, run it,
          and see its time, bandwidth and share of this GPU's measured roofline — next to a picture of what it did and a short explanation of why it is fast.
        </p>
      </section>
      <div class="grid">
        ${Object.values(FAMILY_PAGES).map((p) => {
          const n = this.kernels.filter((k) => k.family === p.family).length;
          return html`<a class="card tile" href="#/${p.id}">
            <h3>${p.heading}</h3>
            <p>${SHOWS[p.id]}</p>
            <p class="small muted">${n} kernel${n === 1 ? '' : 's'} registered</p>
          </a>`;
        })}
        <a class="card tile" href="#/benchmarks">
          <h3>Benchmarks</h3>
          <p>The whole suite with progress and cancel; export JSON / CSV; import runs from other GPUs or the CLI and compare side by side.</p>
        </a>
      </div>
      <section class="card how">
        <h3>How the numbers are made</h3>
        <ul>
          <li><strong>Verified first.</strong> Before a kernel is timed it runs on a small random case with its outputs poisoned, and is compared with a float64 CPU reference (relative L2). A failed check hides the numbers.</li>
          <li><strong>GPU timestamps.</strong> Times are medians of repeats measured with <code>timestamp-query</code> around the dispatches (wall clock where the feature is missing, and the page says so), with caches flushed between repeats.</li>
          <li><strong>Against this GPU, not a spec sheet.</strong> GB/s and GFLOP/s come from each kernel's cost model (each input read once, each output written once) and are shown as a fraction of a copy-bandwidth and an FMA probe measured on this device.</li>
          <li><strong>Same code as the CLI.</strong> <code>npm run bench</code> runs the same kernels and runner headless through Dawn and writes the same JSON, which the Benchmarks page imports.</li>
        </ul>
      </section>
      <section class="card">
        <h3>Registered kernels</h3>
        <div class="table-wrap">
          <table data-overview="kernels">
            <thead>
              <tr><th>kernel</th><th>family</th><th>what it is</th></tr>
            </thead>
            <tbody>
              ${this.kernels.map(
                (k) => html`<tr>
                  <td><code>${k.id}</code></td>
                  <td>${k.family}</td>
                  <td>${k.title}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
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
      .hero p {
        max-width: 80ch;
        font-size: 1.05rem;
      }
      .tile {
        color: inherit;
        text-decoration: none;
        display: block;
      }
      .tile:hover {
        border-color: var(--kl-accent);
      }
      .tile h3 {
        color: var(--kl-accent);
      }
      .how ul {
        padding-left: 18px;
        margin: 0;
      }
      .how li {
        margin-bottom: 6px;
      }
    `,
  ];
}

customElements.define('kl-overview-page', OverviewPage);

declare global {
  interface HTMLElementTagNameMap {
    'kl-overview-page': OverviewPage;
  }
}
