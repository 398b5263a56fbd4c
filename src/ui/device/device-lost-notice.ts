// <kl-device-lost-notice>: the GPU device went away (driver reset, GPU removed, device.destroy()): say so,
// say that runs stopped, and offer to acquire a fresh device. Pages work again once it is ready.
import { LitElement, html, css, nothing } from 'lit';
import { describeError } from '../../gpu/errors.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { GpuSession } from './gpu-session.ts';

export class DeviceLostNotice extends LitElement {
  static override properties = { session: { attribute: false }, working: { state: true }, error: { state: true } };
  declare session: GpuSession | undefined;
  declare working: boolean;
  declare error: string;
  #onChange = () => this.requestUpdate();

  constructor() {
    super();
    this.working = false;
    this.error = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    this.session?.addEventListener('change', this.#onChange);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.session?.removeEventListener('change', this.#onChange);
  }

  async #reinit() {
    if (!this.session) return;
    this.working = true;
    this.error = '';
    try {
      await this.session.reinitialise();
      const s = this.session.state;
      if (s.kind !== 'ready') this.error = 'message' in s ? s.message : 'the GPU did not come back';
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.working = false;
    }
  }

  override render() {
    const s = this.session?.state;
    if (s?.kind !== 'lost' && !(this.working && s?.kind === 'starting')) return nothing;
    return html`<div class="notice bad" role="alert" data-device="lost">
      <strong>${s.kind === 'lost' ? s.message : 'Acquiring a new GPU device…'}</strong>
      <p>Runs in progress stopped with an error line; results measured before the loss stay on the page. Re-initialising acquires a new device; nothing else on the page is lost.</p>
      <button class="primary" data-action="reinitialise" ?disabled=${this.working} @click=${() => this.#reinit()}>Re-initialise the GPU</button>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      p {
        margin: 6px 0;
      }
    `,
  ];
}

customElements.define('kl-device-lost-notice', DeviceLostNotice);

declare global {
  interface HTMLElementTagNameMap {
    'kl-device-lost-notice': DeviceLostNotice;
  }
}
