// <kl-kernel-form> and <kl-preset-picker>: the form is the kernel's schema (labels, units, bounds), and what
// it says about a bad value is exactly what validateConfig (the CLI's check) says.
import { afterEach, describe, expect, it } from 'vitest';
import { defaults, type Config } from '../../kernels/contract.ts';
import { findKernel } from '../../kernels/registry.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import { MODEL_PRESETS } from '../../models/presets.ts';
import { WEBGPU_DEFAULT_CAPS } from '../device/default-caps.ts';
import { mount, q, qa, settle, text, type, unmountAll } from '../testing.ts';
import { KernelForm, type ConfigChange } from './kernel-form.ts';
import { PresetPicker } from './preset-picker.ts';
import { presetsFor } from './preset-config.ts';

const def = findKernel('attention.flash_decode')!;

async function form(config: Config = defaults(def.schema)): Promise<KernelForm> {
  const f = new KernelForm();
  f.def = def;
  f.config = config;
  f.caps = WEBGPU_DEFAULT_CAPS;
  return mount(f);
}

afterEach(unmountAll);

describe('<kl-kernel-form>', () => {
  it('has one labelled control per schema field, with its bounds', async () => {
    const f = await form();
    const fields = qa(f, '[data-field]');
    expect(fields.map((el) => el.dataset.field)).toEqual(Object.keys(def.schema));
    for (const el of fields) {
      const control = el.querySelector<HTMLInputElement | HTMLSelectElement>('input, select')!;
      expect(control.labels?.[0]?.textContent).toContain((def.schema as Record<string, { label: string }>)[el.dataset.field!]!.label);
      expect(control.getAttribute('aria-invalid')).toBe('false');
    }
    const D = q<HTMLInputElement>(f, 'input[name="D"]');
    expect([D.min, D.max, D.value]).toEqual(['1', '256', '64']);
    expect(text(q(f, '#f-D-doc'))).toContain('1 – 256');
  });

  it('shows validateConfig\'s own message under a field that is out of bounds, and reports the change', async () => {
    const f = await form();
    const changes: ConfigChange[] = [];
    f.addEventListener('config-change', (e) => changes.push((e as CustomEvent<ConfigChange>).detail));
    const D = q<HTMLInputElement>(f, 'input[name="D"]');
    type(D, '300');
    await settle(f);
    const expected = validateConfig(def, { ...defaults(def.schema), D: 300 }, WEBGPU_DEFAULT_CAPS);
    expect(expected.map((i) => i.field)).toEqual(['D']);
    expect(text(q(f, '#f-D-err'))).toBe(expected[0]!.message);
    expect(D.getAttribute('aria-invalid')).toBe('true');
    expect(D.getAttribute('aria-describedby')).toContain('f-D-err');
    expect(changes.at(-1)!.config.D).toBe(300);
    expect(changes.at(-1)!.issues).toEqual(expected);
    // An emptied field is a missing value, not a silent default.
    type(D, '');
    await settle(f);
    expect('D' in changes.at(-1)!.config).toBe(false);
    expect(text(q(f, '#f-D-err'))).toBe(validateConfig(def, { ...defaults(def.schema), D: undefined as never }, WEBGPU_DEFAULT_CAPS)[0]!.message);
  });

  it('lists rules that are not one field (a tensor over the binding limit) below the form', async () => {
    const config = { ...defaults(def.schema), S: 4_194_304 };
    const f = await form(config);
    const expected = validateConfig(def, config, WEBGPU_DEFAULT_CAPS);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.every((i) => !(i.field in def.schema))).toBe(true);
    expect(qa(f, 'ul.form-errors li').map(text)).toEqual(expected.map((i) => `${i.field}: ${i.message}`));
  });

  it('greys out every control while a run holds it', async () => {
    const f = await form();
    f.disabled = true;
    await settle(f);
    expect(qa<HTMLInputElement>(f, 'input, select').every((c) => c.disabled)).toBe(true);
  });
});

describe('<kl-preset-picker>', () => {
  it('offers the presets that set this kernel\'s fields and cites each value', async () => {
    const p = new PresetPicker();
    p.def = def;
    p.presets = MODEL_PRESETS;
    await mount(p);
    const select = q<HTMLSelectElement>(p, 'select');
    const offered = [...select.options].map((o) => o.value);
    expect(offered).toEqual(['', ...presetsFor(def, MODEL_PRESETS).map((m) => m.id)]);
    const picked: string[] = [];
    p.addEventListener('preset-change', (e) => picked.push((e as CustomEvent<string>).detail));
    const qwen = MODEL_PRESETS.find((m) => m.id === 'qwen3-235b-a22b')!;
    type(select, qwen.id);
    await settle(p);
    expect(picked).toEqual([qwen.id]);
    const summary = text(q(p, 'details summary'));
    expect(summary).toContain(`Hq = ${qwen.arch.heads}`);
    expect(summary).toContain(`Hkv = ${qwen.arch.kvHeads}`);
    expect(qa(p, 'details li').length).toBeGreaterThanOrEqual(3);
  });
});
