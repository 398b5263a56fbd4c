// <kl-kernel-form>: a kernel's knobs, generated from its config schema (labels, bounds, units, docs), and
// validated on every change with the same validateConfig the CLI uses, so the inline messages are the CLI's
// messages. Issues naming a field show under it; the rest (tensor sizes, device rules) below the form.
// Views that are not kernels (the KV-cache explorer) pass a `form` instead: their own schema and rules,
// rendered and reported the same way.
// Values are bound with live(): the DOM is only written when it differs, so typing is never interrupted.
import { LitElement, html, css, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import type { DeviceCaps } from '../../gpu/context.ts';
import type { AnyKernel, Config, ConfigSchema, FieldSpec, ValidationIssue } from '../../kernels/contract.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import { parseFieldValue } from './url-config.ts';

export interface ConfigChange {
  config: Config;
  issues: ValidationIssue[];
}

/** A schema and its rules without a kernel behind them. */
export interface FormSpec {
  title: string;
  schema: ConfigSchema;
  validate(config: Config): ValidationIssue[];
}

export class KernelForm extends LitElement {
  static override properties = {
    def: { attribute: false },
    form: { attribute: false },
    config: { attribute: false },
    caps: { attribute: false },
    disabled: { type: Boolean },
  };
  declare def: AnyKernel | undefined;
  /** Used instead of `def` when set. */
  declare form: FormSpec | undefined;
  declare config: Config;
  declare caps: DeviceCaps | undefined;
  declare disabled: boolean;

  constructor() {
    super();
    this.config = {};
    this.disabled = false;
  }

  get #spec(): FormSpec | undefined {
    if (this.form) return this.form;
    const def = this.def;
    const caps = this.caps;
    if (!def) return undefined;
    return { title: def.title, schema: def.schema, validate: (config) => (caps ? validateConfig(def, config, caps) : []) };
  }

  /** The current issues (recomputed from def, config and caps, or from the form's rules). */
  get issues(): ValidationIssue[] {
    const spec = this.#spec;
    if (!spec) return [];
    try {
      return spec.validate(this.config);
    } catch (e) {
      // A kernel's own check() must never take the page down: show what it threw as an issue.
      return [{ field: 'config', message: e instanceof Error ? e.message : String(e) }];
    }
  }

  #change(field: string, value: Config[string] | undefined) {
    const config = { ...this.config };
    if (value === undefined) delete config[field];
    else config[field] = value;
    this.config = config;
    this.dispatchEvent(new CustomEvent<ConfigChange>('config-change', { detail: { config, issues: this.issues }, bubbles: true, composed: true }));
  }

  #field(name: string, spec: FieldSpec, issue: ValidationIssue | undefined) {
    const id = `f-${name}`;
    const value = this.config[name];
    const described = [spec.doc ? `${id}-doc` : '', issue ? `${id}-err` : ''].filter(Boolean).join(' ') || nothing;
    const invalid = issue ? 'true' : 'false';
    let control;
    switch (spec.type) {
      case 'int':
      case 'number':
        control = html`<input
          id=${id}
          name=${name}
          type="number"
          inputmode=${spec.type === 'int' ? 'numeric' : 'decimal'}
          min=${spec.min}
          max=${spec.max}
          step=${spec.type === 'int' ? 1 : 'any'}
          .value=${live(value === undefined || (typeof value === 'number' && Number.isNaN(value)) ? '' : String(value))}
          aria-invalid=${invalid}
          aria-describedby=${described}
          ?disabled=${this.disabled}
          @input=${(e: Event) => this.#change(name, parseFieldValue(spec, (e.target as HTMLInputElement).value))}
        />`;
        break;
      case 'bool':
        control = html`<input
          id=${id}
          name=${name}
          type="checkbox"
          .checked=${live(value === true)}
          aria-invalid=${invalid}
          aria-describedby=${described}
          ?disabled=${this.disabled}
          @change=${(e: Event) => this.#change(name, (e.target as HTMLInputElement).checked)}
        />`;
        break;
      case 'text':
        control = html`<input
          id=${id}
          name=${name}
          type="text"
          placeholder=${spec.placeholder ?? nothing}
          .value=${live(typeof value === 'string' ? value : '')}
          aria-invalid=${invalid}
          aria-describedby=${described}
          ?disabled=${this.disabled}
          @input=${(e: Event) => this.#change(name, (e.target as HTMLInputElement).value)}
        />`;
        break;
      case 'enum':
        control = html`<select
          id=${id}
          name=${name}
          aria-invalid=${invalid}
          aria-describedby=${described}
          ?disabled=${this.disabled}
          @change=${(e: Event) => this.#change(name, (e.target as HTMLSelectElement).value)}
        >
          ${spec.values.map((v) => html`<option value=${v} ?selected=${v === value}>${v}</option>`)}
        </select>`;
        break;
    }
    const bounds = spec.type === 'int' || spec.type === 'number' ? `${spec.min} – ${spec.max}` : '';
    return html`<div class="field ${spec.type === 'bool' ? 'bool' : ''}" data-field=${name}>
      <label for=${id}>${spec.label}${spec.unit ? html` <span class="muted">(${spec.unit})</span>` : nothing}</label>
      ${control}
      ${spec.doc || bounds ? html`<div id="${id}-doc" class="doc muted small">${spec.doc ?? ''}${spec.doc && bounds ? ' · ' : ''}${bounds}</div>` : nothing}
      ${issue ? html`<div id="${id}-err" class="field-error error small" role="alert">${issue.message}</div>` : nothing}
    </div>`;
  }

  override render() {
    const form = this.#spec;
    if (!form) return nothing;
    const issues = this.issues;
    const byField = new Map<string, ValidationIssue>();
    for (const i of issues) if (i.field in form.schema && !byField.has(i.field)) byField.set(i.field, i);
    const other = issues.filter((i) => !(i.field in form.schema));
    return html`<form class="fields" @submit=${(e: Event) => e.preventDefault()} aria-label="${form.title} settings">
        ${(Object.entries(form.schema) as [string, FieldSpec][]).map(([name, spec]) => this.#field(name, spec, byField.get(name)))}
      </form>
      ${other.length
        ? html`<ul class="form-errors error small" role="alert">
            ${other.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}
          </ul>`
        : nothing}`;
  }

  static override styles = [
    sharedStyles,
    css`
      .fields {
        display: grid;
        gap: 10px 16px;
        grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
      }
      .field {
        display: flex;
        flex-direction: column;
        gap: 2px;
        min-width: 0;
      }
      .field label {
        font-weight: 600;
        font-size: 0.9rem;
      }
      .field.bool {
        flex-direction: row;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px;
      }
      .field.bool label {
        order: 2;
      }
      .field.bool input {
        order: 1;
      }
      .field.bool .doc,
      .field.bool .field-error {
        order: 3;
        flex-basis: 100%;
      }
      .doc {
        line-height: 1.3;
      }
      .form-errors {
        margin: 10px 0 0;
        padding-left: 18px;
      }
    `,
  ];
}

customElements.define('kl-kernel-form', KernelForm);

declare global {
  interface HTMLElementTagNameMap {
    'kl-kernel-form': KernelForm;
  }
}
