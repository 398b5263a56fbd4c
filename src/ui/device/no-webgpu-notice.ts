// <kl-no-webgpu-notice>: this browser has no WebGPU (or no adapter). Says what is missing and how to get it
// (browsers, flags, secure context), and that the analytic KV-cache explorer works without it.
import { LitElement, html, css } from 'lit';
import { NO_WEBGPU_HELP } from '../../gpu/browser.ts';
import { sharedStyles } from '../shell/shared-styles.ts';

export class NoWebGpuNotice extends LitElement {
  static override properties = { message: { type: String } };
  declare message: string;

  constructor() {
    super();
    this.message = NO_WEBGPU_HELP;
  }

  override render() {
    const secure = window.isSecureContext;
    return html`<section class="notice warn" role="alert" data-device="no-webgpu">
      <h2>This browser cannot run the kernels: no WebGPU</h2>
      <p><strong>What is missing:</strong> ${this.message}</p>
      ${secure ? '' : html`<p><strong>This page is not a secure context</strong> (${location.origin}): WebGPU needs https, localhost or 127.0.0.1.</p>`}
      <h3>How to get it</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr><th>browser</th><th>WebGPU</th></tr>
          </thead>
          <tbody>
            <tr><td>Chrome / Edge 113+ on Windows, macOS, ChromeOS; Chrome 121+ on Android</td><td>on by default</td></tr>
            <tr><td>Chrome on Linux</td><td>start with <code>--enable-unsafe-webgpu</code> (some drivers also need <code>--enable-features=Vulkan</code>), or enable <code>chrome://flags/#enable-unsafe-webgpu</code></td></tr>
            <tr><td>Safari 26+ (macOS, iOS)</td><td>on by default</td></tr>
            <tr><td>Firefox 141+</td><td>on by default on Windows; elsewhere set <code>dom.webgpu.enabled</code> in <code>about:config</code></td></tr>
            <tr><td>headless Chromium (tests, CI)</td><td><code>--enable-unsafe-webgpu</code>; with no GPU, Chromium's bundled SwiftShader provides the adapter</td></tr>
          </tbody>
        </table>
      </div>
      <p>
        Also check that hardware acceleration is on in the browser's settings and that the GPU driver is not blocklisted (<code>chrome://gpu</code> lists why WebGPU is off).
      </p>
      <p><strong>Still works here:</strong> the KV-cache memory explorer on the <a href="#/mla">MLA &amp; KV cache</a> page (formulas need no GPU), and importing and comparing result files on <a href="#/benchmarks">Benchmarks</a>.</p>
    </section>`;
  }

  static override styles = [
    sharedStyles,
    css`
      h2 {
        font-size: 1.2rem;
      }
      h3 {
        margin-top: 12px;
      }
      table {
        margin: 6px 0 10px;
      }
    `,
  ];
}

customElements.define('kl-no-webgpu-notice', NoWebGpuNotice);

declare global {
  interface HTMLElementTagNameMap {
    'kl-no-webgpu-notice': NoWebGpuNotice;
  }
}
