// <kl-stage-steps technique="dsa|moe">: a composite kernel stage by stage on a structured case, each frame
// drawn from the buffers that stage wrote on the GPU (dsa-trace.ts, moe-trace.ts) and checked against the
// float64 reference before it is shown as ok.
import { LitElement, html, css } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import { createRng, freshSeed } from '../../kernels/random.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { dsaFrames, dsaTraceConfig, traceDsa, type DsaTrace } from './dsa-trace.ts';
import { moeFrames, moeTraceConfig, traceMoe, type MoeTrace } from './moe-trace.ts';
import type { StageFrame } from './stage-frames.ts';
import { checkLine } from './check-line.ts';
import './step-controls.ts';
import '../heatmap/heatmap-canvas.ts';

export type StagedTechnique = 'dsa' | 'moe';

const INTRO: Record<StagedTechnique, string> = {
  dsa: 'sparse.dsa on 4 queries over 96 structured keys (sinks, two far needles, a local band): indexer → top-k → attention, each frame from the buffer that stage wrote.',
  moe: 'moe.forward on 16 tokens in 4 clusters, 16 experts in 4 groups (top-2 groups, top-4 experts): gate → dispatch → experts → combine, each frame from the buffer that stage wrote.',
};

export class StageSteps extends LitElement {
  static override properties = { technique: { type: String }, frames: { state: true }, frame: { state: true } };
  declare technique: StagedTechnique;
  declare frames: StageFrame[];
  declare frame: number;
  trace: DsaTrace | MoeTrace | undefined;

  constructor() {
    super();
    this.technique = 'dsa';
    this.frames = [];
    this.frame = 0;
  }

  /** Trace the small structured case on the GPU (inside the page's exclusive job). */
  async run(ctx: GpuContext, seed = freshSeed()): Promise<void> {
    const rng = createRng(seed);
    if (this.technique === 'moe') {
      const trace = await traceMoe(ctx, moeTraceConfig(), rng);
      this.trace = trace;
      this.frames = moeFrames(trace);
    } else {
      const trace = await traceDsa(ctx, dsaTraceConfig(), rng);
      this.trace = trace;
      this.frames = dsaFrames(trace);
    }
    this.frame = 0;
  }

  override render() {
    if (!this.frames.length) return html`<p class="muted">Run to step through ${this.technique === 'moe' ? 'the MoE layer' : 'DeepSeek Sparse Attention'} stage by stage.</p>`;
    const f = this.frames[this.frame]!;
    return html`<p class="small muted">${INTRO[this.technique]}</p>
      <kl-step-controls label="stage" .count=${this.frames.length} .index=${this.frame} @frame=${(e: CustomEvent<number>) => (this.frame = e.detail)}></kl-step-controls>
      <p data-frame=${this.frame} data-stage=${f.stage}><strong>${f.stage}</strong>: ${f.caption}</p>
      ${f.views.map((v) => html`<h4>${v.title}</h4><kl-heatmap data-view=${v.name} .matrix=${v.matrix} label=${v.title}></kl-heatmap>`)} ${checkLine(f.checks)}`;
  }

  static override styles = [
    sharedStyles,
    css`
      h4 {
        margin: 0.6rem 0 0.2rem;
        font-size: 0.9rem;
      }
    `,
  ];
}

customElements.define('kl-stage-steps', StageSteps);

declare global {
  interface HTMLElementTagNameMap {
    'kl-stage-steps': StageSteps;
  }
}
