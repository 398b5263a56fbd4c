// <kl-decoder-layer-page>: one DeepSeek-V3.2 decoder layer (layer.deepseek_v32) and its variants on the same
// weights. One Run times every variant with the page's runner (benchKernel: verified against the float64
// reference, then every stage timed inside the same runs), then sweeps the context length S. Drawn: the time
// per stage per variant (stacked bars, from the measured stage times), the waterfall from a dense MHA + dense
// FFN layer to V3.2 (each step's measured ms and the KV bytes and FLOPs it saves), the KV bytes per token and
// layer of each cache layout (src/memory's formulas, at this shape and at V3.2's real one) and time against S.
// The variants are the kernel schema's own attention x FFN values; the settings live in the URL.
import { LitElement, html, css, nothing } from 'lit';
import { benchKernel } from '../../bench/runner.ts';
import type { KernelResult } from '../../bench/result-schema.ts';
import type { CheckReport } from '../../kernels/check.ts';
import { describeError } from '../../gpu/errors.ts';
import { defaults, withDefaults, type AnyKernel, type Config, type ValidationIssue } from '../../kernels/contract.ts';
import { findKernel } from '../../kernels/registry.ts';
import { freshSeed } from '../../kernels/random.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import { V32 } from '../../kernels/layer/layer-config.ts';
import { GROUPS, WATERFALL } from '../../bench/studies/layer.ts';
import { configAt, runSweep, type SweepResult } from '../../bench/sweep.ts';
import { isCpuEmulation } from '../../gpu/context.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { runPageStyles } from './page-styles.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import { SessionWatcher } from '../device/session-watcher.ts';
import type { ConfigChange } from '../forms/kernel-form.ts';
import { configFromParams, configToParams, parseIntList } from '../forms/url-config.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import type { StackedBarsSpec } from '../charts/stacked-bars.ts';
import { lessonSentence } from '../charts/chart-lesson.ts';
import { SERIES_COLORS } from '../charts/chart-colors.ts';
import { fmtBytes, fmtMs, fmtNum, fmtPct } from '../run/display-number.ts';
import type { Progress } from '../run/progress.ts';
import { runStopMessage } from '../run/run-error.ts';
import { STAGE_TOLERANCE, stageCheck, stageCheckLine } from '../run/result-card.ts';
import { RunEstimate } from '../run/run-estimate.ts';
import {
  LAYER_KERNEL,
  attentionName,
  enumValues,
  kvBytes,
  kvFormula,
  kvRows,
  layerOpening,
  layerVariants,
  stageGroups,
  stepMs,
  variantConfig,
  variantKvBytes,
  type LayerVariant,
} from './layer-variants.ts';
import '../forms/kernel-form.ts';
import '../run/run-progress.ts';
import '../charts/line-chart.ts';
import '../charts/stacked-bars.ts';

const DEFAULT_REPEATS = 5;
const SWEEP_REPEATS = 3;

const fmtX = (x: number) => (x >= 1024 && x % 1024 === 0 ? `${x / 1024}K` : String(x));

export class DecoderLayerPage extends LitElement {
  static override properties = {
    session: { attribute: false },
    def: { attribute: false },
    config: { state: true },
    sweepText: { state: true },
    repeats: { state: true },
    results: { state: true },
    sweep: { state: true },
    progress: { state: true },
    error: { state: true },
  };
  declare session: GpuSession | undefined;
  declare def: AnyKernel | undefined;
  declare config: Config;
  declare sweepText: string;
  declare repeats: number;
  /** One result per variant, by its label, in the order timed. */
  declare results: { variant: LayerVariant; result: KernelResult }[];
  declare sweep: SweepResult | undefined;
  declare progress: Progress | undefined;
  declare error: string;
  #abort: AbortController | undefined;
  #pristine = false;
  #runKey = '';
  protected readonly sessionWatcher = new SessionWatcher(this);

