// <kl-routing-picture>: the MoE router's own outputs on a small batch — a token x expert heatmap of the
// routing weights (blank where an expert was not chosen) and the per-expert load as a histogram. The
// routing knobs come from the page's config; the run is compared with the float64 gate reference. Tokens are
// clustered by default (token-clusters.ts: each cluster near one expert group, so group-limited routing shows
// as blocks) or random; the choice applies to the next run.
import { LitElement, html, css, nothing } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import type { AnyKernel, Config } from '../../kernels/contract.ts';
import { compareOutputs } from '../../kernels/check.ts';
import type { CompareResult } from '../../kernels/compare.ts';
import { makeInputs, runKernel } from '../../kernels/execute.ts';
import { loadStats } from '../../demos/load-balance.ts';
import { createRng, freshSeed } from '../../kernels/random.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { HeatmapMatrix } from '../heatmap/heatmap-canvas.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import { fmtExp, fmtNum } from '../run/display-number.ts';
import { mapConfig } from '../pages/family-pages.ts';
import { routingLoad, routingMatrix } from './routing-matrix.ts';
import type { InputKind } from './structured-inputs.ts';
import { clusterCount, structuredRouting } from './token-clusters.ts';
import '../heatmap/heatmap-canvas.ts';
import '../charts/line-chart.ts';

/** Tokens in the picture: enough rows to see a pattern, few enough to read it. */
export const ROUTING_PICTURE_TOKENS = 48;

export class RoutingPicture extends LitElement {
  static override properties = { matrix: { state: true }, load: { state: true }, checks: { state: true }, note: { state: true }, error: { state: true }, inputKind: { type: String } };
  declare inputKind: InputKind;
  declare matrix: HeatmapMatrix | undefined;
  declare load: number[] | undefined;
  declare checks: CompareResult[];
  declare note: string;
  declare error: string;

  constructor() {
    super();
    this.checks = [];
    this.note = '';
    this.error = '';
    this.inputKind = 'structured';
  }

  clear() {
    this.matrix = undefined;
    this.load = undefined;
    this.checks = [];
    this.error = '';
  }

  async run(ctx: GpuContext, router: AnyKernel, config: Config): Promise<void> {
    this.clear();
    const c = mapConfig(router, config, { N: Math.min(Number(config.N) || ROUTING_PICTURE_TOKENS, ROUTING_PICTURE_TOKENS) });
    const issues = validateConfig(router, c, ctx);
    if (issues.length) {
      this.error = `The routing picture's small case is refused: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`;
      return;
    }
    const rng = createRng(freshSeed());
    const random = makeInputs(router, c, rng);
    // Clustered tokens keep the random selection bias (the clusters replace x and the gate rows only).
    const clustered = this.inputKind === 'structured';
    const inputs = clustered ? { ...random, ...structuredRouting({ N: Number(c.N), dim: Number(c.dim), E: Number(c.E), n_groups: Number(c.n_groups) }, rng) } : random;
    const out = await runKernel(ctx, router, c, inputs);
    this.checks = compareOutputs(router.outputs(c), out, router.reference(inputs, c));
    const E = Number(c.E);
    const tokens = clustered ? `tokens in ${clusterCount({ N: Number(c.N), dim: Number(c.dim), E: E, n_groups: Number(c.n_groups) })} clusters (each near one expert group)` : 'random tokens';
    this.note = `${router.id} on ${c.N} ${tokens}: E = ${E}, top-${c.topk}, ${c.score_func}, ${c.routing} routing${c.n_groups !== 1 ? `, ${c.topk_groups} of ${c.n_groups} groups` : ''}${c.bias ? ', random selection bias' : ''}`;
    this.matrix = routingMatrix(out.weights!, out.indices!, E);
    this.load = routingLoad(out.indices!, E);
  }

  #loadChart(load: number[]): ChartSpec {
    const mean = load.reduce((a, b) => a + b, 0) / load.length;
    return {
      xs: load.map((_, i) => i),
      series: [
        { label: 'token copies', values: load },
        { label: 'mean', values: load.map(() => mean), dash: true, kind: 'line', markers: false },
      ],
      xLabel: 'expert',
      yLabel: 'tokens routed',
      kind: 'bars',
      categoricalX: load.length <= 32,
      integerX: true,
    };
  }

  override render() {
    if (this.error) return html`<p class="error">${this.error}</p>`;
    if (!this.matrix || !this.load) return html`<p class="muted">Run to see which experts the router picks for each token.</p>`;
    const ok = this.checks.length > 0 && this.checks.every((c) => c.ok);
    const st = loadStats(this.load);
    return html`<div class="row">
        <p class="small muted">${this.note}.</p>
        <label class="small"
          >tokens
          <select data-action="routing-inputs" @change=${(e: Event) => (this.inputKind = (e.target as HTMLSelectElement).value as InputKind)}>
            <option value="structured" ?selected=${this.inputKind === 'structured'}>clustered (next run)</option>
            <option value="random" ?selected=${this.inputKind === 'random'}>random (next run)</option>
          </select></label
        >
      </div>
      ${ok
        ? html`<kl-heatmap .matrix=${this.matrix} label="routing weights: ${this.matrix.rows} tokens by ${this.matrix.cols} experts"></kl-heatmap>
            <h4>Load per expert</h4>
            <p class="small">max/mean ${fmtNum(st.maxOverMean)} · coefficient of variation ${fmtNum(st.cv)} · busiest expert ${st.max} tokens, idlest ${st.min}</p>
            <kl-line-chart .spec=${this.#loadChart(this.load)} .height=${200} label="tokens routed to each expert"></kl-line-chart>`
        : html`<p class="error">Not drawn: the router's outputs do not match the float64 reference.</p>`}
      <p class="small ${ok ? 'muted' : 'error'}">
        Checked against the float64 gate: ${this.checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAILS'} (${fmtExp(c.relL2)})`).join(', ')}${nothing}.
      </p>`;
  }

  static override styles = [
    sharedStyles,
    css`
      h4 {
        margin-top: 16px;
      }
    `,
  ];
}

customElements.define('kl-routing-picture', RoutingPicture);

declare global {
  interface HTMLElementTagNameMap {
    'kl-routing-picture': RoutingPicture;
  }
}
