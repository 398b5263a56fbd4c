// One number grammar for everything a user or a file hands us as text (golden metadata, CLI flags):
// integers are `-?[0-9]+` (so "8.0", "4e0", "+8", "0x8", " 8 " are not integers); decimals are what
// Python's repr writes (`0.125`, `1e-06`, `2.5e+20`, `3`), and `inf` only where the caller allows it.
// No hex, no padding, no empty strings, and no text whose value rounds to 0 or to infinity in a double
// (`1e-400` is not 0, it is a typo or an overflow).
import { quote } from './printable.ts';

export class NumberFormatError extends Error {
  override name = 'NumberFormatError';
}

const INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;

/** An integer written as digits (optionally negative), exactly representable. */
export function parseInteger(text: string): number {
  if (typeof text !== 'string' || !INTEGER.test(text)) throw new NumberFormatError(`${quote(String(text))} is not an integer (digits only, e.g. 8)`);
  const v = Number(text);
  if (!Number.isSafeInteger(v)) throw new NumberFormatError(`${quote(text)} is too large to be exact (at most ${Number.MAX_SAFE_INTEGER})`);
  return v === 0 ? 0 : v;
}

/** A decimal as Python's repr writes it; `inf`/`-inf` only with allowInf. */
export function parseDecimal(text: string, opts: { allowInf?: boolean } = {}): number {
  if (typeof text !== 'string') throw new NumberFormatError(`${quote(String(text))} is not a number`);
  if (opts.allowInf && (text === 'inf' || text === '-inf')) return text === 'inf' ? Infinity : -Infinity;
  if (!DECIMAL.test(text)) throw new NumberFormatError(`${quote(text)} is not a decimal number (e.g. 0.125, 1e-06${opts.allowInf ? ', inf' : ''})`);
  const v = Number(text);
  if (!Number.isFinite(v)) throw new NumberFormatError(`${quote(text)} overflows a double (it would be infinite)`);
  // A nonzero digit before the exponent with a zero value means the exponent underflowed.
  if (v === 0 && /[1-9]/.test(text.split(/[eE]/)[0]!)) throw new NumberFormatError(`${quote(text)} underflows a double (it would be 0)`);
  return v === 0 ? 0 : v;
}