  constructor() {
    super();
    this.def = findKernel(LAYER_KERNEL);
    this.config = this.def ? defaults(this.def.schema) : {};
    this.sweepText = layerOpening(true).sweep.join(',');
    this.repeats = DEFAULT_REPEATS;
    this.results = [];
    this.error = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    if (!this.#runKey) this.applyParams(new URLSearchParams());
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#abort?.abort();
  }

  /** A link's settings: the layer's fields, the sweep and the repeats. */
  applyParams(params: URLSearchParams) {
    const before = this.runKey();
    this.#pristine = params.toString() === '';
    if (this.def) this.config = configFromParams(this.def, params);
    this.sweepText = params.get('sweep') ?? layerOpening(true).sweep.join(',');
    this.repeats = Number(params.get('repeats') ?? DEFAULT_REPEATS);
    this.#runKey = this.runKey();
    if (this.#runKey !== before) {
      // Results always belong to the settings in the form: other settings cancel a run and clear what it made.
      this.#abort?.abort();
      this.results = [];
      this.sweep = undefined;
      this.error = '';
    }
  }

  runKey(): string {
    if (!this.def) return '';
    const p = configToParams(this.def, this.config);
    p.set('sweep', this.sweepText);
    p.set('repeats', String(this.repeats));
    return p.toString();
  }

  writeParams(): URLSearchParams {
    const p = new URLSearchParams();
    if (!this.def) return p;
    configToParams(this.def, this.config, p);
    if (this.sweepText !== layerOpening(true).sweep.join(',')) p.set('sweep', this.sweepText);
    if (this.repeats !== DEFAULT_REPEATS) p.set('repeats', String(this.repeats));
    return p;
  }

  #emit() {
    this.#pristine = false;
    const key = this.runKey();
    if (key !== this.#runKey) {
      this.#abort?.abort();
      this.results = [];
      this.sweep = undefined;
      this.#runKey = key;
    }
    this.dispatchEvent(new CustomEvent('route-params', { detail: this.writeParams(), bubbles: true, composed: true }));
  }

  override willUpdate() {
    // No link chose a setting: open with this device's shape once its kind is known.
    const ctx = this.session?.ctx;
    if (this.#pristine && ctx && this.session?.state.kind === 'ready' && this.def && !this.progress) {
      this.#pristine = false;
      const o = layerOpening(isCpuEmulation(ctx));
      const config = withDefaults(this.def, o.config);
      if (validateConfig(this.def, config, this.session.caps).length) return;
      this.config = config;
      this.sweepText = o.sweep.join(',');
      void this.updateComplete.then(() => this.#emit());
    }
  }

  get openingNote(): string | undefined {
    const ctx = this.session?.ctx;
    if (!ctx || !this.def) return undefined;
    const o = layerOpening(isCpuEmulation(ctx));
    return this.sweepText === o.sweep.join(',') && Object.entries(o.config).every(([k, v]) => this.config[k] === v) ? o.note : undefined;
  }

  get variants(): LayerVariant[] {
    return this.def ? layerVariants(this.def, this.config) : [];
  }

  get issues(): ValidationIssue[] {
    if (!this.def || !this.session) return [];
    try {
      return validateConfig(this.def, this.config, this.session.caps);
    } catch (e) {
      return [{ field: 'config', message: describeError(e) }];
    }
  }

  get sweepIssue(): string | undefined {
    const points = parseIntList(this.sweepText);
    if (!points) return 'the S points must be a comma-separated list of positive integers';
    const spec = this.def?.schema.S;
    if (spec && 'max' in spec) {
      const high = points.find((x) => x > spec.max);
      if (high !== undefined) return `S point ${high} is above the maximum of S (${spec.max.toLocaleString('en-US')})`;
    }
    const T = Number(this.config.T);
    const low = points.find((x) => x < T);
    return low !== undefined ? `S point ${low} is below the T = ${T} new tokens` : undefined;
  }

  get repeatsIssue(): string | undefined {
    const r = this.repeats;
    return Number.isInteger(r) && r >= 1 && r <= 1000 ? undefined : `timed repeats must be an integer from 1 to 1000, got ${Number.isNaN(r) ? 'nothing' : String(r)}`;
  }

  #blocked(): string | undefined {
    const s = this.session?.state;
    if (!this.def) return `${LAYER_KERNEL} is not registered`;
    if (!s || s.kind === 'starting') return 'waiting for the GPU';
    if (s.kind === 'none' || s.kind === 'failed') return 'needs WebGPU (see the notice above)';
    if (s.kind === 'lost') return 'the GPU device was lost: re-initialise it above';
    if (this.issues.length) return 'fix the settings marked in red';
    if (this.progress) return 'running';
    return this.sweepIssue ?? this.repeatsIssue;
  }

