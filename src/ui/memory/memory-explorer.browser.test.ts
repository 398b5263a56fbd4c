// <kl-memory-explorer> without a GPU: a real model's KV cache per layout from its config (bytes per token,
// each kind of layer, DeepSeek-V3.2's records and indexer keys, bars to scale, sizing), its settings
// rendered by the kernel form (same messages, same URL sync); the measured part says it needs WebGPU.
// Every expected number is computed here from the config values, not read from the code under test.
import type { ChartSpec } from '../charts/line-chart.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { checkField } from '../../kernels/common/validate.ts';
import { int } from '../../memory/report.ts';
import { mount, q, qa, settle, text, type, unmountAll } from '../testing.ts';
import { MemoryExplorer } from './memory-explorer.ts';
import { MEMORY_SCHEMA } from './memory-settings.ts';
import { TechniquePage } from '../pages/technique-page.ts';

afterEach(unmountAll);

const K128 = 131072;
const cells = (tr: Element) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.replace(/\s+/g, ' ').trim());
const rowsOf = (m: MemoryExplorer) => qa(m, 'table[data-memory="formulas"] tbody tr').map(cells);
const row = (m: MemoryExplorer, start: string) => {
  const r = rowsOf(m).find((x) => x[0]!.startsWith(start));
  if (!r) throw new Error(`no row ${start}: ${rowsOf(m).map((x) => x[0]).join(' | ')}`);
  return r;
};
const field = <T extends HTMLInputElement | HTMLSelectElement>(m: MemoryExplorer, name: string) => q<T>(m, 'kl-kernel-form', `#f-${name}`);
const fieldError = (m: MemoryExplorer, name: string) => text(q(m, 'kl-kernel-form', `[data-field="${name}"] .field-error`));
const GiB = (n: number) => `${(n / 1024 ** 3).toFixed(n / 1024 ** 3 >= 100 ? 0 : 1)} GiB`;

async function show(params: string): Promise<MemoryExplorer> {
  const m = await mount(new MemoryExplorer());
  m.applyParams(new URLSearchParams(params));
  await settle(m);
  return m;
}

