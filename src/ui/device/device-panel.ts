// <kl-device-panel>: what this GPU is and can do — adapter, optional features (f16, subgroups, timestamps),
// the limits kernels are validated against, the measured roofline (copy GB/s, FMA GFLOP/s; measured once
// per adapter and reused), and the live GPU bytes the buffer tracker holds right now.
import { LitElement, html, css, nothing } from 'lit';
import type { DeviceLimits } from '../../gpu/context.ts';
import { describeError } from '../../gpu/errors.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { fmtBytes, fmtNum } from '../run/display-number.ts';
import { isCpuEmulation } from '../../gpu/context.ts';
import type { GpuSession } from './gpu-session.ts';

const LIVE_POLL_MS = 500;

export class DevicePanel extends LitElement {
  static override properties = { session: { attribute: false }, liveBytes: { state: true }, liveCount: { state: true }, error: { state: true }, measuring: { state: true } };
  declare session: GpuSession | undefined;
  declare liveBytes: number;
  declare liveCount: number;
  declare error: string;
  declare measuring: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #onChange = () => this.requestUpdate();

  constructor() {
    super();
    this.liveBytes = 0;
    this.liveCount = 0;
    this.error = '';
    this.measuring = false;
  }

  override connectedCallback() {
    super.connectedCallback();
    for (const ev of ['change', 'roofline', 'busy']) this.session?.addEventListener(ev, this.#onChange);
    // Polling a counter is cheap and catches every allocation path (kernels, probes, read-backs).
    this.#timer = setInterval(() => {
      const b = this.session?.ctx?.buffers;
      if (b && (b.liveBytes !== this.liveBytes || b.liveCount !== this.liveCount)) {
        this.liveBytes = b.liveBytes;
        this.liveCount = b.liveCount;
      }
    }, LIVE_POLL_MS);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    for (const ev of ['change', 'roofline', 'busy']) this.session?.removeEventListener(ev, this.#onChange);
    clearInterval(this.#timer);
  }

  async #measure() {
    if (!this.session) return;
    this.measuring = true;
    this.error = '';
    try {
      await this.session.remeasureRoofline();
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.measuring = false;
    }
  }

  override render() {
    const s = this.session;
    if (!s) return nothing;
    const state = s.state;
    if (state.kind === 'starting') return html`<div class="card row"><strong>GPU</strong><span class="muted">starting WebGPU…</span></div>`;
    if (state.kind !== 'ready') return html`<div class="card row"><strong>GPU</strong><span class="badge bad">${state.kind === 'lost' ? 'device lost' : 'no WebGPU'}</span></div>`;
    const { ctx } = state;
    const a = ctx.adapter;
    const feature = (name: string, on: boolean) => html`<span class="badge ${on ? 'ok' : 'off'}" data-feature=${name}>${on ? '✓' : '✗'} ${name}</span>`;
    const r = s.roofline;
    const cpu = isCpuEmulation(ctx);
    const emulator = /swiftshader/i.test(`${a.architecture} ${a.description} ${a.vendor}`) ? 'SwiftShader' : 'a software rasteriser';
    return html`<section class="card" aria-label="GPU device">
      <div class="row top">
        <strong>GPU</strong>
        <span data-device="adapter">${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' · ') || 'unknown adapter'}</span>
        <span class="muted small">(${a.backend})</span>
        ${cpu ? html`<span class="badge warn" data-device="emulation">CPU emulation (${emulator})</span>` : nothing}
        ${feature('f16', ctx.features.f16)} ${feature('subgroups', ctx.features.subgroups)} ${feature('timestamps', ctx.features.timestamps)}
      </div>
      <div class="row">
        <span
          >roofline:
          ${r
            ? html`<strong data-device="roofline">copy ${fmtNum(r.value.copyGBps)} GB/s · FMA ${fmtNum(r.value.fmaGflops)} GFLOP/s</strong>
                <span class="muted small">(${r.value.method}, measured ${new Date(r.measuredAt).toLocaleString()})</span>`
            : html`<span class="muted">not measured yet (measured on the first run)</span>`}</span
        >
        <button class="small-button" ?disabled=${this.measuring || !!s.busy} @click=${() => this.#measure()}>${r ? 'Measure again' : 'Measure now'}</button>
        <span>live GPU memory: <strong data-device="live-bytes">${fmtBytes(this.liveBytes)}</strong> <span class="muted small">in ${this.liveCount} buffers</span></span>
        ${s.busy ? html`<span class="muted small">· busy: ${s.busy}</span>` : nothing}
      </div>
      ${cpu
        ? html`<p class="notice warn small" data-device="emulation-note">
            No GPU is doing this work: WebGPU is emulated on the CPU by ${emulator} (the browser found no usable GPU, or its GPU is blocklisted). Every GB/s and
            GFLOP/s here is this CPU's, orders of magnitude below any GPU, and few cores hide parallelism. Only ratios measured in one run mean something: a kernel
            against its baseline, or a fraction of the roofline measured in the same session.
          </p>`
        : nothing}
      ${this.error ? html`<p class="error small">${this.error}</p>` : nothing}
      <details class="small">
        <summary>limits</summary>
        <div class="table-wrap">
          <table>
            <tbody>
              ${(Object.entries(ctx.limits) as [keyof DeviceLimits, number][]).map(
                ([k, v]) => html`<tr><td><code>${k}</code></td><td class="num">${k.endsWith('Size') ? fmtBytes(v) : v.toLocaleString('en-US')}</td></tr>`,
              )}
            </tbody>
          </table>
        </div>
      </details>
    </section>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .card {
        padding: 10px 14px;
      }
      .row {
        gap: 6px 12px;
      }
      .top {
        margin-bottom: 4px;
      }
      .small-button {
        padding: 2px 10px;
        font-size: 0.85rem;
      }
      table {
        max-width: 520px;
      }
    `,
  ];
}

customElements.define('kl-device-panel', DevicePanel);

declare global {
  interface HTMLElementTagNameMap {
    'kl-device-panel': DevicePanel;
  }
}
