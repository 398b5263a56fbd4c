// <kl-app>: header and navigation, the GPU notices (no WebGPU, device lost) and device panel, and the pages.
// The hash holds the page and its settings (routes.ts); a page element is created on first visit and kept,
// hidden, when another page is shown, so its results and any run in progress survive navigation.
import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from './shared-styles.ts';
import { PAGES, formatHash, parseHash, replaceRoute, type PageId } from './routes.ts';
import { appSession, type GpuSession } from '../device/gpu-session.ts';
import { TechniquePage } from '../pages/technique-page.ts';
import { BenchmarksPage } from '../pages/benchmarks-page.ts';
import { OverviewPage } from '../pages/overview-page.ts';
import { SourcesPage } from '../pages/sources-page.ts';
import { DecoderLayerPage } from '../pages/decoder-layer-page.ts';
import '../device/device-panel.ts';
import '../device/device-lost-notice.ts';
import '../device/no-webgpu-notice.ts';
import './theme-toggle.ts';
import { SessionWatcher } from '../device/session-watcher.ts';

/** What a page may do with the URL: take a link's settings, and say what its settings are now. */
interface RoutablePage extends HTMLElement {
  applyParams?(params: URLSearchParams): void;
  writeParams?(): URLSearchParams;
}

export class AppShell extends LitElement {
  static override properties = { session: { attribute: false }, active: { state: true } };
  declare session: GpuSession | undefined;
  declare active: PageId;
  #pages = new Map<PageId, RoutablePage>();
  #onHash = () => this.#route(true);
  // Re-render when the GPU session changes state.
  protected readonly sessionWatcher = new SessionWatcher(this);

  constructor() {
    super();
    this.active = 'overview';
    // The app's session unless a test hands in its own before connecting.
    this.session = appSession;
  }

  override connectedCallback() {
    super.connectedCallback();
    window.addEventListener('hashchange', this.#onHash);
    this.#route(false);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.#onHash);
  }

  #make(page: PageId): RoutablePage {
    let el: RoutablePage;
    if (page === 'overview') el = new OverviewPage();
    else if (page === 'sources') el = new SourcesPage();
    else if (page === 'layer') {
      const l = new DecoderLayerPage();
      l.session = this.session;
      el = l;
    } else if (page === 'benchmarks') {
      const b = new BenchmarksPage();
      b.session = this.session;
      el = b;
    } else {
      const t = new TechniquePage();
      t.page = page;
      t.session = this.session;
      el = t;
    }
    el.dataset.page = page;
    el.addEventListener('route-params', (e) => {
      if (this.active === page) replaceRoute(page, (e as CustomEvent<URLSearchParams>).detail);
    });
    return el;
  }

  #route(userNavigation: boolean) {
    const { page, params } = parseHash(location.hash);
    let el = this.#pages.get(page);
    const fresh = !el;
    if (!el) {
      el = this.#make(page);
      this.#pages.set(page, el);
    }
    this.active = page;
    // A link with settings sets them up; a bare "#/page" shows the page as it was and puts its settings back in the URL.
    if ([...params.keys()].length || fresh) el.applyParams?.(params);
    if (![...params.keys()].length && el.writeParams) replaceRoute(page, el.writeParams());
    document.title = `${PAGES.find((p) => p.id === page)!.label} · LLM Kernel Lab`;
    void this.updateComplete.then(() => {
      // On a phone the tabs scroll sideways: keep the current one in view.
      this.renderRoot.querySelector('nav a[aria-current="page"]')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      if (userNavigation) this.renderRoot.querySelector<HTMLElement>('main')?.focus({ preventScroll: false });
    });
  }

  override render() {
    const s = this.session?.state;
    const noGpu = s?.kind === 'none' || s?.kind === 'failed';
    for (const [id, el] of this.#pages) el.hidden = id !== this.active;
    return html`<a class="skip" href="#main" @click=${(e: Event) => (e.preventDefault(), this.renderRoot.querySelector<HTMLElement>('main')?.focus())}>Skip to content</a>
      <header>
        <div class="brand">
          <a href=${formatHash('overview')} class="title">LLM Kernel Lab</a>
          <span class="muted small">WebGPU kernels behind frontier-LLM efficiency tricks</span>
        </div>
        <kl-theme-toggle></kl-theme-toggle>
        <nav aria-label="pages" class="scroll-cue">
          ${PAGES.map((p) => html`<a href=${formatHash(p.id)} aria-current=${p.id === this.active ? 'page' : 'false'}>${p.label}</a>`)}
        </nav>
      </header>
      <div class="status">
        ${noGpu ? html`<kl-no-webgpu-notice .message=${s && 'message' in s ? s.message : ''}></kl-no-webgpu-notice>` : nothing}
        <kl-device-lost-notice .session=${this.session}></kl-device-lost-notice>
        ${noGpu ? nothing : html`<kl-device-panel .session=${this.session}></kl-device-panel>`}
      </div>
      <main id="main" tabindex="-1">${[...this.#pages.values()]}</main>
      <footer class="small muted">
        Kernels are checked against float64 references before any number is shown. Charts: uPlot; heatmaps: one canvas each. Runs entirely in this browser; nothing is uploaded.
      </footer>`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        max-width: 1400px;
        margin: 0 auto;
        padding: 0 16px 32px;
      }
      .skip {
        position: absolute;
        left: -9999px;
      }
      .skip:focus {
        left: 16px;
        top: 8px;
        z-index: 10;
        background: var(--kl-surface);
        padding: 6px 10px;
      }
      header {
        display: grid;
        grid-template-columns: 1fr auto;
        align-items: center;
        gap: 8px 20px;
        padding: 14px 0 10px;
        border-bottom: 1px solid var(--kl-border);
      }
      .brand {
        display: flex;
        flex-direction: column;
      }
      .title {
        font-size: 1.3rem;
        font-weight: 800;
        color: var(--kl-text);
        text-decoration: none;
      }
      nav {
        grid-column: 1 / -1;
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        --kl-cue-cover: var(--kl-bg);
      }
      nav a {
        padding: 6px 10px;
        border-radius: 6px;
        text-decoration: none;
        color: var(--kl-text);
        white-space: nowrap;
      }
      nav a:hover {
        background: var(--kl-surface-2);
      }
      nav a[aria-current='page'] {
        background: var(--kl-accent);
        color: var(--kl-accent-text);
        font-weight: 600;
      }
      .status {
        display: flex;
        flex-direction: column;
        gap: 10px;
        margin: 12px 0;
      }
      main {
        outline: none;
      }
      main > [hidden] {
        display: none;
      }
      footer {
        margin-top: 32px;
        border-top: 1px solid var(--kl-border);
        padding-top: 10px;
      }
      @media (max-width: 700px) {
        nav {
          flex-wrap: nowrap;
          overflow-x: auto;
          width: 100%;
        }
      }
    `,
  ];
}

customElements.define('kl-app', AppShell);

declare global {
  interface HTMLElementTagNameMap {
    'kl-app': AppShell;
  }
}
