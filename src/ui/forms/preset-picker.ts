// <kl-preset-picker>: choose a real model's shape for the current kernel; lists the values it sets, each
// with its source (config.json key or paper), so a preset is never a magic number.
import { LitElement, html, css, nothing } from 'lit';
import type { AnyKernel } from '../../kernels/contract.ts';
import type { ModelPreset } from '../../models/presets.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { MHA_EQUIVALENT, citeValue, presetValues, presetsFor } from './preset-config.ts';

export class PresetPicker extends LitElement {
  static override properties = {
    def: { attribute: false },
    presets: { attribute: false },
    selected: { type: String },
    disabled: { type: Boolean },
  };
  declare def: AnyKernel | undefined;
  declare presets: readonly ModelPreset[];
  /** Preset id, or '' for custom settings. */
  declare selected: string;
  declare disabled: boolean;

  constructor() {
    super();
    this.presets = [];
    this.selected = '';
    this.disabled = false;
  }

  #choose(id: string) {
    this.selected = id;
    this.dispatchEvent(new CustomEvent<string>('preset-change', { detail: id, bubbles: true, composed: true }));
  }

  override render() {
    if (!this.def) return nothing;
    const options = presetsFor(this.def, this.presets);
    if (!options.length) return html`<p class="muted small">No model preset sets this kernel's fields.</p>`;
    const chosen = options.find((p) => p.id === this.selected);
    return html`<label class="row"
        ><span class="label">Model preset</span>
        <select ?disabled=${this.disabled} @change=${(e: Event) => this.#choose((e.target as HTMLSelectElement).value)}>
          <option value="" ?selected=${!chosen}>custom settings</option>
          ${options.map((p) => html`<option value=${p.id} ?selected=${p === chosen}>${p.name}</option>`)}
        </select></label
      >
      ${chosen && presetValues(this.def, chosen).some((v) => v.how === MHA_EQUIVALENT)
        ? html`<p class="notice warn small" data-preset-note>
            ${chosen.name} uses Multi-head Latent Attention, which this kernel does not run: the preset loads its <strong>MHA-equivalent</strong> (one KV head per query
            head, ${chosen.arch.heads} x ${chosen.arch.headDim}), the cache MLA replaces. The MLA page runs its real latent layout.
          </p>`
        : nothing}
      ${chosen
        ? html`<details class="sources small">
            <summary>${chosen.name}: ${presetValues(this.def, chosen).map((v) => `${v.field} = ${v.value}`).join(', ')}</summary>
            <ul>
              ${presetValues(this.def, chosen).map(
                (v) => html`<li><code>${v.field} = ${String(v.value)}</code> — ${v.how ? `${v.how}; ` : ''}<span class="muted">${citeValue(chosen, v)}</span></li>`,
              )}
            </ul>
            ${chosen.notes.length ? html`<p class="muted">${chosen.notes.join(' ')}</p>` : nothing}
          </details>`
        : nothing}`;
  }

  static override styles = [
    sharedStyles,
    css`
      .label {
        font-weight: 600;
      }
      .sources {
        margin-top: 6px;
      }
      .sources ul {
        margin: 4px 0;
        padding-left: 18px;
      }
      .sources li {
        overflow-wrap: anywhere;
      }
    `,
  ];
}

customElements.define('kl-preset-picker', PresetPicker);

declare global {
  interface HTMLElementTagNameMap {
    'kl-preset-picker': PresetPicker;
  }
}
