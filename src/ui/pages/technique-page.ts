// <kl-technique-page>: one page per technique (dense, MLA, sparse, MoE), built from the registry: the
// family's kernels, each kernel's schema as the form (validated inline with the CLI's messages), model
// presets, and one Run that (1) verifies the kernel on a small random case against its float64 reference
// and times it at the chosen shape (benchKernel, the CLI's own runner, against the measured roofline),
// (2) times it and its dense baseline across context lengths for the chart, (3) draws the picture from a
// kernel's own outputs. Every step is awaited in small batches, reports progress and can be cancelled.
import { LitElement, html, css, nothing } from 'lit';
import { benchKernel } from '../../bench/runner.ts';
import type { KernelResult } from '../../bench/result-schema.ts';
import { describeError } from '../../gpu/errors.ts';
import { defaults, type AnyKernel, type Config, type ValidationIssue } from '../../kernels/contract.ts';
import { KERNELS, findKernel } from '../../kernels/registry.ts';
import { freshSeed } from '../../kernels/random.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import { MODEL_PRESETS, findPreset } from '../../models/presets.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { runPageStyles } from './page-styles.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import type { ConfigChange } from '../forms/kernel-form.ts';
import { applyPreset, presetHolds } from '../forms/preset-config.ts';
import { scaleDownToFit, type ScaleDown } from '../forms/scale-down.ts';
import { download } from '../bench/result-export.ts';
import { configFromParams, configToParams, parseIntList } from '../forms/url-config.ts';
import { configAt, runSweep, type SweepResult } from '../../bench/sweep.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import { fmtMs } from '../run/display-number.ts';
import type { Progress } from '../run/progress.ts';
import { runStopMessage } from '../run/run-error.ts';
import type { AttentionPicture } from '../pictures/attention-picture.ts';
import type { InputKind } from '../pictures/structured-inputs.ts';
import type { RoutingPicture } from '../pictures/routing-picture.ts';
import type { MemoryExplorer } from '../memory/memory-explorer.ts';
import type { BalanceDemo } from '../pictures/balance-demo.ts';
import { FAMILY_PAGES, defaultKernel, type FamilyPage, type FamilyPageId, type Opening } from './family-pages.ts';
import { isCpuEmulation } from '../../gpu/context.ts';
import { idealSeries, lessonSentence, type LessonSeries } from '../charts/chart-lesson.ts';
import { RunEstimate } from '../run/run-estimate.ts';
import { SERIES_COLORS } from '../charts/chart-colors.ts';
import '../forms/kernel-form.ts';
import '../forms/preset-picker.ts';
import '../run/run-progress.ts';
import '../run/result-card.ts';
import '../charts/line-chart.ts';
import '../pictures/attention-picture.ts';
import '../pictures/routing-picture.ts';
import '../pictures/balance-demo.ts';
import '../steps/flash-steps.ts';
import '../steps/moe-steps.ts';
import '../steps/mla-steps.ts';
import '../memory/memory-explorer.ts';
import './teaching-panel.ts';
import '../code/wgsl-source.ts';
import { SessionWatcher } from '../device/session-watcher.ts';

const DEFAULT_REPEATS = 10;

const SWEEP_REPEATS = 5;

