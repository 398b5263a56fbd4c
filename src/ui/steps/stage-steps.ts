// The element behind the stage-by-stage step-throughs (MoE, MLA): a trace of the kernel's buffers read back,
// turned into frames (stage-frames.ts), the step controls, each frame's caption and heatmaps, and its check
// line. A subclass says how to trace and what the case is.
import { LitElement, html, type TemplateResult } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import { freshSeed } from '../../kernels/random.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { StageFrame } from './stage-frames.ts';
import { checkLine, stepStyles } from './check-line.ts';
import './step-controls.ts';
import '../heatmap/heatmap-canvas.ts';

export abstract class StageSteps<Trace> extends LitElement {
  static override properties = { frames: { state: true }, frame: { state: true } };
  declare frames: StageFrame[];
  declare frame: number;
  trace: Trace | undefined;
  /** What the controls count ("stage", "step"). */
  protected abstract readonly unit: string;
  /** Shown before the first run. */
  protected abstract readonly empty: string;
  protected abstract traceOn(ctx: GpuContext, seed: number): Promise<Trace>;
  protected abstract framesOf(trace: Trace): StageFrame[];
  /** The case: shape and structure, one paragraph. */
  protected abstract intro(trace: Trace): TemplateResult;

  constructor() {
    super();
    this.frames = [];
    this.frame = 0;
  }

  /** Trace the small structured case on the GPU (inside the page's exclusive job). */
  async run(ctx: GpuContext, seed = freshSeed()): Promise<void> {
    const trace = await this.traceOn(ctx, seed);
    this.trace = trace;
    this.frames = this.framesOf(trace);
    this.frame = 0;
  }

  override render() {
    if (!this.frames.length || !this.trace) return html`<p class="muted">${this.empty}</p>`;
    const f = this.frames[this.frame]!;
    return html`<p class="small muted">${this.intro(this.trace)}</p>
      <kl-step-controls label=${this.unit} .count=${this.frames.length} .index=${this.frame} @frame=${(e: CustomEvent<number>) => (this.frame = e.detail)}></kl-step-controls>
      <p data-frame=${this.frame} data-stage=${f.stage}><strong>${f.stage}</strong>: ${f.caption}</p>
      ${f.views.map((v) => html`<h4>${v.title}</h4><kl-heatmap data-view=${v.name} .matrix=${v.matrix} label=${v.title}></kl-heatmap>`)} ${checkLine(f.checks)}`;
  }

  static override styles = [sharedStyles, stepStyles];
}
