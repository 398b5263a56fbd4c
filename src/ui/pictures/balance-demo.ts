// <kl-balance-demo>: DeepSeek-V3's auxiliary-loss-free balancing, live on this GPU. A skewed token stream
// goes through the router step by step (runBalanceDemo in src/demos/load-balance.ts); after each step
// every expert's selection bias moves by gamma towards balance. The chart shows the imbalance falling as the
// steps arrive; the histogram shows the load at any step (slider, or Play to animate the whole run).
import { LitElement, html, css, nothing } from 'lit';
import { BALANCE_DEFAULTS, BALANCE_SCHEMA, checkBalance, runBalanceDemo, type BalanceSettings, type BalanceStep } from '../../demos/load-balance.ts';
import type { FieldSpec } from '../../kernels/contract.ts';
import { checkField } from '../../kernels/common/validate.ts';
import { parseFieldValue } from '../forms/url-config.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import { fmtNum } from '../run/display-number.ts';
import type { Progress } from '../run/progress.ts';
import { throwIfCancelled } from '../../bench/run-control.ts';
import { runStopMessage } from '../run/run-error.ts';
import '../charts/line-chart.ts';
import '../run/run-progress.ts';
import { SessionWatcher } from '../device/session-watcher.ts';

/** The demo's knobs shown here: fields of BALANCE_SCHEMA (label, doc, limits and messages are the CLI's), each with its URL name. */
const KNOBS = [
  { key: 'steps', param: 'bsteps' },
  { key: 'gamma', param: 'bgamma' },
  { key: 'tokens', param: 'btokens' },
  { key: 'skew', param: 'bskew' },
] as const satisfies readonly { key: keyof BalanceSettings; param: string }[];
type Knob = (typeof KNOBS)[number];

function spec(k: Knob): FieldSpec & { type: 'int' | 'number' } {
  return BALANCE_SCHEMA[k.key] as FieldSpec & { type: 'int' | 'number' };
}

