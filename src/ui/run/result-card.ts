// <kl-result-card>: one timed run — median time with its spread, achieved GB/s and GFLOP/s from the
// kernel's cost model, both as a fraction of this device's measured roofline, and the verification badge.
// Numbers are shown only for a verified run with finite outputs.
import { LitElement, html, css, nothing, type TemplateResult } from 'lit';
import type { KernelResult } from '../../bench/result-schema.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { fmtBytes, fmtMs, fmtNum, fmtPct } from './display-number.ts';
import { isTrusted } from './verification-badge.ts';
import { largestReadPerWorkgroup } from '../../bench/geometry.ts';
import './verification-badge.ts';

/** Beyond this relative difference the stage check warns (the stages no longer tell where the whole went). */
export const STAGE_TOLERANCE = 0.1;

export interface StageCheck {
  /** The stages' medians, summed (what a stacked bar of them shows). */
  sumMs: number;
  /** Median of each run's whole (first stage's start to last stage's end), in the same runs as the stages. */
  wholeMs: number;
  /** sumMs / wholeMs - 1. */
  off: number;
  /** The kernel timed alone (separate runs, the cache clear around each): the result's median. */
  timedMs: number;
  /** timedMs / wholeMs - 1. */
  timedOff: number;
}

/**
 * A composite's stage times against its whole, as the CLI prints them (src/bench/format.ts stageLine). The
 * median of each stage is not the median of their sum: under load a pause lands in one stage of each run, so
 * the stage medians dodge it while every run's whole keeps it. The kernel's own median (timeRepeats) comes from
 * other runs, with the cache clear; both comparisons are shown, so a bar never silently disagrees with the card.
 */
export function stageCheck(r: KernelResult): StageCheck | undefined {
  if (!r.stages?.length || r.stagesWholeMs === undefined || !(r.stagesWholeMs > 0)) return undefined;
  const sumMs = r.stages.reduce((a, s) => a + s.medianMs, 0);
  return { sumMs, wholeMs: r.stagesWholeMs, off: sumMs / r.stagesWholeMs - 1, timedMs: r.medianMs, timedOff: r.medianMs / r.stagesWholeMs - 1 };
}

/** Workgroups and dispatches per run, and the dispatch that reads the most per workgroup (its own inputs). */
function geometryLine(g: NonNullable<KernelResult['geometry']>): TemplateResult {
  const most = largestReadPerWorkgroup(g.dispatches);
  return html`<span data-geometry
    >${g.workgroups} workgroups in ${g.dispatches.length} dispatches per run${most
      ? html`; at most <span data-read-per-wg>${fmtBytes(most.bytes)}</span> read per workgroup (${most.pipeline})`
      : nothing}.</span
  >`;
}

/** The stage check's line, with a warning for either difference beyond STAGE_TOLERANCE. */
export function stageCheckLine(r: KernelResult): TemplateResult | typeof nothing {
  const c = stageCheck(r);
  if (!c) return nothing;
  const clear = r.timer && !r.timer.flushBytes ? 'no cache clear' : 'with flush';
  const apart = Math.abs(c.off) > STAGE_TOLERANCE;
  const drift = Math.abs(c.timedOff) > STAGE_TOLERANCE;
  return html`<span data-stage-check
      >stage sum ${fmtNum(c.sumMs)} ms vs whole ${fmtNum(c.wholeMs)} ms in the same runs (${fmtPct(c.off)} off); timed whole (${clear}) ${fmtNum(c.timedMs)} ms.</span
    >${apart
      ? html` <strong class="error" data-stage-warning="sum"
          >The stage medians add up to ${fmtPct(c.off)} off the whole of the same runs: those runs were noisy (other work on this machine); rerun, or take more repeats.</strong
        >`
      : nothing}${drift
      ? html` <strong class="error" data-stage-warning="timed"
          >The median time (the kernel timed alone, in other runs) is ${fmtPct(c.timedOff)} off the stages' whole: the load changed between the two timings, so compare
          stage times with the same-run whole, not with the median time.</strong
        >`
      : nothing}`;
}

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
        ${trusted ? stageCheckLine(r) : nothing}
        ${r.geometry ? geometryLine(r.geometry) : nothing}
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
