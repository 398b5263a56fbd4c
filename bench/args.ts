// Command-line flags for the CLIs: declared once as a spec (type, bounds, help), parsed strictly. Every
// refusal is one line naming the flag and what it accepts; --help is generated from the same spec.
import { parseDecimal, parseInteger } from '../src/io/numbers.ts';
import { quote } from '../src/io/printable.ts';
import type { ConfigValue, FieldSpec } from '../src/kernels/contract.ts';
export type FlagSpec =
  | { type: 'string'; help: string; default?: string; placeholder?: string }
  | { type: 'int'; help: string; default?: number; min: number; max: number }
  | { type: 'number'; help: string; default?: number; min: number; max: number }
  | { type: 'bool'; help: string }
  | { type: 'enum'; help: string; values: readonly string[]; default?: string }
  | { type: 'list'; help: string; placeholder?: string };

export type FlagValue<S extends FlagSpec> = S extends { type: 'int' | 'number' }
  ? number
  : S extends { type: 'bool' }
    ? boolean
    : S extends { type: 'list' }
      ? string[]
      : string;

export type ParsedFlags<T extends Record<string, FlagSpec>> = { [K in keyof T]: FlagValue<T[K]> | undefined };

export class ArgError extends Error {
  override name = 'ArgError';
}

export interface Parsed<T extends Record<string, FlagSpec>> {
  flags: ParsedFlags<T>;
  positionals: string[];
  help: boolean;
}

export function parseArgs<T extends Record<string, FlagSpec>>(argv: readonly string[], spec: T): Parsed<T> {
  const flags: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec)) {
    if ('default' in s && s.default !== undefined) flags[name] = s.default;
    if (s.type === 'bool') flags[name] = false;
  }
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const s = spec[name];
    if (!s) throw new ArgError(`unknown flag --${name} (flags: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    if (s.type === 'bool') {
      if (eq > 0) throw new ArgError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let raw: string | undefined = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) throw new ArgError(`--${name} needs a value (${describe(s)})`);
    flags[name] = convert(name, s, raw);
  }
  return { flags: flags as ParsedFlags<T>, positionals, help };
}

function convert(name: string, s: FlagSpec, raw: string): unknown {
  switch (s.type) {
    case 'string':
      if (!raw) throw new ArgError(`--${name} must not be empty`);
      return raw;
    case 'int':
    case 'number': {
      let v: number;
      try {
        v = s.type === 'int' ? parseInteger(raw) : parseDecimal(raw);
      } catch (e) {
        throw new ArgError(`--${name}: ${(e as Error).message}`);
      }
      if (v < s.min || v > s.max) throw new ArgError(`--${name} must be between ${s.min} and ${s.max}, got ${v}`);
      return v;
    }
    case 'enum':
      return checkEnum(name, s.values, raw);
    case 'list': {
      const items = raw.split(',').map((x) => x.trim()).filter(Boolean);
      if (items.length === 0) throw new ArgError(`--${name} needs at least one comma-separated item`);
      return items;
    }
    case 'bool':
      return true;
  }
}

/** An enum flag's value, for a CLI whose choices load only after parsing (`bench --study`): the enum refusal. */
export function checkEnum(name: string, values: readonly string[], raw: string): string {
  if (!values.includes(raw)) throw new ArgError(`--${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw;
}

function describe(s: FlagSpec): string {
  switch (s.type) {
    case 'int':
    case 'number':
      return `${s.type === 'int' ? 'an integer' : 'a number'} from ${s.min} to ${s.max}`;
    case 'enum':
      return `one of ${s.values.join(', ')}`;
    case 'list':
      return 'a comma-separated list';
    default:
      return 'a value';
  }
}

/** For CLIs that take no positional arguments: a stray word (`--set T=3 S=7`, `-- attention`) is a typo, not ignored. */
export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length) throw new ArgError(`unexpected argument ${quote(positionals[0]!)} (flags take the form --name value; lists are comma-separated: --set T=3,S=7)`);
}

/**
 * Flags generated from a config schema (`names`: flag -> field): help, default and limits are the field's, so
 * --help shows exactly the bounds the parser and the schema's own check enforce.
 */
export function flagsFromSchema<F extends string>(schema: Record<string, FieldSpec>, names: Record<F, string>): Record<F, FlagSpec> {
  const out = {} as Record<F, FlagSpec>;
  for (const [flag, field] of Object.entries(names) as [F, string][]) {
    const f = schema[field];
    if (!f) throw new Error(`flag --${flag} names no field ${field}`);
    const help = f.doc ? `${f.label}: ${f.doc}` : f.label;
    out[flag] =
      f.type === 'bool'
        ? { type: 'bool', help }
        : f.type === 'enum'
          ? { type: 'enum', help, values: f.values, default: f.default }
          : f.type === 'text'
            ? { type: 'string', help, default: f.default, placeholder: f.placeholder }
            : { type: f.type, help, default: f.default, min: f.min, max: f.max };
  }
  return out;
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const ph = s.type === 'bool' ? '' : ` ${'placeholder' in s && s.placeholder ? s.placeholder : s.type === 'enum' ? s.values.join('|') : s.type.toUpperCase()}`;
    const range = s.type === 'int' || s.type === 'number' ? `${s.min} to ${s.max}` : '';
    const dflt = 'default' in s && s.default !== undefined ? `default ${s.default}` : '';
    const def = range || dflt ? ` (${[range, dflt].filter(Boolean).join(', ')})` : '';
    return [`--${name}${ph}`, `${s.help}${def}`];
  });
  const w = Math.max(...rows.map((r) => r[0]!.length));
  return [usage, '', ...rows.map(([a, b]) => `  ${a!.padEnd(w)}  ${b}`), `  ${'--help'.padEnd(w)}  this text`].join('\n');
}

/**
 * Parse `k=v,k2=v2` against the fields they set: each key must be one of `fields` (else the refusal lists
 * them), each value is read by its field's type in the one strict grammar (an int field takes `8`, not `8.0`
 * or `0x8`). `owner` names whose fields they are: "attention.naive", "any registered kernel".
 */
export function parseAssignments(flag: string, items: string[], fields: Record<string, FieldSpec>, owner: string): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ArgError(`--${flag} expects field=value pairs, got ${quote(item)}`);
    const k = item.slice(0, eq);
    const v = item.slice(eq + 1);
    if (!Object.hasOwn(fields, k)) throw new ArgError(`--${flag}: ${quote(k)} is not a field of ${owner} (fields: ${Object.keys(fields).join(', ')})`);
    if (Object.hasOwn(out, k)) throw new ArgError(`--${flag} sets ${quote(k)} twice`);
    const spec = fields[k]!;
    try {
      if (spec.type === 'int') out[k] = parseInteger(v);
      else if (spec.type === 'number') out[k] = parseDecimal(v);
      else if (spec.type === 'bool') {
        if (v !== 'true' && v !== 'false') throw new Error(`${quote(v)} is not true or false`);
        out[k] = v === 'true';
      } else if (spec.type === 'text') {
        out[k] = v;
      } else {
        if (!spec.values.includes(v)) throw new Error(`${quote(v)} is not one of ${spec.values.join(', ')}`);
        out[k] = v;
      }
    } catch (e) {
      throw new ArgError(`--${flag} ${k}: ${(e as Error).message}`);
    }
  }
  return out;
}