export class TechniquePage extends LitElement {
  static override properties = {
    page: { type: String },
    session: { attribute: false },
    kernels: { attribute: false },
    def: { state: true },
    config: { state: true },
    preset: { state: true },
    sweepText: { state: true },
    repeats: { state: true },
    result: { state: true },
    sweep: { state: true },
    progress: { state: true },
    error: { state: true },
    scaledFrom: { state: true },
  };
  declare page: FamilyPageId;
  declare session: GpuSession | undefined;
  declare kernels: readonly AnyKernel[];
  declare def: AnyKernel | undefined;
  declare config: Config;
  declare preset: string;
  /** The sweep points as typed ("512,1024,..."), validated when used. */
  declare sweepText: string;
  declare repeats: number;
  declare result: KernelResult | undefined;
  declare sweep: SweepResult | undefined;
  declare progress: Progress | undefined;
  declare error: string;
  /** After "scale down to fit": what the shape was scaled from, by which factor. */
  declare scaledFrom: string;
  #abort: AbortController | undefined;
  /** No link chose any setting: the page may open with the shape chosen for this device (see `opening`). */
  #pristine = false;
  /** The settings the run in progress is for (runKey): a link that changes them cancels it. */
  #runningKey = '';
  /**
   * Finished (or cancelled) runs by their settings, newest last: Back to earlier settings shows their
   * results again instead of an empty page. A few only; each holds one result and one sweep.
   */
  #done = new Map<string, { result: KernelResult | undefined; sweep: SweepResult | undefined; error: string }>();
  // Re-render when the GPU session changes state.
  protected readonly sessionWatcher = new SessionWatcher(this);

  constructor() {
    super();
    this.page = 'dense';
    this.kernels = KERNELS;
    this.config = {};
    this.preset = '';
    this.sweepText = '';
    this.repeats = DEFAULT_REPEATS;
    this.error = '';
    this.scaledFrom = '';
  }

  get spec(): FamilyPage {
    return FAMILY_PAGES[this.page];
  }

  override connectedCallback() {
    super.connectedCallback();
    if (!this.def) this.applyParams(new URLSearchParams());
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#abort?.abort();
  }

