// <kl-dsa-steps>: DeepSeek Sparse Attention one stage at a time for one query, from the buffers the GPU
// run left (index_scores, topk_indices, out: the three stages' own outputs, read back) beside the float64
// reference's: (1) the lightning indexer's score of every key, (2) the top-k threshold, the k-th best
// score, and the keys at or above it, (3) attention over those gathered keys only. Step, play or scrub the
// stages, scrub the queries; hover the chart for values.
import { LitElement, html, css, nothing } from 'lit';
import type { Config } from '../../kernels/contract.ts';
import type { HostTensor } from '../../kernels/tensor.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import { SERIES_COLORS } from '../charts/chart-colors.ts';
import { fmtExp } from '../run/display-number.ts';
import '../charts/line-chart.ts';

export const DSA_STEPS = ['indexer scores', 'top-k threshold', 'gathered keys → attention'] as const;

export interface DsaFrame {
  /** Query row and its position in the context. */
  t: number;
  position: number;
  step: number;
  /** The GPU's index scores of this query (-inf where causally masked) and the reference's. */
  scores: number[];
  refScores: number[];
  /** The k-th largest visible score (the selection keeps keys scoring at least this, lower index first on ties). */
  threshold: number;
  /** Keys the GPU's top-k kept, ascending, and the reference's. */
  selected: number[];
  refSelected: number[];
  /** Relative L2 error of this query's output (all heads) against the reference. */
  outRelL2: number;
}

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st ... */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

const row = (t: HostTensor, r: number, n: number) => Array.from(t.data.subarray(r * n, (r + 1) * n), Number);