  async #run() {
    const def = this.def;
    const session = this.session;
    const points = parseIntList(this.sweepText);
    if (!def || !session || !points || this.#blocked()) return;
    const base = { ...this.config };
    const key = this.runKey();
    const variants = layerVariants(def, base);
    const ac = new AbortController();
    this.#abort = ac;
    this.results = [];
    this.sweep = undefined;
    this.error = '';
    const mine = () => this.runKey() === key && !ac.signal.aborted;
    const total = 1 + variants.length + points.length * variants.length;
    this.progress = { label: 'waiting for the GPU', done: 0, total };
    try {
      await session.exclusive(`${def.id} run`, async () => {
        const ctx = session.requireCtx();
        const seed = freshSeed();
        this.progress = { label: session.roofline ? 'roofline measured' : "measuring this GPU's roofline (once)", done: 0, total };
        const roofline = await session.ensureRoofline();
        const series = variants.map((v) => ({ label: v.label, def, config: variantConfig(def, base, v) }));
        const eta = new RunEstimate(
          [
            ...series.map((s) => ({ def, config: s.config, samples: this.repeats, stages: true })),
            ...points.flatMap((x) => series.map((s) => ({ def, config: configAt(def, s.config, 'S', x), samples: SWEEP_REPEATS }))),
          ],
          roofline,
        );
        // One verification for all variants (benchKernel checks the kernel's first test case), then each variant timed with its stages.
        const checked = new Map<string, Promise<CheckReport>>();
        for (const [i, s] of series.entries()) {
          this.progress = { label: `verifying and timing ${s.label} (every stage)${eta.label(i)}`, done: 1 + i, total };
          const result = await benchKernel(ctx, def, { name: s.label, config: s.config }, roofline, { warmup: 1, repeats: this.repeats, seed, signal: ac.signal, checked });
          if (mine()) this.results = [...this.results, { variant: variants[i]!, result }];
        }
        for (const [i, x] of points.entries()) {
          const one = await runSweep(ctx, series, 'S', [x], {
            warmup: 1,
            repeats: SWEEP_REPEATS,
            seed,
            signal: ac.signal,
            onPoint: (done, _t, label) => {
              const n = series.length + i * series.length + done;
              this.progress = { label: `${label.replace(def.id, series[done]?.label ?? def.id)}${eta.label(n)}`, done: 1 + n, total };
            },
          });
          const prev = this.sweep;
          if (mine())
            this.sweep = { field: 'S', xs: [...(prev?.xs ?? []), x], series: one.series.map((s, j) => ({ ...s, points: [...(prev?.series[j]?.points ?? []), ...s.points] })) };
        }
      });
    } catch (e) {
      if (this.runKey() === key) this.error = await runStopMessage(e, ac.signal, session, 'Cancelled: the variants and S points measured so far are kept.');
    } finally {
      this.progress = undefined;
      this.#abort = undefined;
    }
  }

