// <kl-flash-steps>: flash decoding split by split on a structured case (band, sinks, needles), from the
// partials attention.flash_decode wrote on the GPU (see flash-trace.ts): each split's running max m, sum l
// and output o, the merge so far, and each split's share of the softmax mass. Every frame is checked
// against the float64 reference before it is drawn.
import { LitElement, html, nothing } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import { flashDecode } from '../../kernels/attention/flash-decode.ts';
import { makeInputs } from '../../kernels/execute.ts';
import { createRng, freshSeed } from '../../kernels/random.ts';
import { SINKS, needles, structureInputs } from '../pictures/structured-inputs.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { HeatmapMatrix } from '../heatmap/heatmap-canvas.ts';
import { checkFlashTrace, flashFrames, flashTraceConfig, traceFlashDecode, type FlashFrame, type FlashTrace, type FrameCheck } from './flash-trace.ts';
import { checkLine, stepStyles } from './check-line.ts';
import './step-controls.ts';
import '../heatmap/heatmap-canvas.ts';

export class FlashSteps extends LitElement {
  static override properties = { trace: { state: true }, frame: { state: true } };
  declare trace: FlashTrace | undefined;
  declare frame: number;
  frames: FlashFrame[] = [];
  checks: FrameCheck[] = [];

  constructor() {
    super();
    this.frame = 0;
  }

  /** Trace the small structured case on the GPU (inside the page's exclusive job). */
  async run(ctx: GpuContext, seed = freshSeed()): Promise<void> {
    const { config, chunk } = flashTraceConfig();
    const inputs = structureInputs(makeInputs(flashDecode, config, createRng(seed)), config);
    const trace = await traceFlashDecode(ctx, config, chunk, { q: inputs.q!, k: inputs.k!, v: inputs.v! });
    this.frames = flashFrames(trace);
    this.checks = checkFlashTrace(trace);
    this.frame = 0;
    this.trace = trace;
  }

  override render() {
    const t = this.trace;
    if (!t) return html`<p class="muted">Run to step through flash decoding split by split.</p>`;
    const f = this.frames[this.frame]!;
    const check = this.checks[this.frame]!;
    const D = t.config.D;
    const splits = t.splits.length;
    const shares: HeatmapMatrix = { rows: 1, cols: splits, values: f.shares, kind: 'weight', normalise: 'global', rowLabel: 'query', colLabel: 'split' };
    // Row 0 (query head 0) of every split's output, blank past the current split.
    const parts = new Float32Array(splits * D).fill(NaN);
    for (let j = 0; j <= this.frame; j++) parts.set(t.splits[j]!.o.slice(0, D), j * D);
    const partials: HeatmapMatrix = { rows: splits, cols: D, values: parts, kind: 'weight', normalise: 'global', rowLabel: 'split', colLabel: 'dim' };
    const merged: HeatmapMatrix = { rows: 1, cols: D, values: f.O.slice(0, D), kind: 'weight', normalise: 'global', rowLabel: 'merged', colLabel: 'dim' };
    const ln = (m: number) => (m * Math.LN2).toFixed(3);
    return html`<p class="small muted">
        attention.flash_decode on one query (head 0 of ${t.config.Hq}) over S = ${t.config.S} keys in ${splits} splits of ${t.chunk}, structured keys: sinks 0..${SINKS - 1},
        needles at ${needles(t.config.S).join(', ')}, a band near the query. Values are the kernel's partials read back from the GPU.
      </p>
      <kl-step-controls label="split" .count=${splits} .index=${this.frame} @frame=${(e: CustomEvent<number>) => (this.frame = e.detail)}></kl-step-controls>
      <p data-frame=${this.frame}>
        Split ${this.frame}: keys ${f.split.start}..${f.split.end - 1}. Its max score m = ${ln(f.split.m[0]!)} (natural units), sum l = ${f.split.l[0]!.toFixed(4)}; merged so far:
        running max M = ${ln(f.M[0]!)}, running sum L = ${f.L[0]!.toFixed(4)} (rescaled by 2^(m − M) each time the max rises).
      </p>
      <h4>Share of the softmax mass per split (so far)</h4>
      <kl-heatmap data-view="shares" .matrix=${shares} label="softmax mass per split"></kl-heatmap>
      <h4>Each split's output o = acc / l</h4>
      <kl-heatmap data-view="partials" .matrix=${partials} label="partial outputs by split"></kl-heatmap>
      <h4>Merged output after split ${this.frame}</h4>
      <kl-heatmap data-view="merged" .matrix=${merged} label="merged output"></kl-heatmap>
      ${this.frame === splits - 1 ? html`<p class="small muted">The last merge is what merge_main wrote to out.</p>` : nothing} ${checkLine(check.checks)}`;
  }

  static override styles = [sharedStyles, stepStyles];
}

customElements.define('kl-flash-steps', FlashSteps);

declare global {
  interface HTMLElementTagNameMap {
    'kl-flash-steps': FlashSteps;
  }
}
