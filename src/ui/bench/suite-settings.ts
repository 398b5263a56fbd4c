// The Benchmarks page's settings: a schema that <kl-kernel-form> renders with the kernel forms' fields,
// bounds and messages (checkField, the CLI's wording) and url-config writes to the link, plus the suite's
// own rules (kernel ids, overrides as typed). Parsed into the suite filter src/bench/suite.ts takes (the
// CLI's --kernels / --shapes / --set / --warmup / --repeats).
import type { DeviceCaps } from '../../gpu/context.ts';
import { checkField, validateConfig } from '../../kernels/common/validate.ts';
import { defaults, withDefaults, type AnyKernel, type Config, type ConfigSchema, type FieldSpec, type ValidationIssue } from '../../kernels/contract.ts';
import { selectJobs, type SuiteFilter } from '../../bench/suite.ts';
import type { FormSpec } from '../forms/kernel-form.ts';
import { configFromParams, configToParams } from '../forms/url-config.ts';

export const SUITE_SCHEMA = {
  kernels: { type: 'text', label: 'kernels', doc: 'ids or families, comma-separated; empty = all', default: '', placeholder: 'attention, moe.router' },
  shapes: { type: 'text', label: 'shapes containing', doc: 'e.g. decode; empty = every benchmark shape', default: '', placeholder: 'decode' },
  set: { type: 'text', label: 'override fields', doc: 'applied to every selected shape', default: '', placeholder: 'S=1024,T=1' },
  warmup: { type: 'int', label: 'warm-up batches (at least)', doc: 'warm-up is by time anyway: >= 200 ms or two medians within 5%', default: 0, min: 0, max: 100 },
  repeats: {
    type: 'int',
    label: 'timed samples',
    doc: 'each a batch of R runs back to back; 0 = automatic: 30 on a GPU, 3 on CPU emulation (SwiftShader), where a sample takes seconds',
    default: 0,
    min: 0,
    max: 1000,
  },
} satisfies ConfigSchema;

export type SuiteSettings = { kernels: string; shapes: string; set: string; warmup: number; repeats: number };

export const SUITE_DEFAULTS = defaults(SUITE_SCHEMA) as SuiteSettings;

const SCHEMA = { schema: SUITE_SCHEMA };

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
  return configFromParams(SCHEMA, p) as SuiteSettings;
}

export function settingsToParams(s: SuiteSettings): URLSearchParams {
  return configToParams(SCHEMA, s);
}

export function suiteFilter(s: SuiteSettings): SuiteFilter {
  const o = parseOverrides(s.set);
  return { kernels: list(s.kernels), shapes: list(s.shapes), set: o.ok && Object.keys(o.set).length ? o.set : undefined };
}

/**
 * Every setting that is wrong, one message each: the schema's bounds, kernel ids and families, the
 * overrides' field=value syntax; once those hold, an override no selected kernel has, or a value a kernel's
 * schema or rules refuse (S=abc, S=-1) with that kernel's own message, refused as it is typed rather than
 * when the run reaches it.
 */
export function suiteIssues(config: Config, kernels: readonly AnyKernel[], caps: DeviceCaps | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [field, spec] of Object.entries(SUITE_SCHEMA) as [string, FieldSpec][]) {
    const issue = checkField(field, spec, config[field]);
    if (issue) issues.push(issue);
  }
  const s = config as SuiteSettings;
  const text = (f: 'kernels' | 'set') => typeof s[f] === 'string' && !issues.some((i) => i.field === f);
  const unknown = text('kernels') ? list(s.kernels).filter((k) => !kernels.some((def) => def.id === k || def.family === k)) : [];
  if (unknown.length) issues.push({ field: 'kernels', message: `${unknown.map((u) => JSON.stringify(u)).join(', ')} is not a kernel id or family` });
  const o = text('set') ? parseOverrides(s.set) : undefined;
  if (o && !o.ok) issues.push({ field: 'set', message: o.message });
  if (issues.length || !o?.ok || !Object.keys(o.set).length) return issues;
  const filter = suiteFilter(s);
  const selected = kernels.filter((k) => !filter.kernels?.length || filter.kernels.some((f) => k.id === f || k.family === f));
  const missing = Object.keys(o.set).filter((f) => !selected.some((k) => f in k.schema));
  if (missing.length) return [{ field: 'set', message: `${missing.join(', ')} is not a setting of any selected kernel` }];
  for (const job of caps ? selectJobs(kernels, filter) : []) {
    const issue = validateConfig(job.def, withDefaults(job.def, job.shape.config), caps!).find((i) => i.field in o.set);
    if (issue) return [{ field: 'set', message: `${issue.field}=${String(o.set[issue.field])} for ${job.def.id}: ${issue.message}` }];
  }
  return [];
}

/** The form <kl-kernel-form> renders for the suite, validated against these kernels and this device. */
export function suiteForm(kernels: readonly AnyKernel[], caps: DeviceCaps | undefined): FormSpec {
  return { title: 'Benchmark suite', schema: SUITE_SCHEMA, validate: (config) => suiteIssues(config, kernels, caps) };
}