export class BalanceDemo extends LitElement {
  static override properties = {
    session: { attribute: false },
    values: { state: true },
    steps: { state: true },
    shown: { state: true },
    progress: { state: true },
    error: { state: true },
    playing: { state: true },
  };
  declare session: GpuSession | undefined;
  declare values: Record<Knob['key'], number>;
  declare steps: BalanceStep[];
  declare shown: number;
  declare progress: Progress | undefined;
  declare error: string;
  declare playing: boolean;
  #abort: AbortController | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.values = { steps: BALANCE_DEFAULTS.steps, gamma: BALANCE_DEFAULTS.gamma, tokens: BALANCE_DEFAULTS.tokens, skew: BALANCE_DEFAULTS.skew };
    this.steps = [];
    this.shown = 0;
    this.error = '';
    this.playing = false;
  }

  // Re-render when the GPU session changes state.
  protected readonly sessionWatcher = new SessionWatcher(this);

  /** Read the knobs from the page URL (unknown or malformed values are shown as errors, not replaced). */
  applyParams(params: URLSearchParams) {
    const v = { ...this.values };
    for (const k of KNOBS) {
      const raw = params.get(k.param);
      if (raw === null) continue;
      const value = parseFieldValue(spec(k), raw);
      if (value !== undefined) v[k.key] = value as number;
    }
    this.values = v;
  }

  writeParams(params: URLSearchParams) {
    for (const k of KNOBS) {
      if (this.values[k.key] !== BALANCE_DEFAULTS[k.key]) params.set(k.param, String(this.values[k.key]));
    }
  }

  #issue(k: Knob): string | undefined {
    return checkField(k.key, spec(k), this.values[k.key])?.message;
  }

  /** Knob issues, or the demo's cross-field rules once every knob is in bounds. */
  #blocked(): boolean {
    return KNOBS.some((k) => this.#issue(k)) || checkBalance({ ...BALANCE_DEFAULTS, ...this.values }).length > 0;
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#stopPlay();
    this.#abort?.abort();
  }

  async #run() {
    if (!this.session || this.#blocked()) return;
    this.#stopPlay();
    const ac = new AbortController();
    this.#abort = ac;
    this.error = '';
    this.steps = [];
    const o = this.values;
    this.progress = { label: 'compiling the router', done: 0, total: o.steps };
    try {
      await this.session.exclusive('bias-balancing demo', async () => {
        const ctx = this.session!.requireCtx();
        await runBalanceDemo(ctx, { steps: o.steps, gamma: o.gamma, tokens: o.tokens, skew: o.skew, seed: BALANCE_DEFAULTS.seed }, (s) => {
          // Cancel between steps: throwing here unwinds the demo, which destroys its router instance.
          throwIfCancelled(ac.signal);
          this.steps = [...this.steps, s];
          this.shown = s.step;
          this.progress = { label: `step ${s.step + 1} of ${o.steps}`, done: s.step + 1, total: o.steps };
        });
      });
    } catch (e) {
      this.error = await runStopMessage(e, ac.signal, this.session, 'Cancelled.');
    } finally {
      this.progress = undefined;
      this.#abort = undefined;
    }
  }

  #play() {
    if (this.steps.length < 2) return;
    this.#stopPlay();
    this.playing = true;
    this.shown = 0;
    this.#timer = setInterval(() => {
      if (this.shown >= this.steps.length - 1) this.#stopPlay();
      else this.shown++;
    }, 300);
  }

  #stopPlay() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.playing = false;
  }

  #imbalanceChart(): ChartSpec {
    return {
      xs: this.steps.map((s) => s.step),
      series: [
        { label: 'max / mean load', values: this.steps.map((s) => s.stats.maxOverMean) },
        { label: 'coefficient of variation', values: this.steps.map((s) => s.stats.cv) },
      ],
      xLabel: 'step',
      yLabel: 'imbalance',
      integerX: true,
    };
  }

  #loadChart(s: BalanceStep): ChartSpec {
    return {
      xs: s.load.map((_, i) => i),
      series: [
        { label: `load at step ${s.step}`, values: s.load },
        { label: 'mean', values: s.load.map(() => s.stats.mean), dash: true, kind: 'line', markers: false },
      ],
      xLabel: 'expert',
      yLabel: 'tokens routed',
      kind: 'bars',
      integerX: true,
    };
  }

  override render() {
    const running = !!this.progress;
    const ready = this.session?.state.kind === 'ready';
    const current = this.steps[Math.min(this.shown, this.steps.length - 1)];
    const first = this.steps[0];
    const last = this.steps[this.steps.length - 1];
    return html`<div class="knobs">
        ${KNOBS.map((k) => {
          const issue = this.#issue(k);
          const f = spec(k);
          return html`<label class="field"
            ><span>${f.label}</span>
            <input
              type="number"
              min=${f.min}
              max=${f.max}
              step=${f.type === 'int' ? 1 : 'any'}
              .value=${Number.isFinite(this.values[k.key]) ? String(this.values[k.key]) : ''}
              aria-invalid=${issue ? 'true' : 'false'}
              ?disabled=${running}
              @input=${(e: Event) => {
                const raw = (e.target as HTMLInputElement).value;
                this.values = { ...this.values, [k.key]: raw === '' ? NaN : Number(raw) };
                this.dispatchEvent(new Event('settings-change', { bubbles: true, composed: true }));
              }}
            />
            <span class="small muted">${f.doc}</span>
            ${issue ? html`<span class="small error" role="alert">${issue}</span>` : nothing}</label
          >`;
        })}
      </div>
      <p class="small muted">
        ${BALANCE_DEFAULTS.E} experts, top-${BALANCE_DEFAULTS.topk}, ${BALANCE_DEFAULTS.topk_groups} of ${BALANCE_DEFAULTS.n_groups} groups, sigmoid gate with bias;
        every token leans towards ${BALANCE_DEFAULTS.hot} hot experts spread over the groups.
      </p>
      <div class="row">
        <button class="primary" ?disabled=${running || !ready || this.#blocked()} @click=${() => this.#run()}>Run the balancing demo</button>
        <button ?disabled=${running || this.steps.length < 2 || this.playing} @click=${() => this.#play()}>▶ Play</button>
      </div>
      <kl-run-progress .progress=${this.progress} @cancel=${() => this.#abort?.abort()}></kl-run-progress>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${first && last
        ? html`<p class="headline" data-balance="result">
              max/mean load ${fmtNum(first.stats.maxOverMean)} at step 0 → ${fmtNum(last.stats.maxOverMean)} at step ${last.step}
              (CV ${fmtNum(first.stats.cv)} → ${fmtNum(last.stats.cv)})
            </p>
            <kl-line-chart .spec=${this.#imbalanceChart()} .height=${200} label="imbalance per step"></kl-line-chart>`
        : nothing}
      ${current
        ? html`<label class="row small"
              >step
              <input
                type="range"
                min="0"
                max=${this.steps.length - 1}
                .value=${String(this.shown)}
                @input=${(e: Event) => {
                  this.#stopPlay();
                  this.shown = Number((e.target as HTMLInputElement).value);
                }}
              />
              ${current.step}: bias ${fmtNum(current.bias.reduce((a, b) => Math.min(a, b), Infinity))} … ${fmtNum(current.bias.reduce((a, b) => Math.max(a, b), -Infinity))}</label
            >
            <kl-line-chart .spec=${this.#loadChart(current)} .height=${180} label="load per expert at step ${current.step}"></kl-line-chart>`
        : nothing}`;
  }

  static override styles = [
    sharedStyles,
    css`
      .knobs {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
        gap: 10px 16px;
        margin-bottom: 8px;
      }
      .field {
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .field > span:first-child {
        font-weight: 600;
        font-size: 0.9rem;
      }
      .headline {
        font-weight: 600;
        margin-top: 10px;
      }
      input[type='range'] {
        width: min(300px, 60vw);
      }
    `,
  ];
}

customElements.define('kl-balance-demo', BalanceDemo);

declare global {
  interface HTMLElementTagNameMap {
    'kl-balance-demo': BalanceDemo;
  }
}
