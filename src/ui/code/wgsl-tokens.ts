// WGSL source -> lines of highlighted segments, from Prism's tokenizer (Prism ships a WGSL grammar). The
// segments are rendered by Lit as text nodes in classed spans: no HTML string is ever built, so highlighted
// code runs under the site's CSP and cannot inject markup.
import './prism-manual.ts';
import Prism from 'prismjs';
import 'prismjs/components/prism-wgsl.js';

export interface Segment {
  text: string;
  /** Prism token types (and aliases), outermost first; empty for plain text. */
  classes: string[];
}

function flatten(stream: Prism.TokenStream, classes: string[], out: Segment[]) {
  if (typeof stream === 'string') {
    out.push({ text: stream, classes });
    return;
  }
  if (Array.isArray(stream)) {
    for (const s of stream) flatten(s, classes, out);
    return;
  }
  const t = stream as Prism.Token;
  const alias = t.alias ? (Array.isArray(t.alias) ? t.alias : [t.alias]) : [];
  flatten(t.content, [...classes, t.type, ...alias], out);
}

/** One array of segments per source line (a segment never spans a newline). */
export function highlightWgsl(source: string): Segment[][] {
  const grammar = Prism.languages.wgsl;
  if (!grammar) throw new Error('Prism has no WGSL grammar loaded');
  const segments: Segment[] = [];
  flatten(Prism.tokenize(source, grammar), [], segments);
  const lines: Segment[][] = [[]];
  for (const seg of segments) {
    const parts = seg.text.split('\n');
    parts.forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p) lines.at(-1)!.push({ text: p, classes: seg.classes });
    });
  }
  return lines;
}
