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
import { SINKS, needles, structureInputs, type InputKind } from './structured-inputs.ts';
import '../heatmap/heatmap-canvas.ts';
import './dsa-steps.ts';

export class AttentionPicture extends LitElement {
  static override properties = {
    plan: { state: true },
    outputs: { state: true },
    checks: { state: true },
    head: { state: true },
    error: { state: true },
    inputKind: { type: String },
  };
  declare plan: PicturePlan | undefined;
  declare outputs: Record<string, HostTensor> | undefined;
  declare checks: CompareResult[];
  declare head: number;
  declare error: string;
  /** Structured inputs (sinks, a local band, needles) show what a technique exploits; random ones are noise. */
  declare inputKind: InputKind;
  /** The inputs of the last run (a step-through reads them beside the kernel's outputs). */
  inputs: Record<string, HostTensor> | undefined;
  /** The float64 reference's outputs for those inputs. */
  reference: Record<string, HostTensor> | undefined;

  constructor() {
    super();
    this.inputKind = 'structured';
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
    const random = makeInputs(plan.def, plan.config, createRng(freshSeed()));
    const inputs = this.inputKind === 'structured' ? structureInputs(random, plan.config) : random;
    this.inputs = inputs;
    const outputs = await runKernel(ctx, plan.def, plan.config, inputs);
    const reference = plan.def.reference(inputs, plan.config);
    this.checks = compareOutputs(plan.def.outputs(plan.config), outputs, reference);
    this.reference = reference;
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
    const S = Number(this.plan.config.S);
    const inputsNote =
      this.inputKind === 'structured'
        ? `Structured inputs: ${SINKS} sink keys at the start, needle keys at ${needles(S).join(', ')}, and a local band around each query (queries and keys carry RoPE-like phases)`
        : 'Random inputs: the pattern is noise (choose structured inputs to see what the technique exploits)';
    return html`<p class="small muted">${this.plan.note}.</p>
      <p class="small muted" data-inputs>${inputsNote}.</p>
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
      </p>
      ${ok && this.plan.def.id === 'sparse.dsa' && this.reference
        ? html`<h4>Step through DSA: indexer → top-k → attention</h4>
            <kl-dsa-steps .config=${this.plan.config} .outputs=${this.outputs} .reference=${this.reference}></kl-dsa-steps>`
        : nothing}`;
  }

  static override styles = [sharedStyles, css``];
}

/** The inputs chooser shown beside a picture: the page re-runs the picture with the new kind. */
export class PictureInputs extends LitElement {
  static override properties = { kind: { type: String }, disabled: { type: Boolean } };
  declare kind: InputKind;
  declare disabled: boolean;

  constructor() {
    super();
    this.kind = 'structured';
    this.disabled = false;
  }

  override render() {
    return html`<label class="small"
      >picture inputs
      <select
        data-action="picture-inputs"
        ?disabled=${this.disabled}
        @change=${(e: Event) => this.dispatchEvent(new CustomEvent<InputKind>('inputs-change', { detail: (e.target as HTMLSelectElement).value as InputKind, bubbles: true, composed: true }))}
      >
        <option value="structured" ?selected=${this.kind === 'structured'}>structured: sinks, local band, needles</option>
        <option value="random" ?selected=${this.kind === 'random'}>random</option>
      </select></label
    >`;
  }

  static override styles = [sharedStyles];
}

customElements.define('kl-attention-picture', AttentionPicture);
customElements.define('kl-picture-inputs', PictureInputs);

declare global {
  interface HTMLElementTagNameMap {
    'kl-picture-inputs': PictureInputs;
    'kl-attention-picture': AttentionPicture;
  }
}
