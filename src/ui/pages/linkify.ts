// Source strings ("Xiao et al. 2023, ...; https://...") as text with their http(s) URLs made links. Pieces
// go through Lit's text and attribute bindings, so nothing in a string can become markup.
import { html, type TemplateResult } from 'lit';

const URL_RE = /https?:\/\/[^\s;)]+/g;

export function linkify(text: string): (string | TemplateResult)[] {
  const out: (string | TemplateResult)[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,]+$/, '');
    out.push(text.slice(last, m.index));
    out.push(html`<a href=${url} target="_blank" rel="noopener noreferrer">${url}</a>`);
    last = m.index + url.length;
  }
  out.push(text.slice(last));
  return out;
}
