// <kl-moe-steps>: an MoE layer stage by stage on clustered tokens, each frame drawn from the buffer that
// stage of moe.forward wrote on the GPU (moe-trace.ts) and checked against the float64 reference.
import { LitElement, html } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import { createRng, freshSeed } from '../../kernels/random.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { moeFrames, moeTraceConfig, traceMoe, type MoeTrace } from './moe-trace.ts';
import type { StageFrame } from './stage-frames.ts';
import { checkLine, stepStyles } from './check-line.ts';
import './step-controls.ts';
import '../heatmap/heatmap-canvas.ts';

export class MoeSteps extends LitElement {
  static override properties = { frames: { state: true }, frame: { state: true } };
  declare frames: StageFrame[];
  declare frame: number;
  trace: MoeTrace | undefined;

  constructor() {
    super();
    this.frames = [];
    this.frame = 0;
  }

  /** Trace the small clustered case on the GPU (inside the page's exclusive job). */
  async run(ctx: GpuContext, seed = freshSeed()): Promise<void> {
    const trace = await traceMoe(ctx, moeTraceConfig(), createRng(seed));
    this.trace = trace;
    this.frames = moeFrames(trace);
    this.frame = 0;
  }

  override render() {
    if (!this.frames.length) return html`<p class="muted">Run to step through the MoE layer stage by stage.</p>`;
    const f = this.frames[this.frame]!;
    const c = this.trace!.config;
    return html`<p class="small muted">
        moe.forward on ${c.N} clustered tokens, ${c.E} experts in ${c.n_groups} groups (top-${c.topk_groups} groups, top-${c.topk} experts): gate → dispatch → experts →
        combine, each frame from the buffer that stage wrote on the GPU.
      </p>
      <kl-step-controls label="stage" .count=${this.frames.length} .index=${this.frame} @frame=${(e: CustomEvent<number>) => (this.frame = e.detail)}></kl-step-controls>
      <p data-frame=${this.frame} data-stage=${f.stage}><strong>${f.stage}</strong>: ${f.caption}</p>
      ${f.views.map((v) => html`<h4>${v.title}</h4><kl-heatmap data-view=${v.name} .matrix=${v.matrix} label=${v.title}></kl-heatmap>`)} ${checkLine(f.checks)}`;
  }

  static override styles = [sharedStyles, stepStyles];
}

customElements.define('kl-moe-steps', MoeSteps);

declare global {
  interface HTMLElementTagNameMap {
    'kl-moe-steps': MoeSteps;
  }
}
