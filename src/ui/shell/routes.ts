// The URL holds the page and its settings, so a link reproduces a setup:
//   #/dense?kernel=attention.flash_decode&S=4096&Hq=32&Hkv=8&D=128&sweep=1024,2048,4096
// Hash routing keeps the site static (any file server, no rewrite rules).

export const PAGES = [
  { id: 'overview', label: 'Overview' },
  { id: 'dense', label: 'Dense attention' },
  { id: 'mla', label: 'MLA & KV cache' },
  { id: 'sparse', label: 'Sparse attention' },
  { id: 'moe', label: 'MoE routing' },
  { id: 'layer', label: 'Decoder layer' },
  { id: 'benchmarks', label: 'Benchmarks' },
  { id: 'sources', label: 'Sources' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

export interface Route {
  page: PageId;
  params: URLSearchParams;
}

export function isPageId(x: string): x is PageId {
  return PAGES.some((p) => p.id === x);
}

/** "#/dense?S=64" -> { page: 'dense', params: S=64 }; anything unknown is the overview. */
export function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = decodeURIComponent(q < 0 ? body : body.slice(0, q));
  const params = new URLSearchParams(q < 0 ? '' : body.slice(q + 1));
  return { page: isPageId(path) ? path : 'overview', params };
}

export function formatHash(page: PageId, params?: URLSearchParams): string {
  const q = params?.toString();
  return `#/${page}${q ? `?${q}` : ''}`;
}

/** Replace the current URL's settings without adding a history entry (every keystroke would otherwise). */
export function replaceRoute(page: PageId, params: URLSearchParams): void {
  const hash = formatHash(page, params);
  if (location.hash !== hash) history.replaceState(history.state, '', hash);
}
