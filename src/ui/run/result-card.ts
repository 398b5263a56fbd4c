// <kl-result-card>: one timed run — median time with its spread, achieved GB/s and GFLOP/s from the
// kernel's cost model, both as a fraction of this device's measured roofline, and the verification badge.
// Numbers are shown only for a verified run with finite outputs.
import { LitElement, html, css, nothing } from 'lit';
import type { KernelResult } from '../../bench/result-schema.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { fmtBytes, fmtMs, fmtNum, fmtPct } from './display-number.ts';
import { isTrusted } from './verification-badge.ts';
import './verification-badge.ts';

export class ResultCard extends LitElement {
  static override properties = { result: { attribute: false } };
  declare result: KernelResult | undefined;

  override render() {
    const r = this.result;
    if (!r) return nothing;
    const trusted = isTrusted(r);
    const stat = (label: string, value: string, hint?: unknown) =>
      html`<div class="stat">
        <div class="value" data-stat=${label}>${trusted ? value : '—'}</div>
        <div class="label muted small">${label}${hint ? html`<br />${hint}` : nothing}</div>
      </div>`;
    return html`<div class="head row">
        <h3>${r.kernel}</h3>
        <kl-verification-badge .result=${r}></kl-verification-badge>
      </div>
      <div class="stats">
        ${stat('median time', fmtMs(r.medianMs), trusted ? `p10–p90 ${fmtNum(r.p10Ms)}–${fmtNum(r.p90Ms)} ms` : undefined)}
        ${stat(
          'GB/s',
          fmtNum(r.gbps),
          html`${r.readFraction !== undefined ? html`<span data-roofline="read">${trusted ? fmtPct(r.readFraction) : '—'}</span> of measured read bandwidth,<br />` : nothing}<span
              data-roofline="copy"
              >${trusted ? fmtPct(r.copyFraction) : '—'}</span
            > of measured copy bandwidth`,
        )}
        ${stat('GFLOP/s', fmtNum(r.gflops), html`<span data-roofline="fma">${trusted ? fmtPct(r.fmaFraction) : '—'}</span> of measured FMA peak`)}
        ${stat(
          'bytes moved',
          fmtBytes(r.cost.bytes),
          html`${r.cost.kvCacheBytes ? `KV cache ${fmtBytes(r.cost.kvCacheBytes)}` : nothing}${r.cost.kvCacheBytes && (r.cost.fromRun || r.cost.intermediateBytes) ? html`<br />` : nothing}${r.cost
            .intermediateBytes
            ? html`<span data-intermediate>${fmtBytes(r.cost.intermediateBytes)} between passes</span>`
            : nothing}${r.cost.fromRun ? html`<span data-from-run>${r.cost.intermediateBytes ? '; ' : ''}counted from what this run read</span>` : nothing}`,
        )}
      </div>
      <p class="muted small">
        ${r.samplesMs.length} samples, ${r.method === 'gpu-timestamps' ? 'GPU timestamps around the dispatches' : 'wall clock from submit to completion (no timestamp-query)'};
        ${r.timer
          ? html`<span data-timer>each sample ${r.timer.runsPerSample} runs back to back${r.timer.stamped === 'each-run' ? ', a timestamp pair around each' : ' between one timestamp pair'}; clock resolution
              ${fmtNum(r.timer.resolutionMs * 1000)} µs${r.timer.quantised ? ' (quantised)' : ''}; empty-pass baseline
              ${fmtNum(r.timer.baselineMs * 1000)} µs per run subtracted${!r.timer.flushBytes ? ' (no cache clear)' : r.timer.stamped === 'each-run' ? ' (the cache clear before each run is outside the pairs)' : ' (it includes the cache clear before each run)'};
              median 95% CI ${fmtNum(r.timer.medianCiMs[0])}–${fmtNum(r.timer.medianCiMs[1])} ms.</span>`
          : nothing}
        ${r.geometry ? html`<span data-geometry>${r.geometry.workgroups} workgroups in ${r.geometry.dispatches.length} dispatches per run.</span>` : nothing}
        the instance allocated ${fmtBytes(r.allocatedBytes)} on the device.
        ${r.timer?.coarseSamples
          ? html`<strong class="error" data-timer-warning>${r.timer.coarseSamples} sample(s) within 10× of the clock's resolution: not trustworthy.</strong>`
          : nothing}
        ${r.timer?.quantised && r.timer.resolutionMs >= 0.05
          ? html`<span data-timer-hint>This browser quantises GPU timestamps; in Chrome, enable <code>chrome://flags/#enable-webgpu-developer-features</code> for unquantised ones.</span>`
          : nothing}
        ${trusted ? nothing : html`<strong class="error">Numbers hidden: the run did not pass verification.</strong>`}
      </p>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .head {
        justify-content: space-between;
        align-items: flex-start;
      }
      .head h3 {
        font-family: var(--kl-mono);
        font-size: 1rem;
      }
      .stats {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(140px, 1fr));
        gap: 12px;
        margin: 12px 0;
      }
      .stat .value {
        font-size: 1.5rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
      }
      .stat .label {
        line-height: 1.3;
      }
    `,
  ];
}

customElements.define('kl-result-card', ResultCard);

declare global {
  interface HTMLElementTagNameMap {
    'kl-result-card': ResultCard;
  }
}