  /** Take a link's settings: kernel, its fields, preset, sweep, repeats (and the sub-views' own). */
  applyParams(params: URLSearchParams) {
    const before = this.runKey();
    this.#pristine = params.toString() === '';
    const def = defaultKernel(this.spec, this.kernels, params.get('kernel'));
    this.def = def;
    this.config = def ? configFromParams(def, params) : {};
    this.preset = params.get('preset') ?? '';
    const preset = findPreset(this.preset);
    if (this.preset && (!preset || !def || !presetHolds(def, preset, this.config))) this.preset = '';
    this.sweepText = params.get('sweep') ?? this.spec.defaultSweep.join(',');
    // Kept as given: a bad value is refused where it is shown, never silently replaced.
    this.repeats = Number(params.get('repeats') ?? DEFAULT_REPEATS);
    const key = this.runKey();
    // The results on screen must be of the settings in the form: a link to other settings cancels the run
    // in progress and shows that setting's last results, if any (Back after a run finds them again).
    if (key !== before) {
      if (this.#abort && this.#runningKey !== key) this.#abort.abort();
      const done = this.#done.get(key);
      this.result = done?.result;
      this.sweep = done?.sweep;
      this.error = done?.error ?? '';
      this.scaledFrom = '';
    }
    void this.updateComplete.then(() => {
      this.#memory?.applyParams(params);
      this.#balance?.applyParams(params);
    });
  }

  /** The opening shape for this device, once its kind is known (CPU emulation or a GPU). */
  get opening(): Opening | undefined {
    const ctx = this.session?.ctx;
    return ctx ? this.spec.opening(isCpuEmulation(ctx)) : undefined;
  }

  /** The opening's note while the form holds exactly the opening's settings (also from a link to them). */
  get openingNote(): string | undefined {
    const o = this.opening;
    if (!o || !this.def || this.def.id !== o.kernel || this.sweepText !== o.sweep.join(',')) return undefined;
    return Object.entries(o.config).every(([k, v]) => this.config[k] === v) ? o.note : undefined;
  }

  override willUpdate() {
    if (this.#pristine && this.session?.state.kind === 'ready' && !this.progress) this.#open();
  }

  /** Open with this device's shape (the crossover inside the chart), when it passes this device's rules. */
  #open() {
    this.#pristine = false;
    const o = this.opening;
    const def = o && this.kernels.find((k) => k.id === o.kernel && k.family === this.spec.family);
    if (!o || !def || !this.session) return;
    const config = { ...defaults(def.schema), ...Object.fromEntries(Object.entries(o.config).filter(([k]) => k in def.schema)) };
    if (validateConfig(def, config, this.session.caps).length) return;
    this.def = def;
    this.config = config;
    this.sweepText = o.sweep.join(',');
    this.result = undefined;
    this.sweep = undefined;
    void this.updateComplete.then(() => this.#emitParams());
  }

  /** The settings a run's results belong to: kernel, fields, sweep and repeats (not the sub-views'). */
  runKey(): string {
    if (!this.def) return '';
    const p = new URLSearchParams({ kernel: this.def.id });
    configToParams(this.def, this.config, p);
    p.set('sweep', this.sweepText);
    p.set('repeats', String(this.repeats));
    return p.toString();
  }

  #remember(key: string, made: { result: KernelResult | undefined; sweep: SweepResult | undefined; error: string }) {
    this.#done.delete(key);
    this.#done.set(key, made);
    while (this.#done.size > 8) this.#done.delete(this.#done.keys().next().value!);
  }

  writeParams(): URLSearchParams {
    const p = new URLSearchParams();
    if (!this.def) return p;
    const first = defaultKernel(this.spec, this.kernels, null);
    if (this.def !== first) p.set('kernel', this.def.id);
    configToParams(this.def, this.config, p);
    if (this.preset) p.set('preset', this.preset);
    if (this.sweepText !== this.spec.defaultSweep.join(',')) p.set('sweep', this.sweepText);
    if (this.repeats !== DEFAULT_REPEATS) p.set('repeats', String(this.repeats));
    this.#memory?.writeParams(p);
    this.#balance?.writeParams(p);
    return p;
  }

  #emitParams() {
    // Settings the user chose (or the opening itself): the page no longer opens with this device's shape.
    this.#pristine = false;
    this.dispatchEvent(new CustomEvent('route-params', { detail: this.writeParams(), bubbles: true, composed: true }));
  }

  // renderRoot exists only once the page is connected: the shell asks a fresh page for its settings first.
  get #memory(): MemoryExplorer | null {
    return this.renderRoot?.querySelector('kl-memory-explorer') ?? null;
  }
  get #balance(): BalanceDemo | null {
    return this.renderRoot?.querySelector('kl-balance-demo') ?? null;
  }

  get issues(): ValidationIssue[] {
    if (!this.def || !this.session) return [];
    try {
      return validateConfig(this.def, this.config, this.session.caps);
    } catch (e) {
      return [{ field: 'config', message: describeError(e) }];
    }
  }

  get sweepPoints(): number[] | undefined {
    return parseIntList(this.sweepText);
  }

  /** Why the chart points cannot be used (a point outside the sweep field's bounds), or undefined. */
  get sweepIssue(): string | undefined {
    const points = this.sweepPoints;
    if (!points) return 'the chart points must be a comma-separated list of positive integers';
    const spec = this.def?.schema[this.spec.sweepField];
    if (!spec || !('max' in spec)) return undefined;
    const high = points.find((x) => x > spec.max);
    if (high !== undefined) return `chart point ${high} is above the maximum of ${this.spec.sweepField} (${spec.max.toLocaleString('en-US')})`;
    const low = points.find((x) => x < spec.min);
    if (low !== undefined) return `chart point ${low} is below the minimum of ${this.spec.sweepField} (${spec.min})`;
    return undefined;
  }

  get repeatsIssue(): string | undefined {
    const r = this.repeats;
    return Number.isInteger(r) && r >= 1 && r <= 1000 ? undefined : `timed repeats must be an integer from 1 to 1000, got ${Number.isNaN(r) ? 'nothing' : String(r)}`;
  }

  /** A scaled-down shape that fits, offered when the settings do not (a real model's size on a small device). */
  get scaleDown(): ScaleDown | undefined {
    if (!this.def || !this.session || !this.issues.length) return undefined;
    return scaleDownToFit(this.def, this.config, this.session.caps, this.spec.scaleFields);
  }

  #applyScaleDown(s: ScaleDown) {
    const from = findPreset(this.preset)?.name;
    this.scaledFrom = `${from ? `${from}'s shape` : 'The shape'} scaled down by ${s.factor} to fit this device: ${s.changes.join(', ')}. Compare kernels at this shape; absolute sizes are the model's divided by ${s.factor}.`;
    this.#setConfig(s.config);
  }

  /** A config from the form (or a scale-down): the preset choice goes as soon as a value departs from it. */
  #setConfig(config: Config) {
    this.config = config;
    const preset = findPreset(this.preset);
    if (this.preset && (!preset || !this.def || !presetHolds(this.def, preset, config))) this.preset = '';
    this.#emitParams();
  }

  #chooseKernel(id: string) {
    const def = this.kernels.find((k) => k.id === id);
    if (!def) return;
    // Carry over the fields both kernels have (a shape stays a shape), the rest from the new defaults.
    const carried = Object.fromEntries(Object.entries(this.config).filter(([k]) => k in def.schema));
    this.def = def;
    this.result = undefined;
    this.sweep = undefined;
    this.#setConfig({ ...defaults(def.schema), ...carried });
  }

  #choosePreset(id: string) {
    this.preset = id;
    this.scaledFrom = '';
    const preset = findPreset(id);
    if (preset && this.def) this.config = applyPreset(this.def, preset, this.config);
    // The MLA page's KV-cache explorer follows the preset, so the form and the memory view show one model.
    this.#memory?.usePreset(id);
    this.#emitParams();
  }

  /** Why Run is disabled, or undefined when it can run. */
  #blocked(): string | undefined {
    const s = this.session?.state;
    if (!s || s.kind === 'starting') return 'waiting for the GPU';
    if (s.kind === 'none' || s.kind === 'failed') return 'needs WebGPU (see the notice above)';
    if (s.kind === 'lost') return 'the GPU device was lost: re-initialise it above';
    if (this.issues.length) return 'fix the settings marked in red';
    const sweep = this.sweepIssue;
    if (sweep) return sweep;
    const r = this.repeatsIssue;
    if (r) return r;
    if (this.progress) return 'running';
    return undefined;
  }

  async #run() {
    const def = this.def;
    const session = this.session;
    const points = this.sweepPoints;
    if (!def || !session || !points || this.#blocked()) return;
    const config = { ...this.config };
    const key = this.runKey();
    const ac = new AbortController();
    this.#abort = ac;
    this.#runningKey = key;
    // What this run has made, shown only while the form still holds its settings (a link mid-run cancels it).
    const made: { result: KernelResult | undefined; sweep: SweepResult | undefined; error: string } = { result: undefined, sweep: undefined, error: '' };
    const show = () => {
      if (this.runKey() !== key) return;
      this.result = made.result;
      this.sweep = made.sweep;
      this.error = made.error;
    };
    show();
    const baselines = this.spec.baselines(def, config, (id) => findKernel(id));
    const series = [{ label: def.id, def, config }, ...baselines];
    const total = 2 + series.length * points.length + 1;
    const attention = this.renderRoot.querySelector<AttentionPicture>('kl-attention-picture');
    const routing = this.renderRoot.querySelector<RoutingPicture>('kl-routing-picture');
    attention?.clear();
    routing?.clear();
    this.progress = { label: 'waiting for the GPU', done: 0, total };
    try {
      await session.exclusive(`${def.id} run`, async () => {
        const ctx = session.requireCtx();
        const seed = freshSeed();
        this.progress = { label: session.roofline ? 'roofline measured' : 'measuring this GPU\'s roofline (once)', done: 0, total };
        const roofline = await session.ensureRoofline();
        // Said before anything finishes (a big shape's first point can take minutes), then from measured progress.
        const field = this.spec.sweepField;
        const sweepRepeats = Math.min(this.repeats, SWEEP_REPEATS);
        const eta = new RunEstimate(
          [
            { def, config, samples: this.repeats, stages: true },
            ...points.flatMap((x) => series.map((s) => ({ def: s.def, config: configAt(s.def, s.config, field, x), samples: sweepRepeats }))),
          ],
          roofline,
        );
        this.progress = { label: `verifying ${def.id} against the float64 reference, then timing it${eta.label(0)}`, done: 1, total };
        made.result = await benchKernel(ctx, def, { name: 'this page', config }, roofline, { warmup: 2, repeats: this.repeats, seed, signal: ac.signal });
        show();
        // One chart point at a time, each kept as it finishes: a cancelled run keeps (and exports) its finished points.
        for (const [i, x] of points.entries()) {
          const one = await runSweep(ctx, series, field, [x], {
            warmup: 1,
            repeats: sweepRepeats,
            seed,
            signal: ac.signal,
            onPoint: (done, _t, label) => {
              const n = i * series.length + done;
              this.progress = { label: `${label}${eta.label(1 + n)}`, done: 2 + n, total };
            },
          });
          const prev = made.sweep;
          made.sweep = {
            field,
            xs: [...(prev?.xs ?? []), x],
            series: one.series.map((s, j) => ({ ...s, points: [...(prev?.series[j]?.points ?? []), ...s.points] })),
          };
          show();
        }
        this.progress = { label: 'drawing the picture from the kernel outputs', done: total - 1, total };
        if (this.spec.picture === 'attention') await attention?.run(ctx, def, config);
        if (this.spec.picture === 'routing') {
          const router = findKernel('moe.router');
          if (router) await routing?.run(ctx, router, config);
        }
        await this.renderRoot.querySelector<HTMLElementTagNameMap['kl-flash-steps' | 'kl-moe-steps' | 'kl-mla-steps']>('[data-steps]')?.run(ctx);
      });
    } catch (e) {
      made.error = await runStopMessage(e, ac.signal, session, 'Cancelled: the results so far are kept (export them below).');
      show();
    } finally {
      this.progress = undefined;
      this.#abort = undefined;
      this.#runningKey = '';
      this.#remember(key, made);
    }
  }

  /** Draw the picture again with other inputs (structured or random), without timing anything. */
  async #redrawPicture(kind: InputKind) {
    const picture = this.renderRoot.querySelector<AttentionPicture>('kl-attention-picture');
    const session = this.session;
    if (!picture) return;
    picture.inputKind = kind;
    if (!picture.plan || !this.def || !session || session.state.kind !== 'ready' || this.progress) return;
    const def = this.def;
    const config = { ...this.config };
    try {
      await session.exclusive(`${def.id} picture`, () => picture.run(session.requireCtx(), def, config));
    } catch (e) {
      this.error = describeError(e);
    }
  }

  /** The chart's numbers and the result as one JSON file (also after a cancel: the finished points). */
  #export() {
    const body = { kernel: this.def?.id, config: this.config, settings: this.runKey(), result: this.result, sweep: this.sweep, exportedAt: new Date().toISOString() };
    download(`${this.page}-${this.def?.id ?? 'run'}-chart.json`, `${JSON.stringify(body, null, 2)}\n`, 'application/json');
  }

  /** The run's series with their kernels and configs (the same order the run timed them in). */
  #lessonSeries(s: SweepResult): LessonSeries[] {
    const def = this.def;
    if (!def) return [];
    const defs = [{ label: def.id, def, config: this.config }, ...this.spec.baselines(def, this.config, (id) => findKernel(id))];
    return s.series.flatMap((x, i) => {
      const d = defs[i];
      return d && d.def.id === x.kernel ? [{ ...d, label: x.label, ms: x.points.map((p) => p.ms) }] : [];
    });
  }

  #chart(s: SweepResult): { spec: ChartSpec; sentences: string[] } {
    const fmtX = (x: number) => (x >= 1024 && x % 1024 === 0 ? `${x / 1024}K` : String(x));
    const all = this.#lessonSeries(s);
    const [kernel, ...baselines] = all;
    const roof = this.session?.roofline?.value;
    const series: ChartSpec['series'] = s.series.map((x, i) => ({ label: x.label, values: x.points.map((p) => p.ms), dash: i > 0 }));
    const sentences: string[] = [];
    if (kernel && baselines.length && all.length === s.series.length) {
      if (roof) {
        series.push({
          label: `${kernel.label}: cost-model ideal (at ${baselines[0]!.label}'s efficiency)`,
          values: idealSeries(kernel, baselines[0]!, s.field, s.xs, roof),
          color: SERIES_COLORS[4],
          dash: true,
          markers: false,
        });
      }
      for (const b of baselines) {
        const l = lessonSentence(kernel, b, s.field, s.xs, roof ?? { copyGBps: 1, fmaGflops: 1 }, fmtX);
        if (!l) continue;
        sentences.push(roof ? l.sentence : l.sentence.replace(/; the cost model's ideal there is [^)]*/, ''));
        if (l.crossing) {
          series.push({
            label: `crossover vs ${b.label}`,
            values: s.xs.map((_, i) => (i === l.crossing!.index ? kernel.ms[i]! : null)),
            kind: 'points',
            color: SERIES_COLORS[3],
            markerSize: 14,
          });
        }
      }
    }
    return {
      sentences,
      spec: {
        xs: s.xs,
        series,
        xLabel: this.spec.sweepLabel,
        yLabel: 'median time',
        logX: s.xs.length > 1 && s.xs[0]! > 0,
        logY: true,
        formatX: fmtX,
        formatY: (y) => fmtMs(y),
      },
    };
  }

  /** The chosen shape's stages, timed inside the same runs as the whole (composites: DSA, MoE). */
  #stageBars(r: KernelResult) {
    const stages = r.stages ?? [];
    if (stages.length < 2) return nothing;
    const sum = stages.reduce((a, x) => a + x.medianMs, 0);
    const spec: ChartSpec = {
      xs: stages.map((_, i) => i),
      series: [{ label: 'median ms per run', values: stages.map((x) => x.medianMs) }],
      xLabel: 'stage',
      yLabel: 'median time',
      kind: 'bars',
      categoricalX: true,
      formatX: (x) => stages[x]?.name ?? '',
      formatY: (y) => fmtMs(y),
    };
    const top = stages.reduce((a, x) => (x.medianMs > a.medianMs ? x : a));
    return html`<section class="card" aria-label="stage bars" data-stages>
      <h3>Where the time goes: ${r.kernel}'s stages</h3>
      <kl-line-chart .spec=${spec} .height=${200} label="median time per stage of ${r.kernel}"></kl-line-chart>
      <p class="small" data-stage-summary>
        ${stages.map((x) => `${x.name} ${fmtMs(x.medianMs)} (${(100 * x.share).toFixed(0)}%)`).join(' · ')}. ${top.name} takes the most. Stages' sum ${fmtMs(sum)}
        against ${fmtMs(r.stagesWholeMs ?? r.medianMs)} for the whole run, timed in the same batches.
      </p>
    </section>`;
  }

  #lessonChart(s: SweepResult) {
    const { spec, sentences } = this.#chart(s);
    const notes = this.spec.chartNotes?.(this.config, s.xs) ?? [];
    return html`<kl-line-chart .spec=${spec} label="median time against ${this.spec.sweepLabel} (log scales)"></kl-line-chart>
      ${sentences.length || notes.length ? html`<div class="lesson" data-lesson>${[...sentences, ...notes].map((t) => html`<p>${t}</p>`)}</div>` : nothing}
      ${this.#sweepNotes(s)}`;
  }

  #scaleOffer() {
    if (this.scaledFrom) return html`<p class="notice small" data-scaled>${this.scaledFrom}</p>`;
    const s = this.progress ? undefined : this.scaleDown;
    if (!s) return nothing;
    return html`<div class="notice small" data-scale-offer>
      This shape does not fit this device. Scaled down by ${s.factor} it does (${s.changes.join(', ')}): the ratios between kernels still teach.
      <button data-action="scale-down" @click=${() => this.#applyScaleDown(s)}>Scale down by ${s.factor}</button>
    </div>`;
  }

  #sweepNotes(s: SweepResult) {
    const notes = s.series.flatMap((x) => x.points.filter((p) => p.note).map((p) => `${x.label} at ${s.field} = ${p.x}: ${p.note}`));
    return notes.length ? html`<ul class="small muted notes">${notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing;
  }

  override render() {
    const spec = this.spec;
    const def = this.def;
    const mine = this.kernels.filter((k) => k.family === spec.family);
    const blocked = this.#blocked();
    const running = !!this.progress;
    if (!def) return html`<h2>${spec.heading}</h2><p class="muted">No ${spec.family} kernel is registered yet.</p>`;
    return html`<header>
        <h2>${spec.heading}</h2>
        <p class="summary">${spec.lesson.summary}</p>
      </header>
      <div class="layout">
        <section class="card controls" aria-label="settings">
          <label class="kernel-choice"
            ><span>Kernel</span>
            <select ?disabled=${running} @change=${(e: Event) => this.#chooseKernel((e.target as HTMLSelectElement).value)}>
              ${mine.map((k) => html`<option value=${k.id} ?selected=${k === def}>${k.id} — ${k.title}</option>`)}
            </select></label
          >
          <kl-preset-picker .def=${def} .presets=${MODEL_PRESETS} .selected=${this.preset} ?disabled=${running} @preset-change=${(e: CustomEvent<string>) => this.#choosePreset(e.detail)}></kl-preset-picker>
          <kl-kernel-form
            .def=${def}
            .config=${this.config}
            .caps=${this.session?.caps}
            ?disabled=${running}
            @config-change=${(e: CustomEvent<ConfigChange>) => {
              this.scaledFrom = '';
              this.#setConfig(e.detail.config);
            }}
          ></kl-kernel-form>
          ${this.#scaleOffer()}
          <details class="run-settings small">
            <summary>Run settings: ${this.repeats} repeats; chart at ${spec.sweepField} = ${this.sweepText}</summary>
            <label
              >chart points (${spec.sweepLabel}, comma-separated)
              <input
                type="text"
                .value=${this.sweepText}
                aria-invalid=${this.sweepIssue ? 'true' : 'false'}
                @input=${(e: Event) => ((this.sweepText = (e.target as HTMLInputElement).value), this.#emitParams())}
            /></label>
            <label
              >timed repeats
              <input
                type="number"
                min="1"
                max="1000"
                name="repeats"
                .value=${Number.isNaN(this.repeats) ? '' : String(this.repeats)}
                aria-invalid=${this.repeatsIssue ? 'true' : 'false'}
                @input=${(e: Event) => {
                  const raw = (e.target as HTMLInputElement).value;
                  this.repeats = raw.trim() === '' ? NaN : Number(raw);
                  this.#emitParams();
                }}
            /></label>
            ${this.sweepIssue ? html`<span class="error" role="alert">${this.sweepIssue}</span>` : nothing}
            ${this.repeatsIssue ? html`<span class="error" role="alert">${this.repeatsIssue}</span>` : nothing}
          </details>
          <div class="row run-row">
            <button class="primary" data-action="run" ?disabled=${!!blocked} @click=${() => this.#run()}>Run on this GPU</button>
            ${blocked && !running ? html`<span class="small muted" data-blocked>${blocked}</span>` : nothing}
          </div>
          <kl-run-progress .progress=${this.progress} @cancel=${() => this.#abort?.abort()}></kl-run-progress>
          ${this.error ? html`<p class="error" role="alert" data-run-error>${this.error}</p>` : nothing}
          ${(this.result || this.sweep) && !running
            ? html`<div class="row"><button data-action="export-chart" @click=${() => this.#export()}>Export result and chart data (JSON)</button></div>`
            : nothing}
        </section>
        <aside class="card teaching"><kl-teaching-panel .lesson=${spec.lesson} .def=${def}></kl-teaching-panel></aside>
      </div>
      <div class="results">
        <section class="card" aria-label="result">
          ${this.result ? html`<kl-result-card .result=${this.result}></kl-result-card>` : html`<h3>Result</h3><p class="muted">Run to see the median time, GB/s, GFLOP/s and % of this GPU's roofline, with a verification badge.</p>`}
        </section>
        <section class="card" aria-label="time chart">
          <h3>Time vs ${spec.sweepLabel}</h3>
          ${this.sweep
            ? this.#lessonChart(this.sweep)
            : html`<p class="muted">Run to time ${def.id}${spec.baselines(def, this.config, (id) => findKernel(id)).map((b) => ` against ${b.label}`).join('')} at ${this.sweepText}.</p>`}
          ${this.openingNote ? html`<p class="small muted" data-opening>${this.openingNote}</p>` : nothing}
        </section>
        ${this.result ? this.#stageBars(this.result) : nothing}
        ${spec.picture === 'attention'
          ? html`<section class="card wide" aria-label="attention pattern">
              <div class="row spread">
                <h3>What it attended to</h3>
                <kl-picture-inputs ?disabled=${running} @inputs-change=${(e: CustomEvent<InputKind>) => this.#redrawPicture(e.detail)}></kl-picture-inputs>
              </div>
              <kl-attention-picture></kl-attention-picture>
            </section>`
          : nothing}
        ${spec.picture === 'routing'
          ? html`<section class="card wide" aria-label="routing"><h3>Routing: token × expert</h3><kl-routing-picture></kl-routing-picture></section>`
          : nothing}
        ${spec.id === 'dense' ? html`<section class="card wide" aria-label="step-through"><h3>Step through flash decoding</h3><kl-flash-steps data-steps></kl-flash-steps></section>` : nothing}
        ${spec.id === 'moe' ? html`<section class="card wide" aria-label="step-through"><h3>Step through the MoE layer</h3><kl-moe-steps data-steps></kl-moe-steps></section>` : nothing}
        ${spec.id === 'mla' ? html`<section class="card wide" aria-label="step-through"><h3>Step through absorbed MLA decode</h3><kl-mla-steps data-steps></kl-mla-steps></section>` : nothing}
      </div>
      ${spec.picture === 'memory'
        ? html`<section class="card wide-block" aria-label="KV cache explorer">
            <h3>KV-cache explorer</h3>
            <kl-memory-explorer .session=${this.session} @settings-change=${() => this.#emitParams()}></kl-memory-explorer>
          </section>`
        : nothing}
      ${spec.picture === 'routing'
        ? html`<section class="card wide-block" aria-label="bias balancing demo">
            <h3>Auxiliary-loss-free load balancing</h3>
            <kl-balance-demo .session=${this.session} @settings-change=${() => this.#emitParams()}></kl-balance-demo>
          </section>`
        : nothing}
      <section class="card wide-block" aria-label="WGSL source">
        <h3>The WGSL beside the math: <code>${def.id}</code></h3>
        <kl-wgsl-source .kernel=${def.id} .lesson=${spec.lesson}></kl-wgsl-source>
      </section>`;
  }

  static override styles = [
    sharedStyles,
    runPageStyles,
    css`
      .kernel-choice {
        display: flex;
        flex-direction: column;
        gap: 2px;
        font-weight: 600;
      }
      .kernel-choice select {
        font-weight: normal;
      }
      .run-row {
        margin-top: 4px;
      }
      .results {
        display: grid;
        gap: var(--kl-gap);
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr));
        margin-top: var(--kl-gap);
      }
      .wide {
        grid-column: 1 / -1;
      }
      .wide-block {
        margin-top: var(--kl-gap);
      }
      .notes {
        padding-left: 18px;
      }
      .spread {
        justify-content: space-between;
      }
    `,
  ];
}

customElements.define('kl-technique-page', TechniquePage);

declare global {
  interface HTMLElementTagNameMap {
    'kl-technique-page': TechniquePage;
  }
}