describe('<kl-memory-explorer>', () => {
  it('DeepSeek-V3.2 at 128K: the bf16 latent (576·2 B), the 656-B FP8 record and the 132-B indexer keys, with formulas and sources', async () => {
    const m = await show('');
    expect(field<HTMLSelectElement>(m, 'model').value).toBe('deepseek-v3.2');
    const latent = row(m, '★ MLA latent (bf16) + DSA indexer');
    expect(latent[2]).toBe(int((1152 + 132) * 61));
    expect(latent[3]).toBe(GiB((1152 + 132) * 61 * K128));
    const fp8 = row(m, 'MLA FP8 record + DSA indexer');
    expect(fp8[2]).toBe(int((656 + 132) * 61));
    expect(row(m, '+ DSA indexer key')[2]).toBe(int(132 * 61));
    const dsa = q(m, '[data-memory="dsa"]');
    expect(text(q(dsa, '[data-dsa="mla"]'))).toContain(`(d_c + d_rope)·b = (512 + 64)·2 = 1,152 B per layer, × 61 = ${int(1152 * 61)} B per token`);
    expect(text(q(dsa, '[data-dsa="mla-fp8"]'))).toContain(`d_c·1 + ⌈d_c/128⌉·4 + d_rope·2 = 512·1 + 4·4 + 64·2 = 656 B per layer, × 61 = ${int(656 * 61)} B per token`);
    expect(text(q(dsa, '[data-dsa="mla-fp8"]'))).toContain('github.com/deepseek-ai/FlashMLA');
    expect(text(q(dsa, '[data-dsa="indexer"]'))).toContain(`d_i·1 + ⌈d_i/128⌉·4 = 128·1 + 1·4 = 132 B per layer, × 61 = ${int(132 * 61)} B per token`);
    expect(text(q(dsa, '[data-dsa="indexer"]'))).toContain('DeepSeek-V3.2-Exp/blob/main/inference/model.py');
    expect(text(m)).toContain('Needs WebGPU');
  });

  it('the MLA record field makes the FP8 record the cache in use, and is refused for a model without the indexer', async () => {
    const m = await show('');
    const changes: number[] = [];
    m.addEventListener('settings-change', () => changes.push(1));
    type(field<HTMLSelectElement>(m, 'record'), 'fp8');
    await settle(m);
    expect(changes).toHaveLength(1);
    expect(row(m, '★ MLA FP8 record')[2]).toBe(int((656 + 132) * 61));
    expect(rowsOf(m).filter((r) => r[0]!.startsWith('★'))).toHaveLength(1);
    const p = new URLSearchParams();
    m.writeParams(p);
    expect(p.get('record')).toBe('fp8');
    type(field<HTMLSelectElement>(m, 'model'), 'deepseek-v3');
    await settle(m);
    expect(fieldError(m, 'record')).toMatch(/^the FP8 record is FlashMLA's sparse-decode format for models with the DSA indexer \(DeepSeek-V3\.2\); DeepSeek-V3 has none$/);
    expect(qa(m, 'table')).toHaveLength(0);
  });

  it('gpt-oss-120b and Gemma 3 27B: one row per kind of layer under the total', async () => {
    const oss = await show('model=gpt-oss-120b');
    // 18 global layers of 2·8·64·2 B keep 131,072 tokens, 18 windowed layers keep 128.
    expect(row(oss, '★ GQA (n_kv = 8), 18 windowed (w = 128) + 18 global layers')[3]).toBe(GiB(18 * 2048 * K128 + 18 * 2048 * 128));
    expect(row(oss, '+ global layers')).toEqual(['+ global layers', '2·n_kv·d_h·b = 2·8·64·2 × 18', int(18 * 2048), GiB(18 * 2048 * K128), '']);
    expect(row(oss, '+ windowed layers (w = 128)')).toEqual(['+ windowed layers (w = 128)', '2·n_kv·d_h·b = 2·8·64·2 × 18, last 128 tokens', int(18 * 2048), '4.5 MiB', '']);
    unmountAll();
    const gemma = await show('model=gemma-3-27b');
    expect(row(gemma, '★ GQA (n_kv = 16), 52 windowed (w = 1024) + 10 global layers')[3]).toBe(GiB(10 * 8192 * K128 + 52 * 8192 * 1024));
    expect(row(gemma, '+ global layers')[3]).toBe(GiB(10 * 8192 * K128));
    expect(row(gemma, '+ windowed layers (w = 1024)')[3]).toBe(`${Math.round((52 * 8192 * 1024) / 1024 ** 2)} MiB`);
  });

  it('bars on a linear scale: widths proportional to each total, the 57x gap of MLA against MHA drawn as one', async () => {
    const m = await show('model=deepseek-v3');
    const bars = qa(m, '[data-memory="bars"] [data-bar]');
    const width = (name: string) => Number(q(bars.find((b) => b.dataset.bar === name)!, '.bar').dataset.width);
    expect(width('MHA (equivalent)')).toBe(100);
    expect(width('MLA')).toBeCloseTo((100 * 576) / (2 * 128 * 128), 9);
    expect(text(bars.find((b) => b.dataset.bar === 'MLA')!)).toContain(`${((2 * 128 * 128) / 576).toFixed(0)}x smaller`);
    // The bar's painted width follows the number (an SVG width attribute: no inline style under the CSP).
    const mlaBar = q(bars.find((b) => b.dataset.bar === 'MLA')!, '.bar');
    const track = mlaBar.parentElement!;
    expect(mlaBar.getBoundingClientRect().width / track.getBoundingClientRect().width).toBeCloseTo(576 / (2 * 128 * 128), 2);
    expect(qa(m, '[style]'), 'no inline style attribute (the CSP blocks them)').toHaveLength(0);
    const chart = q(m, 'kl-line-chart') as HTMLElement & { spec: ChartSpec };
    expect(chart.spec.series.length).toBeGreaterThanOrEqual(4);
  });

  it('fields come from the schema with the kernel forms\' messages, and a bad value is refused inline', async () => {
    const m = await show('');
    type(field<HTMLInputElement>(m, 'context'), '0');
    await settle(m);
    expect(fieldError(m, 'context')).toBe(checkField('context', MEMORY_SCHEMA.context, 0)!.message);
    expect(fieldError(m, 'context')).toBe('0 is below the minimum 1');
    expect(field(m, 'context').getAttribute('aria-invalid')).toBe('true');
    expect(qa(m, 'table')).toHaveLength(0);
    const p = new URLSearchParams();
    m.writeParams(p);
    expect(p.get('context')).toBe('0');
    // A link with a bad value keeps it and says why, like the kernel forms.
    unmountAll();
    const bad = await show('batch=2.5&gpus=0');
    expect(fieldError(bad, 'batch')).toBe('"2.5" is not an integer (digits only, e.g. 8)');
    expect(fieldError(bad, 'gpus')).toBe('0 is below the minimum 1');
  });

  it('reads its settings from a link and scales the totals with the batch', async () => {
    const m = await show('model=qwen3-235b-a22b&cache=f32&context=4096&batch=8');
    expect(field<HTMLSelectElement>(m, 'model').value).toBe('qwen3-235b-a22b');
    expect(field<HTMLSelectElement>(m, 'cache').value).toBe('f32');
    // GQA 2·4·128·4 B x 94 layers x 4,096 tokens x 8 sequences.
    expect(row(m, '★ GQA')[3]).toBe(GiB(2 * 4 * 128 * 4 * 94 * 4096 * 8));
  });

  it('the page\'s preset picks the explorer\'s model', async () => {
    const m = await show('');
    m.usePreset('gemma-3-27b');
    await settle(m);
    expect(field<HTMLSelectElement>(m, 'model').value).toBe('gemma-3-27b');
    m.usePreset('not-a-model');
    await settle(m);
    expect(field<HTMLSelectElement>(m, 'model').value).toBe('gemma-3-27b');
  });

  it('on the MLA page, choosing a model preset in the form shows that model in the explorer', async () => {
    const page = new TechniquePage();
    page.page = 'mla';
    await mount(page);
    await settle(page);
    const picker = q<HTMLSelectElement>(page, 'kl-preset-picker', 'select');
    type(picker, 'kimi-k2');
    await settle(page);
    const m = q<MemoryExplorer>(page, 'kl-memory-explorer');
    expect(field<HTMLSelectElement>(m, 'model').value).toBe('kimi-k2');
    expect(page.writeParams().get('model')).toBe('kimi-k2');
  });
});
