// Golden-file metadata values, read in the one strict number grammar (src/io/numbers.ts) by every family's
// fromGolden: `8` is an integer, `8.0`, `+8`, `0x8` and ` 8 ` are not; `0.125` and `1e-06` are decimals,
// `inf` only where a field means something by it; a value that would round to 0 or to infinity is refused.
// Every refusal is a ConfigError naming the key and quoting the text, so verify prints one line per case.
import { ConfigError } from '../../gpu/errors.ts';
import { NumberFormatError, parseDecimal, parseInteger } from '../../io/numbers.ts';
import { quote } from '../../io/printable.ts';

export type Metadata = Record<string, string>;

function refuse(key: string, message: string): never {
  throw new ConfigError([{ field: key, message }]);
}

/** The key's text, or `undefined` when absent and a default exists; absent without a default is refused. */
function text(meta: Metadata, key: string, hasDefault: boolean): string | undefined {
  const raw = Object.hasOwn(meta, key) ? meta[key] : undefined;
  if (raw === undefined && !hasDefault) refuse(key, 'missing from the golden metadata');
  return raw;
}

function parsed(key: string, parse: () => number): number {
  try {
    return parse();
  } catch (e) {
    if (e instanceof NumberFormatError) refuse(key, `metadata ${e.message}`);
    throw e;
  }
}

/** An integer key (`-?[0-9]+`) at least `min`; `fallback` when absent (else required). */
export function metaInt(meta: Metadata, key: string, o: { min: number; fallback?: number }): number {
  const raw = text(meta, key, o.fallback !== undefined);
  if (raw === undefined) return o.fallback!;
  const v = parsed(key, () => parseInteger(raw));
  if (v < o.min) refuse(key, `metadata ${quote(raw)} must be an integer >= ${o.min}`);
  return v;
}

/**
 * A decimal key: `positive` refuses 0 (a scale), else at least 0. `inf` is taken only where the caller
 * says what it means, as `infAs` (capacity_factor inf = no capacity limit).
 */
export function metaNumber(meta: Metadata, key: string, o: { positive?: boolean; fallback?: number; infAs?: number }): number {
  const raw = text(meta, key, o.fallback !== undefined);
  if (raw === undefined) return o.fallback!;
  const v = parsed(key, () => parseDecimal(raw, { allowInf: o.infAs !== undefined }));
  if (v === Infinity) return o.infAs!;
  if (o.positive ? !(v > 0) : !(v >= 0)) refuse(key, `metadata ${quote(raw)} must be ${o.positive ? 'a positive' : 'a non-negative'} decimal`);
  return v;
}

/** A flag key written "0" or "1". */
export function metaBool(meta: Metadata, key: string, fallback?: boolean): boolean {
  const raw = text(meta, key, fallback !== undefined);
  if (raw === undefined) return fallback!;
  if (raw !== '0' && raw !== '1') refuse(key, `metadata must be "0" or "1", got ${quote(raw)}`);
  return raw === '1';
}

/** One of `values`, exactly (no case folding, no padding). */
export function metaEnum<V extends string>(meta: Metadata, key: string, values: readonly V[], fallback?: V): V {
  const raw = text(meta, key, fallback !== undefined);
  if (raw === undefined) return fallback!;
  if (!(values as readonly string[]).includes(raw)) refuse(key, `metadata must be one of ${values.join(', ')}, got ${quote(raw)}`);
  return raw as V;
}
