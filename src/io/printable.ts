// Text from files and flags is printed to terminals: a name holding a newline could forge a `PASS` line, one
// holding an ANSI escape could repaint the screen. Everything a user did not type into this program's
// source goes through one of these before it is printed.

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode line/paragraph separators and
// bidirectional overrides that reorder or break a line on screen.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** `s` with every control character shown as an escape (no quotes added). */
export function printable(s: string): string {
  return String(s).replace(UNSAFE, escapeChar);
}

/** `s` in double quotes, escaped as JSON does plus the characters JSON leaves raw. */
export function quote(s: string): string {
  return JSON.stringify(String(s)).replace(UNSAFE, escapeChar);
}
