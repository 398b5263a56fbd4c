// <kl-memory-sizing> and the explorer's sizing fields: weights + cache per layout against N GPUs, the
// largest batch and context, against arithmetic done here from the configs (parameters counted term by term
// for gpt-oss-20b, the published 671B-scale count for V3.2 read from paramCount only for the weights line).
import { afterEach, describe, expect, it } from 'vitest';
import { int } from '../../memory/report.ts';
import { paramCount } from '../../models/params.ts';
import { findPreset } from '../../models/presets.ts';
import { mount, q, qa, settle, text, type, unmountAll } from '../testing.ts';
import { MemoryExplorer } from './memory-explorer.ts';
import { MemorySizing } from './memory-sizing.ts';

afterEach(unmountAll);

const GIB = 1024 ** 3;
const sizingRows = (root: Element) =>
  Object.fromEntries(qa(root, 'table[data-memory="sizing"] tbody tr').map((tr) => [(tr as HTMLElement).dataset.row!, [...tr.querySelectorAll('td')].map((td) => td.textContent!.replace(/\s+/g, ' ').trim())]));

describe('<kl-memory-sizing>', () => {
  it('gpt-oss-20b in MXFP4 on one 16 GiB GPU: weights from the parameters, the largest batch and context per layout', async () => {
    const s = await mount(new MemorySizing());
    s.preset = findPreset('gpt-oss-20b')!;
    s.query = { dtype: 'bf16', context: 8192, batch: 4, record: 'latent', weights: 'mxfp4', gpuGiB: 16, gpus: 1 };
    await settle(s);
    const params = 2 * 201088 * 2880 + 24 * (2880 * 64 * 64 + 2 * 2880 * 8 * 64 + 64 * 64 * 2880) + 24 * (32 * 3 * 2880 * 2880 + 32 * 2880);
    const weights = (params * 4.25) / 8;
    const free = 16 * GIB - weights;
    expect(text(q(s, '[data-sizing="weights"]'))).toContain(`${(params / 1e9).toFixed(1)}B parameters`);
    const rows = sizingRows(s);
    // 12 global layers keep the context, 12 windowed layers 128 tokens, 2·8·64·2 = 2,048 B each per token.
    const native = rows['GQA (n_kv = 8), 12 windowed (w = 128) + 12 global layers']!;
    const perSeq = 12 * 2048 * 8192 + 12 * 2048 * 128;
    expect(native[0]).toBe('★ GQA (n_kv = 8), 12 windowed (w = 128) + 12 global layers');
    expect(native[3]).toBe('yes');
    expect(native[4]).toBe(int(Math.floor(free / perSeq)));
    expect(native[5]).toBe(int(Math.floor((free / 4 - 12 * 2048 * 128) / (12 * 2048))));
    // MHA, every layer global: 2·64·64·2 B x 24 layers per token.
    const mha = rows['MHA']!;
    expect(mha[4]).toBe(int(Math.floor(free / (2 * 64 * 64 * 2 * 24 * 8192))));
  });

  it('says when the weights alone do not fit, and every layout then fits nothing', async () => {
    const s = await mount(new MemorySizing());
    s.preset = findPreset('deepseek-v3.2')!;
    s.query = { dtype: 'bf16', context: 131072, batch: 1, record: 'fp8', weights: 'bf16', gpuGiB: 80, gpus: 8 };
    await settle(s);
    expect(text(q(s, '[data-sizing="weights"]'))).toContain('the weights alone do not fit');
    for (const r of Object.values(sizingRows(s))) expect([r[3], r[4], r[5]]).toEqual(['no', '0', 'none']);
  });

  it('in the explorer: DeepSeek-V3.2 FP8 weights on 8 x 80 GiB, the indexer keys in both MLA rows, the GPU count from its field', async () => {
    const m = await mount(new MemoryExplorer());
    await settle(m);
    const weights = paramCount(findPreset('deepseek-v3.2')!).total;
    const sizing = q(m, 'kl-memory-sizing');
    const latent = sizingRows(sizing)['MLA latent (bf16) + DSA indexer']!;
    expect(latent[4]).toBe(int(Math.floor((8 * 80 * GIB - weights) / ((1152 + 132) * 61 * 131072))));
    expect(sizingRows(sizing)['MLA FP8 record + DSA indexer']![4]).toBe(int(Math.floor((8 * 80 * GIB - weights) / ((656 + 132) * 61 * 131072))));
    type(q<HTMLInputElement>(m, 'kl-kernel-form', '#f-gpus'), '16');
    await settle(m);
    expect(sizingRows(q(m, 'kl-memory-sizing'))['MLA latent (bf16) + DSA indexer']![4]).toBe(int(Math.floor((16 * 80 * GIB - weights) / ((1152 + 132) * 61 * 131072))));
  });
});