export class DsaSteps extends LitElement {
  static override properties = { config: { attribute: false }, outputs: { attribute: false }, reference: { attribute: false }, t: { state: true }, step: { state: true }, playing: { state: true } };
  declare config: Config;
  declare outputs: Record<string, HostTensor>;
  declare reference: Record<string, HostTensor>;
  declare t: number;
  declare step: number;
  declare playing: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.t = 0;
    this.step = 0;
    this.playing = false;
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#stop();
  }

  get rows(): number {
    return Number(this.config.T);
  }

  /** The frame shown now, from the GPU's buffers and the reference's. */
  get frame(): DsaFrame {
    const S = Number(this.config.S);
    const k = Number(this.config.topk);
    const t = Math.min(this.t, this.rows - 1);
    const scores = row(this.outputs.index_scores!, t, S);
    const refScores = row(this.reference.index_scores!, t, S);
    const kept = (x: number[]) => x.filter((i) => i >= 0).sort((a, b) => a - b);
    const selected = kept(row(this.outputs.topk_indices!, t, k));
    const visible = scores.filter((v) => Number.isFinite(v)).sort((a, b) => b - a);
    const threshold = visible[Math.min(k, visible.length) - 1] ?? -Infinity;
    const out = this.outputs.out!;
    const width = out.data.length / this.rows;
    const got = row(out, t, width);
    const want = row(this.reference.out!, t, width);
    let num = 0;
    let den = 0;
    for (let i = 0; i < width; i++) (num += (got[i]! - want[i]!) ** 2), (den += want[i]! ** 2);
    return {
      t,
      position: S - this.rows + t,
      step: this.step,
      scores,
      refScores,
      threshold,
      selected,
      refSelected: kept(row(this.reference.topk_indices!, t, k)),
      outRelL2: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num),
    };
  }

  #go(step: number) {
    this.step = (step + DSA_STEPS.length) % DSA_STEPS.length;
  }

  #play() {
    if (this.playing) return this.#stop();
    this.playing = true;
    this.#timer = setInterval(() => {
      // Through the stages, then on to the next query.
      if (this.step === DSA_STEPS.length - 1) this.t = (this.t + 1) % this.rows;
      this.#go(this.step + 1);
    }, 1200);
  }

  #stop() {
    this.playing = false;
    clearInterval(this.#timer);
  }

  #chart(f: DsaFrame): ChartSpec {
    const S = f.scores.length;
    const xs = Array.from({ length: S }, (_, s) => s);
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    const series: ChartSpec['series'] = [{ label: 'index score (GPU)', values: f.scores.map(finite), markers: false }];
    if (f.step >= 1) series.push({ label: `threshold: the ${ordinal(Number(this.config.topk))} best score`, values: xs.map(() => finite(f.threshold)), color: SERIES_COLORS[3], dash: true, markers: false });
    if (f.step >= 1) {
      const kept = new Set(f.selected);
      series.push({ label: 'selected keys', values: f.scores.map((v, s) => (kept.has(s) ? finite(v) : null)), kind: 'points', color: SERIES_COLORS[1], markerSize: 7 });
    }
    return { xs, series, xLabel: 'key position s', yLabel: 'I[t, s]', integerX: true, formatY: (y) => y.toFixed(2) };
  }

  override render() {
    if (!this.outputs?.index_scores || !this.reference?.index_scores) return nothing;
    const f = this.frame;
    const scoresMatch = f.scores.every((v, s) => (Number.isFinite(v) ? Math.abs(v - f.refScores[s]!) <= 1e-5 * Math.max(1, Math.abs(f.refScores[s]!)) : !Number.isFinite(f.refScores[s]!)));
    const sameSet = f.selected.length === f.refSelected.length && f.selected.every((s, i) => s === f.refSelected[i]);
    const say = [
      html`The lightning indexer scores all ${f.scores.filter(Number.isFinite).length} keys query ${f.t} (position ${f.position}) can see:
        <strong data-check="scores">${scoresMatch ? 'equal to the float64 reference' : 'DIFFERENT from the float64 reference'}</strong>.`,
      html`Top-k keeps the ${f.selected.length} keys scoring at least <strong>${f.threshold.toFixed(3)}</strong> (lower index first on ties):
        <strong data-check="selection">${sameSet ? 'the same set as the reference' : 'NOT the reference\'s set'}</strong>.`,
      html`Attention reads only those ${f.selected.length} keys' K and V rows: keys ${f.selected.slice(0, 12).join(', ')}${f.selected.length > 12 ? ', …' : ''}.
        This query's output against the reference: rel-L2 <strong data-check="out">${fmtExp(f.outRelL2)}</strong>.`,
    ];
    return html`<div class="controls row">
        <button data-action="step-prev" aria-label="previous stage" @click=${() => this.#go(this.step - 1)}>◀</button>
        <button data-action="play" @click=${() => this.#play()}>${this.playing ? 'Pause' : 'Play'}</button>
        <button data-action="step-next" aria-label="next stage" @click=${() => this.#go(this.step + 1)}>▶</button>
        <label class="small"
          >stage
          <input type="range" min="0" max=${DSA_STEPS.length - 1} .value=${String(this.step)} data-action="scrub-stage" @input=${(e: Event) => this.#go(Number((e.target as HTMLInputElement).value))}
        /></label>
        <label class="small"
          >query
          <input type="range" min="0" max=${this.rows - 1} .value=${String(f.t)} data-action="scrub-query" @input=${(e: Event) => (this.t = Number((e.target as HTMLInputElement).value))}
        /></label>
        <span class="small"><strong>${this.step + 1}/${DSA_STEPS.length}: ${DSA_STEPS[this.step]}</strong> · query ${f.t} at position ${f.position}</span>
      </div>
      <kl-line-chart .spec=${this.#chart(f)} .height=${220} label="index scores of query ${f.t}, stage ${DSA_STEPS[this.step]}"></kl-line-chart>
      <ol class="small steps">
        ${say.map((s, i) => html`<li class=${i === this.step ? 'now' : i < this.step ? 'done' : 'later'}>${s}</li>`)}
      </ol>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .controls {
        margin-bottom: 6px;
      }
      .steps {
        padding-left: 20px;
      }
      .steps li.later {
        color: var(--kl-muted);
      }
      .steps li.now {
        font-weight: 600;
      }
    `,
  ];
}

customElements.define('kl-dsa-steps', DsaSteps);

declare global {
  interface HTMLElementTagNameMap {
    'kl-dsa-steps': DsaSteps;
  }
}
