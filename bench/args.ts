// Command-line flags for the CLIs: declared once as a spec (type, bounds, help), parsed strictly. Every
// refusal is one line naming the flag and what it accepts; --help is generated from the same spec.
import { parseDecimal, parseInteger } from '../src/io/numbers.ts';
import { quote } from '../src/io/printable.ts';
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
      if (!s.values.includes(raw)) throw new ArgError(`--${name} must be one of ${s.values.join(', ')}, got "${raw}"`);
      return raw;
    case 'list': {
      const items = raw.split(',').map((x) => x.trim()).filter(Boolean);
      if (items.length === 0) throw new ArgError(`--${name} needs at least one comma-separated item`);
      return items;
    }
    case 'bool':
      return true;
  }
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

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const ph = s.type === 'bool' ? '' : ` ${'placeholder' in s && s.placeholder ? s.placeholder : s.type === 'enum' ? s.values.join('|') : s.type.toUpperCase()}`;
    const def = 'default' in s && s.default !== undefined ? ` (default ${s.default})` : '';
    return [`--${name}${ph}`, `${s.help}${def}`];
  });
  const w = Math.max(...rows.map((r) => r[0]!.length));
  return [usage, '', ...rows.map(([a, b]) => `  ${a!.padEnd(w)}  ${b}`), `  ${'--help'.padEnd(w)}  this text`].join('\n');
}

/** Parse `k=v,k2=v2` into typed values (numbers, true/false, strings). */
export function parseAssignments(flag: string, items: string[]): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ArgError(`--${flag} expects field=value pairs, got "${item}"`);
    const k = item.slice(0, eq);
    const v = item.slice(eq + 1);
    // Numbers in the one strict grammar (`0x8`, ` 8 `, `+8` stay text, and the field check refuses them).
    let value: number | string | boolean = v;
    if (v === 'true' || v === 'false') value = v === 'true';
    else {
      try {
        value = parseDecimal(v);
      } catch {
        value = v;
      }
    }
    if (k in out) throw new ArgError(`--${flag} sets ${quote(k)} twice`);
    out[k] = value;
  }
  return out;
}
