// <kl-benchmarks-page>: the CLI's benchmark suite in the browser (selectJobs + runSuite from src/bench/),
// with a progress bar and Cancel, results as they arrive, export as the bench JSON schema and as CSV, and
// import of result files (validated) to compare runs from different GPUs side by side.
import { LitElement, html, css, nothing } from 'lit';
import { runSuite, selectJobs, type SuiteJob } from '../../bench/suite.ts';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION, type KernelResult, type ResultFile } from '../../bench/result-schema.ts';
import { defaultFlushBytes, defaultRepeats } from '../../bench/runner.ts';
import { isCpuEmulation } from '../../gpu/context.ts';
import type { Roofline } from '../../bench/roofline.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { KERNELS } from '../../kernels/registry.ts';
import { freshSeed } from '../../kernels/random.ts';
import type { AnyKernel } from '../../kernels/contract.ts';
import pkg from '../../../package.json';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import type { Progress } from '../run/progress.ts';
import { runStopMessage } from '../run/run-error.ts';
import { download, resultCsv, resultFileName, resultJson } from '../bench/result-export.ts';
import { importResultFiles, localRun, type LoadedRun } from '../bench/result-import.ts';
import { SUITE_DEFAULTS, settingsFromParams, settingsToParams, suiteFilter, suiteForm, type SuiteSettings } from '../bench/suite-settings.ts';
import type { ConfigChange } from '../forms/kernel-form.ts';
import '../forms/kernel-form.ts';
import '../run/run-progress.ts';
import '../bench/results-table.ts';
import '../bench/run-comparison.ts';
import '../charts/roofline-plot.ts';
import '../run/result-card.ts';
import { SessionWatcher } from '../device/session-watcher.ts';

export class BenchmarksPage extends LitElement {
  static override properties = {
    session: { attribute: false },
    kernels: { attribute: false },
    settings: { state: true },
    progress: { state: true },
    live: { state: true },
    liveErrors: { state: true },
    runs: { state: true },
    importErrors: { state: true },
    error: { state: true },
    rooflineRun: { state: true },
    opened: { state: true },
  };
  declare session: GpuSession | undefined;
  declare kernels: readonly AnyKernel[];
  declare settings: SuiteSettings;
  declare progress: Progress | undefined;
  /** Results of the run in progress, as they arrive. */
  declare live: KernelResult[];
  declare liveErrors: ResultFile['errors'];
  declare runs: LoadedRun[];
  declare importErrors: { name: string; errors: string[] }[];
  declare error: string;
  /** The run the roofline plot shows (id), '' for the newest. */
  declare rooflineRun: string;
  /** The result a roofline dot opened. */
  declare opened: KernelResult | undefined;
  #abort: AbortController | undefined;
  // Re-render when the GPU session changes state.
  protected readonly sessionWatcher = new SessionWatcher(this);

  constructor() {
    super();
    this.kernels = KERNELS;
    this.settings = { ...SUITE_DEFAULTS };
    this.live = [];
    this.liveErrors = [];
    this.runs = [];
    this.importErrors = [];
    this.error = '';
    this.rooflineRun = '';
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#abort?.abort();
  }

  applyParams(p: URLSearchParams) {
    this.settings = settingsFromParams(p);
  }

  writeParams(): URLSearchParams {
    return settingsToParams(this.settings);
  }

