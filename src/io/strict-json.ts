// A JSON parser for headers written by other people's tools: iterative (an explicit stack, so no input can
// overflow the call stack), depth-limited, and strict where JSON.parse is lenient: a duplicate key is an
// error (JSON.parse keeps the last one, so a second "out" would silently replace the first), and numbers
// keep their source text so a caller can tell `3` from `3.0` or `3e0`. Objects come back as Maps, so no
// key (`__proto__` included) can touch a prototype.

export type JsonValue = string | JsonNumber | boolean | null | JsonValue[] | Map<string, JsonValue>;

/** A number as written: `text` is the exact token, `value` its double. */
export class JsonNumber {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

interface Frame {
  container: JsonValue[] | Map<string, JsonValue>;
  /** Key awaiting its value (objects), or undefined. */
  key?: string;
  /** Where this container sits, for the path shown in errors (`"q"."shape"`), built only when one is shown. */
  parent?: Frame;
  at?: string | number;
  /** A top-level member given to onMember when it closes (instead of attached when it opens). */
  handOver?: boolean;
}

function pathOf(frame: Frame | undefined): string {
  const parts: string[] = [];
  for (let f = frame; f?.parent; f = f.parent) parts.push(typeof f.at === 'number' ? `[${f.at}]` : JSON.stringify(f.at));
  return parts.reverse().join('.');
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;

/**
 * Parse `text` as one JSON value nested at most `maxDepth` containers deep. With `onMember`, each member of
 * the top-level object is handed over as soon as it is complete and not kept (the returned Map stays empty),
 * so a caller that turns members into its own records never holds the whole tree: a header of 700k tensor
 * descriptions costs the records, not the records plus the tree.
 */
export function parseStrictJson(text: string, maxDepth: number, onMember?: (key: string, value: JsonValue) => void): JsonValue {
  let i = 0;
  const n = text.length;
  const stack: Frame[] = [];
  let root: JsonValue | undefined;
  /** Keys of the top-level object already handed to onMember (duplicates are still refused). */
  const handed = new Set<string>();
  const where = () => (stack.length ? ` in ${pathOf(stack[stack.length - 1]) || 'the top-level object'}` : '');
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(`${msg} at character ${i}${where()}`);
  };
  const skipWs = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const readString = (): string => {
    // text[i] is the opening quote.
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character inside a string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail('bad escape in a string');
        }
        start = i;
        continue;
      }
      i++;
    }
  };
  /** Attach a finished value to the open container (or make it the root). */
  const attach = (v: JsonValue) => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = v;
      return;
    }
    if (top.container instanceof Map) {
      if (onMember && stack.length === 1) {
        handed.add(top.key!);
        onMember(top.key!, v);
      } else top.container.set(top.key!, v);
      top.key = undefined;
    } else top.container.push(v);
  };
  /** Members of the top-level object reach onMember once complete: a container is attached when it closes. */
  const deferred = () => onMember !== undefined && stack.length === 1;
  const open = (container: JsonValue[] | Map<string, JsonValue>) => {
    if (stack.length >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
    const top = stack[stack.length - 1];
    const at = top ? (top.container instanceof Map ? top.key! : top.container.length) : undefined;
    const later = deferred();
    if (!later) attach(container);
    stack.push({ container, parent: top, at, handOver: later });
  };

  const close = () => {
    const f = stack.pop()!;
    if (f.handOver) {
      // The member's key is the root's pending key again while it is handed over.
      stack[stack.length - 1]!.key = f.at as string;
      attach(f.container);
    }
  };

  skipWs();
  for (;;) {
    // Expect a value.
    skipWs();
    if (i >= n) fail('unexpected end of the header');
    const c = text[i]!;
    if (c === '{') {
      i++;
      open(new Map());
      skipWs();
      if (text[i] === '}') {
        i++;
        close();
      } else {
        readKey();
        continue;
      }
    } else if (c === '[') {
      i++;
      open([]);
      skipWs();
      if (text[i] === ']') {
        i++;
        close();
      } else continue;
    } else if (c === '"') attach(readString());
    else if (text.startsWith('true', i)) (attach(true), (i += 4));
    else if (text.startsWith('false', i)) (attach(false), (i += 5));
    else if (text.startsWith('null', i)) (attach(null), (i += 4));
    else {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) fail(`unexpected ${JSON.stringify(c)}`);
      i += m![0].length;
      attach(new JsonNumber(m![0], Number(m![0])));
    }
    // After a value: close containers or move to the next element.
    for (;;) {
      skipWs();
      const top = stack[stack.length - 1];
      if (!top) {
        if (i < n) fail('text after the end of the header object');
        return root!;
      }
      const isObj = top.container instanceof Map;
      const ch = text[i];
      if (ch === ',') {
        i++;
        if (isObj) readKey();
        break;
      }
      if ((isObj && ch === '}') || (!isObj && ch === ']')) {
        i++;
        close();
        continue;
      }
      fail(ch === undefined ? 'unexpected end of the header' : `expected "," or "${isObj ? '}' : ']'}", got ${JSON.stringify(ch)}`);
    }
  }

  function readKey() {
    skipWs();
    if (text[i] !== '"') fail('expected a quoted key');
    const key = readString();
    const top = stack[stack.length - 1]!;
    const map = top.container as Map<string, JsonValue>;
    if (map.has(key) || (stack.length === 1 && handed.has(key))) fail(`duplicate key ${JSON.stringify(key)}`);
    skipWs();
    if (text[i] !== ':') fail(`expected ":" after key ${JSON.stringify(key)}`);
    i++;
    top.key = key;
  }
}
