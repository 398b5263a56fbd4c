// A kernel config <-> URL settings. Only fields that differ from the schema's defaults are written, so
// links stay short; reading never throws: a value that does not parse is kept as is and shown by the form's
// validation (the same message the CLI gives), never silently replaced by a default. Numbers are read in the
// one grammar the CLI and the golden files use (src/io/numbers.ts): `S=1e3`, `S=0x10`, `S= 5` stay text.
import { parseDecimal, parseInteger } from '../../io/numbers.ts';
import { defaults, type Config, type ConfigSchema, type ConfigValue, type FieldSpec } from '../../kernels/contract.ts';

/** A kernel, or any other view's schema (the KV-cache explorer): only the schema is read. */
type HasSchema = { schema: ConfigSchema };

export function parseFieldValue(spec: FieldSpec, raw: string): ConfigValue | undefined {
  switch (spec.type) {
    case 'int':
    case 'number':
      if (raw === '') return undefined;
      try {
        return spec.type === 'int' ? parseInteger(raw) : parseDecimal(raw);
      } catch {
        return raw;
      }
    case 'bool':
      return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
    case 'enum':
    case 'text':
      return raw;
  }
}

export function configFromParams(def: HasSchema, params: URLSearchParams): Config {
  const config: Config = defaults(def.schema);
  for (const [field, spec] of Object.entries(def.schema) as [string, FieldSpec][]) {
    const raw = params.get(field);
    if (raw === null) continue;
    const v = parseFieldValue(spec, raw);
    if (v === undefined) delete config[field];
    else config[field] = v;
  }
  return config;
}

export function configToParams(def: HasSchema, config: Config, params = new URLSearchParams()): URLSearchParams {
  const base = defaults(def.schema);
  for (const field of Object.keys(def.schema)) {
    const v = config[field];
    if (v === undefined) params.set(field, '');
    else if (v !== base[field]) params.set(field, String(v));
  }
  return params;
}

/** "32,64,128" -> [32, 64, 128] (positive integers in the integer grammar, sorted, unique); undefined when it does not parse. */
export function parseIntList(raw: string | null): number[] | undefined {
  if (!raw) return undefined;
  let xs: number[];
  try {
    // Spaces around the commas separate items; each item itself is digits only.
    xs = raw.split(',').map((s) => parseInteger(s.trim()));
  } catch {
    return undefined;
  }
  if (xs.some((x) => x < 1)) return undefined;
  return [...new Set(xs)].sort((a, b) => a - b);
}
