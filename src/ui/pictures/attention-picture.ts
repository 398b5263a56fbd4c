// <kl-attention-picture>: which keys each query attended to, drawn from a kernel's own outputs on a small
// copy of the page's config (see attention-pattern.ts for what runs). The same run is compared with the
// float64 reference, so the picture carries its own check.
import { LitElement, html, css, nothing } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import type { AnyKernel, Config } from '../../kernels/contract.ts';
import { compareOutputs } from '../../kernels/check.ts';
import type { CompareResult } from '../../kernels/compare.ts';
import { makeInputs, runKernel } from '../../kernels/execute.ts';
import { createRng, freshSeed } from '../../kernels/random.ts';
import type { HostTensor } from '../../kernels/tensor.ts';
import { naiveAttentionWithProbs } from '../../kernels/attention/naive.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { fmtExp } from '../run/display-number.ts';
import { attentionPicturePlan, patternMatrix, type PicturePlan } from './attention-pattern.ts';
import '../heatmap/heatmap-canvas.ts';

export class AttentionPicture extends LitElement {
  static override properties = { plan: { state: true }, outputs: { state: true }, checks: { state: true }, head: { state: true }, error: { state: true } };
  declare plan: PicturePlan | undefined;
  declare outputs: Record<string, HostTensor> | undefined;
  declare checks: CompareResult[];
  declare head: number;
  declare error: string;

  constructor() {
    super();
    this.checks = [];
    this.head = 0;
    this.error = '';
  }

  clear() {
    this.plan = undefined;
    this.outputs = undefined;
    this.checks = [];
    this.error = '';
  }

  /** Run the picture's small case on the GPU (inside the page's exclusive job). */
  async run(ctx: GpuContext, def: AnyKernel, config: Config): Promise<void> {
    this.clear();
    const plan = attentionPicturePlan(def, config, ctx, naiveAttentionWithProbs);
    if ('error' in plan) {
      this.error = plan.error;
      return;
    }
    const inputs = makeInputs(plan.def, plan.config, createRng(freshSeed()));
    const outputs = await runKernel(ctx, plan.def, plan.config, inputs);
    this.checks = compareOutputs(plan.def.outputs(plan.config), outputs, plan.def.reference(inputs, plan.config));
    this.plan = plan;
    // A kernel handed its selection draws that input (the outputs were still checked above).
    this.outputs = plan.fromInput ? { ...outputs, topk_indices: inputs.topk_indices! } : outputs;
    this.head = 0;
  }

  override render() {
    if (this.error) return html`<p class="error">${this.error}</p>`;
    if (!this.plan || !this.outputs) return html`<p class="muted">Run to draw which keys each query attends to.</p>`;
    const ok = this.checks.length > 0 && this.checks.every((c) => c.ok);
    // Outputs with a head axis ([T, H, S] probabilities, [T, H, k] block choices) get a head selector.
    const perHead = [this.outputs.probs, this.outputs.selected].find((t) => t && t.shape.length === 3);
    const heads = perHead ? perHead.shape[1]! : 0;
    const matrix = ok ? patternMatrix(this.plan, this.outputs, this.head) : undefined;
    return html`<p class="small muted">${this.plan.note}.</p>
      ${heads > 1
        ? html`<label class="small">head
            <select @change=${(e: Event) => (this.head = Number((e.target as HTMLSelectElement).value))}>
              ${Array.from({ length: heads }, (_, h) => html`<option value=${h} ?selected=${h === this.head}>${h}</option>`)}
            </select></label
          >`
        : nothing}
      ${matrix
        ? html`<kl-heatmap .matrix=${matrix} label="attention pattern: ${matrix.rows} queries by ${matrix.cols} keys"></kl-heatmap>`
        : html`<p class="error">Not drawn: the picture's outputs do not match the float64 reference.</p>`}
      <p class="small ${ok ? 'muted' : 'error'}">
        Picture run checked against the float64 reference:
        ${this.checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAILS'} (rel-L2 ${fmtExp(c.relL2)})`).join(', ')}.
      </p>`;
  }

  static override styles = [sharedStyles, css``];
}

customElements.define('kl-attention-picture', AttentionPicture);

declare global {
  interface HTMLElementTagNameMap {
    'kl-attention-picture': AttentionPicture;
  }
}
