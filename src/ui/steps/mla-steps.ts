// <kl-mla-steps>: absorbed MLA decode pass by pass on a structured case, each frame drawn from the buffer that
// pass of mla.decode_absorbed wrote on the GPU (mla-trace.ts) and checked against the float64 reference's
// intermediates: q through W_UK into latent space → scores over the latent rows → softmax → the
// latent-weighted sum → W_UV. Hover a heatmap for its values.
import { html } from 'lit';
import type { GpuContext } from '../../gpu/context.ts';
import { createRng } from '../../kernels/random.ts';
import { SINKS, needles } from '../pictures/structured-inputs.ts';
import { mlaFrames, mlaTraceConfig, traceMla, type MlaTrace } from './mla-trace.ts';
import { StageSteps } from './stage-steps.ts';

export class MlaSteps extends StageSteps<MlaTrace> {
  protected readonly unit = 'step';
  protected readonly empty = 'Run to step through absorbed MLA decode pass by pass.';
  protected traceOn = (ctx: GpuContext, seed: number) => traceMla(ctx, mlaTraceConfig(), createRng(seed));
  protected framesOf = (t: MlaTrace) => mlaFrames(t);

  protected intro(t: MlaTrace) {
    const c = t.config;
    return html`mla.decode_absorbed on one query (${c.H} heads) over S = ${c.S} latent rows of ${c.dc} + ${c.dr} values; structured keys in the RoPE channel: sinks
      0..${SINKS - 1}, needles at ${needles(c.S).join(', ')}, a band near the query. Each frame is a buffer read back from the GPU after that pass.`;
  }
}

customElements.define('kl-mla-steps', MlaSteps);

declare global {
  interface HTMLElementTagNameMap {
    'kl-mla-steps': MlaSteps;
  }
}