  #stageBars() {
    const spec: StackedBarsSpec = {
      legend: GROUPS.map(([g]) => g),
      unit: 'median ms per decode step',
      format: (v) => fmtMs(v),
      rows: this.results.map(({ variant, result }) => ({
        label: variant.label,
        segments: stageGroups(result).map((g) => ({ name: g.name, value: g.ms })),
      })),
    };
    const v32 = this.results.find((r) => r.variant.attention === 'mla_dsa');
    const top = v32 && stageGroups(v32.result).reduce((a, g) => ((g.ms ?? 0) > (a.ms ?? 0) ? g : a));
    const noisy = this.results.filter(({ result }) => {
      const c = stageCheck(result);
      return c && (Math.abs(c.off) > STAGE_TOLERANCE || Math.abs(c.timedOff) > STAGE_TOLERANCE);
    });
    return html`<section class="card wide" aria-label="stage bars" data-stages>
      <h3>Where the time goes: every stage of each variant</h3>
      <kl-stacked-bars .spec=${spec} label="median time per stage, one bar per variant"></kl-stacked-bars>
      <p class="small" data-stage-summary>
        Each bar is one variant's decode step at S = ${fmtNum(Number(this.config.S))}: the stages' medians, timed inside the same runs (timestamps at the stage
        boundaries). ${top ? `In V3.2, ${top.name} takes the most (${fmtMs(top.ms)}).` : ''} A bar is the sum of its stages' medians; each variant's check below sets it
        against the median whole of the same runs and against the kernel timed alone (the result card's median time, other runs with the cache clear).
      </p>
      ${noisy.length
        ? html`<p class="error" role="alert" data-stage-disagree>
            ${noisy.map(({ variant }) => variant.label).join(', ')}: the stage times disagree with the whole by more than ${fmtPct(STAGE_TOLERANCE)} (checks below); the machine was
            busy while they ran. Rerun, or raise the repeats, before reading the bars as shares of the step.
          </p>`
        : nothing}
      <ul class="small" data-stage-checks>
        ${this.results.map(({ variant, result }) => html`<li data-stage-check-of=${variant.label}>${variant.label}: ${stageCheckLine(result)}</li>`)}
      </ul>
    </section>`;
  }

  /** The waterfall's steps that were measured, in order: ms, KV bytes per token and FLOPs per token, with what each step saves. */
  waterfall(): { label: string; ms: number; kv: number; flops: number }[] {
    const def = this.def;
    if (!def) return [];
    return WATERFALL.flatMap((w) => {
      const r = this.results.find((x) => x.variant.attention === w.attention && x.variant.ffn === w.ffn);
      if (!r) return [];
      return [{ label: w.label, ms: stepMs(r.result), kv: variantKvBytes(def, r.result.config, w.attention), flops: def.cost(r.result.config).flops }];
    });
  }

  #waterfall() {
    const steps = this.waterfall();
    if (steps.length < 2) return nothing;
    const [first] = steps;
    const rows: StackedBarsSpec['rows'] = steps.map((s, i) => {
      if (i === 0) return { label: s.label, segments: [{ name: 'step time', value: s.ms, color: SERIES_COLORS[0] }] };
      const prev = steps[i - 1]!.ms;
      const saved = prev - s.ms;
      return {
        label: s.label,
        note: `${saved >= 0 ? '−' : '+'}${fmtMs(Math.abs(saved))} → ${fmtMs(s.ms)}`,
        segments: [
          { name: 'base', value: Math.min(prev, s.ms), hidden: true },
          { name: saved >= 0 ? 'saved' : 'added', value: Math.abs(saved), color: saved >= 0 ? SERIES_COLORS[2] : SERIES_COLORS[1] },
        ],
      };
    });
    const last = steps.at(-1)!;
    rows.push({ label: 'V3.2 step', segments: [{ name: 'step time', value: last.ms, color: SERIES_COLORS[0] }] });
    const spec: StackedBarsSpec = { legend: ['step time', 'added', 'saved'], unit: 'median ms per decode step', format: (v) => fmtMs(v), rows };
    return html`<section class="card wide" aria-label="waterfall" data-waterfall>
      <h3>Waterfall: from dense MHA + dense FFN to V3.2, one trick at a time</h3>
      <kl-stacked-bars .spec=${spec} label="waterfall of step time from dense MHA + dense FFN to V3.2"></kl-stacked-bars>
      <div class="table-wrap">
        <table data-waterfall-table>
          <thead>
            <tr><th>step</th><th class="num">step ms</th><th class="num">ms saved</th><th class="num">KV B / token / layer (bf16)</th><th class="num">KV B saved</th><th class="num">FLOPs / step</th><th class="num">FLOPs saved</th></tr>
          </thead>
          <tbody>
            ${steps.map((s, i) => {
              const p = steps[i - 1];
              return html`<tr>
                <td>${s.label}</td>
                <td class="num">${fmtMs(s.ms)}</td>
                <td class="num">${p ? fmtMs(p.ms - s.ms) : '—'}</td>
                <td class="num">${fmtNum(s.kv)}</td>
                <td class="num">${p ? fmtNum(p.kv - s.kv) : '—'}</td>
                <td class="num">${fmtNum(s.flops)}</td>
                <td class="num">${p ? fmtNum(p.flops - s.flops) : '—'}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      <p class="small muted">
        ms: measured on this GPU at this shape (a negative saving is a step that costs time here). KV bytes: what the step's cache keeps per token and layer as deployed in bf16
        (V3.2 adds its indexer's FP8 keys); from ${fmtMs(first!.ms)} to ${fmtMs(last.ms)} per step.
      </p>
    </section>`;
  }

  #memory() {
    const def = this.def!;
    const here = kvRows(def, this.config);
    const real = kvRows(def, withDefaults(def, V32));
    return html`<section class="card wide" aria-label="memory per token" data-memory>
      <h3>KV-cache bytes per token and layer</h3>
      <div class="table-wrap">
        <table data-kv-table>
          <thead>
            <tr><th>cache layout</th><th>formula</th><th class="num">this shape</th><th class="num">DeepSeek-V3.2 (unscaled)</th><th>cached by</th></tr>
          </thead>
          <tbody>
            ${here.map((r, i) => {
              const f = kvFormula(real[i]!);
              return html`<tr data-kv=${r.name}>
                <td title=${r.note}>${r.name}</td>
                <td class="mono small">${f.map((x) => x.formula).join(' + ')} = ${f.map((x) => x.substituted).join(' + ')}</td>
                <td class="num">${fmtBytes(kvBytes(r))}</td>
                <td class="num" data-real>${kvBytes(real[i]!).toLocaleString("en-US")} B</td>
                <td class="small">${r.variants.length ? r.variants.map((a) => attentionName(a, this.config)).join(', ') : 'deployed format (not run here)'}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      <p class="small muted">Formulas and sources: src/memory/kv-cache.ts (hover a layout's name for its source). This project's kernels keep every cache in f32.</p>
    </section>`;
  }

  #sweepChart(s: SweepResult) {
    const series: ChartSpec['series'] = s.series.map((x, i) => ({ label: x.label, values: x.points.map((p) => p.ms), dash: i > 1 }));
    const ms = (label: string) => s.series.find((x) => x.label === label)?.points.map((p) => p.ms) ?? [];
    const variants = this.variants;
    const v32 = variants.find((v) => v.attention === 'mla_dsa');
    const v3 = variants.find((v) => v.attention === 'mla_dense' && v.ffn === v32?.ffn);
    const sentences: string[] = [];
    const roof = this.session?.roofline?.value;
    if (this.def && v32 && v3 && roof) {
      const mk = (v: LayerVariant) => ({ label: v.label, def: this.def!, config: variantConfig(this.def!, this.config, v), ms: ms(v.label) });
      const l = lessonSentence(mk(v32), mk(v3), 'S', s.xs, roof, fmtX);
      if (l) {
        sentences.push(l.sentence);
        if (l.crossing) {
          const k = ms(v32.label);
          series.push({ label: `crossover vs ${v3.label}`, values: s.xs.map((_, i) => (i === l.crossing!.index ? k[i]! : null)), kind: 'points', color: SERIES_COLORS[3], markerSize: 14 });
        }
      }
      const k = Number(this.config.index_topk);
      if (s.xs.some((x) => x <= k)) sentences.push(`At S ≤ index_topk = ${k} the indexer selects every key: DSA can only add its indexer's cost there.`);
    }
    const notes = s.series.flatMap((x) => x.points.filter((p) => p.note).map((p) => `${x.label} at S = ${p.x}: ${p.note}`));
    const spec: ChartSpec = { xs: s.xs, series, xLabel: 'context S (tokens in the cache)', yLabel: 'median time per step', logX: s.xs.length > 1, logY: true, formatX: fmtX, formatY: (y) => fmtMs(y) };
    return html`<kl-line-chart .spec=${spec} label="median decode-step time of each variant against S (log scales)"></kl-line-chart>
      ${sentences.length ? html`<div class="lesson" data-lesson>${sentences.map((t) => html`<p>${t}</p>`)}</div>` : nothing}
      ${notes.length ? html`<ul class="small muted">${notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}`;
  }

  override render() {
    const def = this.def;
    if (!def) return html`<h2>Decoder layer</h2><p class="muted">${LAYER_KERNEL} is not registered.</p>`;
    const blocked = this.#blocked();
    const running = !!this.progress;
    const chosen = this.results.find((r) => r.variant.attention === this.config.attention && r.variant.ffn === this.config.ffn);
    return html`<header>
        <h2>Decoder layer: one DeepSeek-V3.2 block, every stage a kernel</h2>
        <p class="summary">
          ${def.explain} One run times every attention variant of the kernel (${enumValues(def, 'attention').map((a) => attentionName(a, this.config)).join(', ')}) and the waterfall's
          steps on the same weights, then sweeps S.
        </p>
      </header>
      <div class="layout">
        <section class="card controls" aria-label="settings">
          <kl-kernel-form .def=${def} .config=${this.config} .caps=${this.session?.caps} ?disabled=${running}
            @config-change=${(e: CustomEvent<ConfigChange>) => ((this.config = e.detail.config), this.#emit())}></kl-kernel-form>
          <details class="run-settings small">
            <summary>Run settings: ${this.repeats} repeats; S sweep at ${this.sweepText}; ${this.variants.length} variants</summary>
            <label
              >S points (comma-separated)
              <input type="text" name="sweep" .value=${this.sweepText} aria-invalid=${this.sweepIssue ? 'true' : 'false'}
                @input=${(e: Event) => ((this.sweepText = (e.target as HTMLInputElement).value), this.#emit())} /></label>
            <label
              >timed repeats
              <input type="number" min="1" max="1000" name="repeats" .value=${Number.isNaN(this.repeats) ? '' : String(this.repeats)} aria-invalid=${this.repeatsIssue ? 'true' : 'false'}
                @input=${(e: Event) => {
                  const raw = (e.target as HTMLInputElement).value;
                  this.repeats = raw.trim() === '' ? NaN : Number(raw);
                  this.#emit();
                }} /></label>
            <p class="small muted">Variants: ${this.variants.map((v) => v.label).join(' · ')}.</p>
            ${this.sweepIssue ? html`<span class="error" role="alert">${this.sweepIssue}</span>` : nothing}
            ${this.repeatsIssue ? html`<span class="error" role="alert">${this.repeatsIssue}</span>` : nothing}
          </details>
          <div class="row">
            <button class="primary" data-action="run" ?disabled=${!!blocked} @click=${() => this.#run()}>Run every variant on this GPU</button>
            ${blocked && !running ? html`<span class="small muted" data-blocked>${blocked}</span>` : nothing}
          </div>
          <kl-run-progress .progress=${this.progress} @cancel=${() => this.#abort?.abort()}></kl-run-progress>
          ${this.error ? html`<p class="error" role="alert" data-run-error>${this.error}</p>` : nothing}
          ${this.openingNote ? html`<p class="small muted" data-opening>${this.openingNote}</p>` : nothing}
        </section>
        <section class="card" aria-label="result">
          ${chosen
            ? html`<h3>${chosen.variant.label} (the form's variant)</h3><kl-result-card .result=${chosen.result}></kl-result-card>`
            : html`<h3>Result</h3><p class="muted">Run to time ${this.variants.length} variants, each verified against the float64 layer reference, every stage timed in the same runs.</p>`}
        </section>
      </div>
      <div class="results">
        ${this.results.length ? this.#stageBars() : nothing} ${this.#waterfall()} ${this.#memory()}
        <section class="card wide" aria-label="time chart">
          <h3>Decode-step time vs S</h3>
          ${this.sweep ? this.#sweepChart(this.sweep) : html`<p class="muted">Run to time every variant at S = ${this.sweepText}.</p>`}
        </section>
      </div>`;
  }

  static override styles = [
    sharedStyles,
    runPageStyles,
    css`
      .results {
        display: grid;
        gap: var(--kl-gap);
        grid-template-columns: minmax(0, 1fr);
        margin-top: var(--kl-gap);
      }
    `,
  ];
}

customElements.define('kl-decoder-layer-page', DecoderLayerPage);

declare global {
  interface HTMLElementTagNameMap {
    'kl-decoder-layer-page': DecoderLayerPage;
  }
}
