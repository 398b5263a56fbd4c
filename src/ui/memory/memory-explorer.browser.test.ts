// <kl-memory-explorer> without a GPU: a real model's KV cache per layout from its config (bytes per token,
// totals, ratio to MHA, chart), its settings validated inline; the measured part says it needs WebGPU.
import type { ChartSpec } from '../charts/line-chart.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { findPreset } from '../../models/presets.ts';
import { int } from '../../memory/report.ts';
import { mount, q, qa, settle, text, type, unmountAll } from '../testing.ts';
import { MemoryExplorer } from './memory-explorer.ts';

afterEach(unmountAll);

const rowsOf = (m: MemoryExplorer) => qa(m, 'table[data-memory="formulas"] tbody tr').map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()));

describe('<kl-memory-explorer>', () => {
  it("DeepSeek-V3's latent cache: (d_c + d_rope) x layers x 2 bytes per token, against MHA with the same heads", async () => {
    const m = await mount(new MemoryExplorer());
    const a = findPreset('deepseek-v3')!.arch;
    const mla = (a.mla!.kvLoraRank + a.mla!.qkRopeHeadDim) * a.layers * 2;
    const mha = 2 * a.heads * a.mla!.qkNopeHeadDim * a.layers * 2;
    const rows = rowsOf(m);
    const mlaRow = rows.find((r) => r[0]!.startsWith('★ MLA'))!;
    const mhaRow = rows.find((r) => r[0]!.startsWith('MHA'))!;
    expect(mlaRow[2]).toBe(int(mla));
    expect(mhaRow[2]).toBe(int(mha));
    expect(mhaRow[4]).toBe('100.0%');
    expect(text(q(m, '[data-memory="headline"]'))).toContain(`${int(mla)} bytes/token`);
    const chart = q(m, 'kl-line-chart') as HTMLElement & { spec: ChartSpec };
    // Bytes vs context for every layout, all finite and positive on the log axis.
    expect(chart.spec.logY).toBe(true);
    expect(chart.spec.series.length).toBeGreaterThanOrEqual(4);
    for (const s of chart.spec.series) expect(s.values.every((v) => v === null || (Number.isFinite(v) && v > 0)), s.label).toBe(true);
    expect(text(m)).toContain('Needs WebGPU');
  });

  it('scales the totals with context and batch, and refuses a bad value inline', async () => {
    const m = await mount(new MemoryExplorer());
    const changes: number[] = [];
    m.addEventListener('settings-change', () => changes.push(1));
    const total = () => rowsOf(m).find((r) => r[0]!.startsWith('★ MLA'))![3];
    const before = total();
    type(q<HTMLInputElement>(m, '#m-batch'), '2');
    await settle(m);
    expect(total()).not.toBe(before);
    expect(changes).toHaveLength(1);
    type(q<HTMLInputElement>(m, '#m-context'), '0');
    await settle(m);
    expect(text(q(m, '.field:has(#m-context) .error'))).toBe('0 is below the minimum 1');
    expect(q(m, '#m-context').getAttribute('aria-invalid')).toBe('true');
    expect(qa(m, 'table')).toHaveLength(0);
    const p = new URLSearchParams();
    m.writeParams(p);
    expect(p.get('context')).toBe('0');
  });

  it('reads its settings from a link', async () => {
    const m = await mount(new MemoryExplorer());
    m.applyParams(new URLSearchParams('model=qwen3-235b-a22b&cache=f32&context=4096&batch=8'));
    await settle(m);
    expect(q<HTMLSelectElement>(m, '#m-model').value).toBe('qwen3-235b-a22b');
    expect(q<HTMLSelectElement>(m, '#m-cache').value).toBe('f32');
    expect(rowsOf(m).some((r) => r[0]!.startsWith('★ GQA'))).toBe(true);
  });
});
