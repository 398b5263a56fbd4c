// <kl-wgsl-source>: every registered kernel's listed WGSL files exist and every formula link still finds
// its lines; the source is highlighted as classed text (no HTML strings, so the CSP holds), and choosing a
// formula marks exactly the lines that implement it.
import { afterEach, describe, expect, it } from 'vitest';
import { KERNELS } from '../../kernels/registry.ts';
import { LESSONS } from '../pages/lessons.ts';
import { FAMILY_PAGES } from '../pages/family-pages.ts';
import { mount, q, qa, settle, text, unmountAll, until } from '../testing.ts';
import { KERNEL_SOURCES, loadShader, matchingLines, shaderFiles } from './kernel-sources.ts';
import { highlightWgsl } from './wgsl-tokens.ts';
import { WgslSource, lineRanges } from './wgsl-source.ts';

afterEach(unmountAll);

describe('kernel sources', () => {
  it('lists WGSL for every technique kernel, files that exist, links that find lines of formulas the page has', async () => {
    const pageOf = (family: string) => Object.values(FAMILY_PAGES).find((p) => p.family === family);
    for (const k of KERNELS.filter((k) => pageOf(k.family))) {
      const src = KERNEL_SOURCES[k.id];
      expect(src, k.id).toBeDefined();
      for (const f of src!.files) expect(shaderFiles(), `${k.id}: ${f}`).toContain(f);
      const labels = pageOf(k.family)!.lesson.formulas.map((f) => f.label);
      for (const l of src!.links) {
        expect(labels, `${k.id}: ${l.formula}`).toContain(l.formula);
        expect(src!.files, `${k.id}: ${l.file}`).toContain(l.file);
        expect(matchingLines(await loadShader(l.file), l.pattern).length, `${k.id}: ${l.formula} in ${l.file}`).toBeGreaterThan(0);
      }
    }
  });

  it('highlights WGSL into lines of classed segments that rebuild the source exactly', async () => {
    const text = await loadShader('lib/online-softmax.wgsl');
    const lines = highlightWgsl(text);
    expect(lines.map((l) => l.map((s) => s.text).join('')).join('\n')).toBe(text);
    const classes = new Set(lines.flat().flatMap((s) => s.classes));
    for (const c of ['comment', 'keyword', 'builtin']) expect(classes).toContain(c);
    expect(lineRanges([3, 10, 11, 12, 40])).toBe('3, 10–12, 40');
  });
});

describe('<kl-wgsl-source>', () => {
  it('shows the kernel\'s files highlighted and marks the lines of a chosen formula', async () => {
    const s = new WgslSource();
    s.kernel = 'attention.flash_decode';
    s.lesson = LESSONS.dense;
    await mount(s);
    await until(() => qa(s, 'pre.code .line').length > 10, 'the source');
    await settle(s);
    expect(qa(s, '.token.keyword').length).toBeGreaterThan(5);
    expect(s.shadowRoot!.querySelector('pre [style]')).toBeNull();
    const button = q<HTMLButtonElement>(s, 'button[data-formula="online softmax, per key tile j"]');
    const want = matchingLines(await loadShader('attention/flash-decode.wgsl'), KERNEL_SOURCES['attention.flash_decode']!.links[0]!.pattern);
    expect(text(button.parentElement!)).toContain(`attention/flash-decode.wgsl lines ${lineRanges(want)}`);
    button.click();
    await settle(s);
    expect(qa(s, '.line.hit').map((l) => Number(l.dataset.line))).toEqual(want);
    expect(button.getAttribute('aria-pressed')).toBe('true');
  });
});