  get #form() {
    return suiteForm(this.kernels, this.session?.caps);
  }

  /** Field -> message for every setting that is wrong (the form shows them under the fields). */
  get #issues(): Record<string, string> {
    return Object.fromEntries(this.#form.validate(this.settings).map((i) => [i.field, i.message]));
  }

  /** Samples per shape: as set, or 30 on a GPU and 3 on CPU emulation. */
  #repeats(ctx: GpuContext): number {
    return this.settings.repeats > 0 ? this.settings.repeats : defaultRepeats(ctx);
  }

  #repeatsNote() {
    const ctx = this.session?.ctx;
    if (this.settings.repeats > 0 || !ctx) return nothing;
    const cpu = isCpuEmulation(ctx);
    return html`<p class="small muted" data-repeats-note>
      ${defaultRepeats(ctx)} timed samples per shape${cpu ? ': this device is CPU emulation (SwiftShader), where a sample takes seconds; a GPU gets 30' : ' (a GPU; 3 on CPU emulation)'}.
    </p>`;
  }

  get #jobs(): SuiteJob[] {
    return Object.keys(this.#issues).length ? [] : selectJobs(this.kernels, suiteFilter(this.settings));
  }

  /** Why the settings select no job at all, when they are valid. */
  #noJobsReason(): string {
    const f = suiteFilter(this.settings);
    const some = selectJobs(this.kernels, { kernels: f.kernels });
    if (!some.length) return 'no kernel matches the kernels field';
    return f.shapes?.length ? `no benchmark shape of the selected kernels contains ${f.shapes.map((x) => JSON.stringify(x)).join(' or ')}` : 'no benchmark shape matches these settings';
  }

  /** The results so far as a result file: a cancelled suite is still exportable (its errors say it stopped). */
  #partialFile(ctx: GpuContext, roofline: Roofline, done: number, total: number): ResultFile {
    return {
      schema: RESULT_SCHEMA_ID,
      version: RESULT_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      tool: { name: 'llm-kernel-lab', version: pkg.version },
      environment: { runtime: `browser: ${navigator.userAgent}`, adapter: ctx.adapter, features: ctx.features, limits: { ...ctx.limits } },
      settings: { warmup: this.settings.warmup, repeats: this.#repeats(ctx), flushBytes: defaultFlushBytes(ctx) },
      roofline,
      results: this.live,
      errors: [...this.liveErrors, { kernel: 'suite', shape: '', message: `cancelled after ${done} of ${total} jobs` }],
    };
  }

  async #run() {
    const session = this.session;
    const jobs = this.#jobs;
    if (!session || !jobs.length || this.progress) return;
    const ac = new AbortController();
    this.#abort = ac;
    this.error = '';
    this.live = [];
    this.liveErrors = [];
    const total = jobs.length + 1;
    this.progress = { label: 'waiting for the GPU', done: 0, total };
    let partial: (() => ResultFile) | undefined;
    try {
      const file = await session.exclusive('benchmark suite', async () => {
        const ctx = session.requireCtx();
        this.progress = { label: session.roofline ? 'roofline measured' : "measuring this GPU's roofline (once)", done: 0, total };
        const roofline = await session.ensureRoofline();
        partial = () => this.#partialFile(ctx, roofline, this.live.length + this.liveErrors.length, jobs.length);
        return runSuite(ctx, jobs, {
          warmup: this.settings.warmup,
          repeats: this.#repeats(ctx),
          seed: freshSeed(),
          signal: ac.signal,
          runtime: `browser: ${navigator.userAgent}`,
          toolVersion: pkg.version,
          roofline,
          onEvent: (e) => {
            if (e.kind === 'start') this.progress = { label: `${e.job.def.id} · ${e.job.shape.name}`, done: e.index + 1, total };
            if (e.kind === 'result') this.live = [...this.live, e.result];
            if (e.kind === 'error') this.liveErrors = [...this.liveErrors, { kernel: e.job.def.id, shape: e.job.shape.name, message: e.message }];
          },
        });
      });
      this.runs = [localRun(file), ...this.runs.filter((r) => r.source !== 'this browser')];
      this.rooflineRun = this.runs[0]!.id;
      this.opened = undefined;
      this.live = [];
      this.liveErrors = [];
    } catch (e) {
      const cancelled = ac.signal.aborted && partial && this.live.length > 0;
      this.error = await runStopMessage(e, ac.signal, session, cancelled ? 'Cancelled: the results so far are kept as this browser\'s run (export them below).' : 'Cancelled before any result.');
      if (cancelled) {
        this.runs = [localRun(partial!()), ...this.runs.filter((r) => r.source !== 'this browser')];
        this.live = [];
        this.liveErrors = [];
      }
    } finally {
      this.progress = undefined;
      this.#abort = undefined;
    }
  }

  async #import(input: HTMLInputElement) {
    const outcomes = await importResultFiles(input.files ?? []);
    input.value = '';
    this.importErrors = outcomes.flatMap((o) => (o.ok ? [] : [{ name: o.name, errors: o.errors }]));
    const added = outcomes.flatMap((o) => (o.ok ? [o.run] : []));
    this.runs = [...this.runs, ...added];
    // The roofline shows what was just imported.
    if (added.length) (this.rooflineRun = added[0]!.id), (this.opened = undefined);
  }

  override render() {
    const jobs = this.#jobs;
    const ready = this.session?.state.kind === 'ready';
    const running = !!this.progress;
    const families = [...new Set(this.kernels.map((k) => k.family))];
    return html`<h2>Benchmarks</h2>
      <p class="summary">
        The same suite as <code>npm run bench</code>: every registered kernel at its benchmark shapes, each verified against its float64 reference before it is timed,
        with GB/s and GFLOP/s against this GPU's measured roofline. Export the run, import runs from other GPUs or from the CLI, and compare.
      </p>
      <section class="card">
        <h3>Run the suite</h3>
        <kl-kernel-form
          .form=${this.#form}
          .config=${this.settings}
          ?disabled=${running}
          @config-change=${(e: CustomEvent<ConfigChange>) => {
            e.stopPropagation();
            this.settings = e.detail.config as SuiteSettings;
            this.dispatchEvent(new CustomEvent('route-params', { detail: this.writeParams(), bubbles: true, composed: true }));
          }}
        ></kl-kernel-form>
        <p class="small muted">families: ${families.join(', ')}</p>
        ${this.#repeatsNote()}
        <details class="small">
          <summary>${jobs.length} job(s) selected</summary>
          <ul>
            ${jobs.map((j) => html`<li><code>${j.def.id}</code> ${j.shape.name}</li>`)}
          </ul>
        </details>
        <div class="row">
          <button class="primary" data-action="run-suite" ?disabled=${!ready || running || !jobs.length} @click=${() => this.#run()}>Run ${jobs.length} job(s) on this GPU</button>
          ${!ready ? html`<span class="small muted">needs a working WebGPU device</span>` : nothing}
          ${!jobs.length && !Object.keys(this.#issues).length ? html`<span class="small error" data-no-jobs>${this.#noJobsReason()}</span>` : nothing}
        </div>
        <kl-run-progress .progress=${this.progress} @cancel=${() => this.#abort?.abort()}></kl-run-progress>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${this.live.length || this.liveErrors.length ? html`<kl-results-table .results=${this.live} .errors=${this.liveErrors}></kl-results-table>` : nothing}
      </section>
      ${this.runs
        .filter((r) => r.source === 'this browser')
        .map(
          (run) => html`<section class="card">
            <div class="row spread">
              <h3>This browser's run</h3>
              <div class="row">
                <button data-action="export-json" @click=${() => download(`${resultFileName(run.file)}.json`, resultJson(run.file), 'application/json')}>Export JSON</button>
                <button data-action="export-csv" @click=${() => download(`${resultFileName(run.file)}.csv`, resultCsv(run.file), 'text/csv')}>Export CSV</button>
              </div>
            </div>
            <kl-results-table .results=${run.file.results} .errors=${run.file.errors}></kl-results-table>
          </section>`,
        )}
      <section class="card">
        <h3>Compare runs</h3>
        <p class="small muted">
          Import result files written by this page or by <code>npm run bench -- --json results.json</code> (schema <code>llm-kernel-lab/bench-result</code> v1). Files are parsed
          as JSON and validated; nothing in them is executed.
        </p>
        <label class="row"
          ><span>Import result JSON</span>
          <input type="file" accept=".json,application/json" multiple data-action="import" @change=${(e: Event) => this.#import(e.target as HTMLInputElement)}
        /></label>
        ${this.importErrors.map(
          (f) => html`<div class="notice bad small" role="alert">
            <strong>${f.name}</strong> was not imported:
            <ul>
              ${f.errors.map((m) => html`<li>${m}</li>`)}
            </ul>
          </div>`,
        )}
        ${this.runs.length
          ? html`<ul class="small loaded">
                ${this.runs.map(
                  (run) => html`<li>
                    ${run.source === 'imported' ? html`imported: <strong>${run.name}</strong>` : html`<strong>this browser's run</strong>`} (${run.file.results.length} results)
                    <button class="link" aria-label="remove ${run.name}" @click=${() => (this.runs = this.runs.filter((r) => r !== run))}>remove</button>
                  </li>`,
                )}
              </ul>
              <kl-run-comparison .runs=${this.runs}></kl-run-comparison>`
          : html`<p class="muted">Run the suite or import a file to compare.</p>`}
      </section>
      ${this.#roofline()}`;
  }

  /** One run's results against its own measured roofline; a dot opens its result card. */
  #roofline() {
    if (!this.runs.length) return nothing;
    const run = this.runs.find((r) => r.id === this.rooflineRun) ?? this.runs[0]!;
    return html`<section class="card" aria-label="roofline">
      <div class="row spread">
        <h3>Roofline: ${run.source === 'imported' ? run.name : "this browser's run"}</h3>
        ${this.runs.length > 1
          ? html`<label class="row small"
              >run
              <select data-action="roofline-run" @change=${(e: Event) => ((this.rooflineRun = (e.target as HTMLSelectElement).value), (this.opened = undefined))}>
                ${this.runs.map((r) => html`<option value=${r.id} ?selected=${r === run}>${r.source === 'imported' ? r.name : "this browser's run"}</option>`)}
              </select></label
            >`
          : nothing}
      </div>
      <kl-roofline-plot .results=${run.file.results} .ceilings=${run.file.roofline} @result-select=${(e: CustomEvent<KernelResult>) => (this.opened = e.detail)}></kl-roofline-plot>
      ${this.opened ? html`<div data-opened><kl-result-card .result=${this.opened}></kl-result-card></div>` : nothing}
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
      .summary {
        max-width: 80ch;
      }
      .spread {
        justify-content: space-between;
      }
      .loaded {
        padding-left: 18px;
      }
      button.link {
        padding: 0 6px;
        font-size: 0.8rem;
      }
      section.card > * + * {
        margin-top: 8px;
      }
    `,
  ];
}

customElements.define('kl-benchmarks-page', BenchmarksPage);

declare global {
  interface HTMLElementTagNameMap {
    'kl-benchmarks-page': BenchmarksPage;
  }
}
