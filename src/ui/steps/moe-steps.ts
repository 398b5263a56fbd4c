// <kl-moe-steps>: an MoE layer stage by stage on clustered tokens, each frame drawn from the buffer that
// stage of moe.forward wrote on the GPU (moe-trace.ts) and checked against the float64 reference.
import { html } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import { createRng } from '../../kernels/random.ts';
import { moeFrames, moeTraceConfig, traceMoe, type MoeTrace } from './moe-trace.ts';
import { StageSteps } from './stage-steps.ts';

export class MoeSteps extends StageSteps<MoeTrace> {
  protected readonly unit = 'stage';
  protected readonly empty = 'Run to step through the MoE layer stage by stage.';
  protected traceOn = (ctx: GpuContext, seed: number) => traceMoe(ctx, moeTraceConfig(), createRng(seed));
  protected framesOf = moeFrames;

  protected intro(t: MoeTrace) {
    const c = t.config;
    return html`moe.forward on ${c.N} clustered tokens, ${c.E} experts in ${c.n_groups} groups (top-${c.topk_groups} groups, top-${c.topk} experts): gate → dispatch → experts →
      combine, each frame from the buffer that stage wrote on the GPU.`;
  }
}

customElements.define('kl-moe-steps', MoeSteps);

declare global {
  interface HTMLElementTagNameMap {
    'kl-moe-steps': MoeSteps;
  }
}
