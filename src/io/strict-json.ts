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
  /** Path shown in errors: `"q"."shape"`. */
  path: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;

/** Parse `text` as one JSON value nested at most `maxDepth` containers deep. */
export function parseStrictJson(text: string, maxDepth: number): JsonValue {
  let i = 0;
  const n = text.length;
  const stack: Frame[] = [];
  let root: JsonValue | undefined;
  const where = () => (stack.length ? ` in ${stack[stack.length - 1]!.path || 'the top-level object'}` : '');
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
  const pathOf = (frame: Frame | undefined, key: string | number): string => {
    const part = typeof key === 'number' ? `[${key}]` : JSON.stringify(key);
    return frame?.path ? `${frame.path}.${part}` : part;
  };
  /** Attach a finished value to the open container (or make it the root). */
  const attach = (v: JsonValue) => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = v;
      return;
    }
    if (top.container instanceof Map) {
      top.container.set(top.key!, v);
      top.key = undefined;
    } else top.container.push(v);
  };
  const open = (container: JsonValue[] | Map<string, JsonValue>) => {
    if (stack.length >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
    const top = stack[stack.length - 1];
    const path = top ? pathOf(top, top.container instanceof Map ? top.key! : top.container.length) : '';
    attach(container);
    stack.push({ container, path });
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
        stack.pop();
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
        stack.pop();
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
        stack.pop();
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
    if (map.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
    skipWs();
    if (text[i] !== ':') fail(`expected ":" after key ${JSON.stringify(key)}`);
    i++;
    top.key = key;
  }
}
