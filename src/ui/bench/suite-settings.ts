// The Benchmarks page's settings as the URL holds them, parsed into the suite filter src/bench/suite.ts
// takes (the CLI's --kernels / --shapes / --set / --warmup / --repeats), with one-line messages for
// anything that does not parse.
import type { Config } from '../../kernels/contract.ts';
import type { SuiteFilter } from '../../bench/suite.ts';

export interface SuiteSettings {
  /** Kernel ids or families, comma-separated ("" = all). */
  kernels: string;
  /** Substrings of shape names, comma-separated. */
  shapes: string;
  /** Field overrides "S=1024,T=1". */
  set: string;
  warmup: number;
  repeats: number;
}

export const SUITE_DEFAULTS: SuiteSettings = { kernels: '', shapes: '', set: '', warmup: 2, repeats: 10 };

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function parseOverrides(text: string): { ok: true; set: Config } | { ok: false; message: string } {
  const set: Config = {};
  for (const part of list(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(part);
    if (!m) return { ok: false, message: `"${part}" is not field=value (e.g. S=1024,T=1)` };
    const raw = m[2]!.trim();
    set[m[1]!] = raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return { ok: true, set };
}

export function settingsFromParams(p: URLSearchParams): SuiteSettings {
  const num = (name: string, fallback: number) => {
    const raw = p.get(name);
    return raw === null || raw.trim() === '' ? fallback : Number(raw);
  };
  return {
    kernels: p.get('kernels') ?? SUITE_DEFAULTS.kernels,
    shapes: p.get('shapes') ?? SUITE_DEFAULTS.shapes,
    set: p.get('set') ?? SUITE_DEFAULTS.set,
    warmup: num('warmup', SUITE_DEFAULTS.warmup),
    repeats: num('repeats', SUITE_DEFAULTS.repeats),
  };
}

export function settingsToParams(s: SuiteSettings): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of Object.keys(SUITE_DEFAULTS) as (keyof SuiteSettings)[]) if (s[k] !== SUITE_DEFAULTS[k]) p.set(k, String(s[k]));
  return p;
}

/** Field -> message for every setting that is wrong (same wording as the kernel forms). */
export function settingsIssues(s: SuiteSettings, knownKernels: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const unknown = list(s.kernels).filter((k) => !knownKernels.some((id) => id === k || id.split('.')[0] === k));
  if (unknown.length) out.kernels = `${unknown.map((u) => JSON.stringify(u)).join(', ')} is not a kernel id or family`;
  const o = parseOverrides(s.set);
  if (!o.ok) out.set = o.message;
  const int = (v: number, min: number, max: number) =>
    !Number.isInteger(v) ? `must be an integer, got ${String(v)}` : v < min ? `${v} is below the minimum ${min}` : v > max ? `${v} is above the maximum ${max}` : undefined;
  const w = int(s.warmup, 0, 100);
  if (w) out.warmup = w;
  const r = int(s.repeats, 1, 1000);
  if (r) out.repeats = r;
  return out;
}

export function suiteFilter(s: SuiteSettings): SuiteFilter {
  const o = parseOverrides(s.set);
  return { kernels: list(s.kernels), shapes: list(s.shapes), set: o.ok && Object.keys(o.set).length ? o.set : undefined };
}
