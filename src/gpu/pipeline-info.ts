// What a compute pipeline launches per workgroup: invocations (@workgroup_size) and workgroup-memory bytes
// (the var<workgroup> declarations its entry point reaches). WebGPU has no reflection API, so both are read
// from the resolved WGSL the pipeline was built from, with its override constants: the exact numbers the
// device compiled, kept beside the pipeline object so a recorded dispatch can be described later. Beside
// it, each bind group keeps the bytes of the buffers it binds, by binding name, so a dispatch's reads are the
// read-only bindings its entry point uses, sized as bound.

export interface PipelineInfo {
  /** Entry point name. */
  entryPoint: string;
  /** Invocations per workgroup (x * y * z of @workgroup_size). */
  threads: number;
  /** Bytes of var<workgroup> the entry point (and the functions it calls) uses. */
  workgroupBytes: number;
  /**
   * Storage bindings the entry point (and the functions it calls) reads: every read-only one it names, and
   * each read_write one it uses other than as the target of a plain `=` store.
   */
  reads: string[];
}

const INFO = new WeakMap<object, PipelineInfo>();
const BOUND = new WeakMap<object, Readonly<Record<string, number>>>();

/**
 * Bytes a dispatch reads through each binding of `group`: the bound buffer's size, or less where the kernel
 * said so (a gather that reads k rows of an S-row cache binds all S).
 */
export function rememberBindGroup(group: object, bytes: Readonly<Record<string, number>>): void {
  BOUND.set(group, bytes);
}

export function bindGroupBytes(group: object): Readonly<Record<string, number>> | undefined {
  return BOUND.get(group);
}

export function rememberPipeline(pipeline: object, info: PipelineInfo): void {
  INFO.set(pipeline, info);
}

export function pipelineInfo(pipeline: object): PipelineInfo | undefined {
  return INFO.get(pipeline);
}

/** Evaluate a WGSL constant expression of integers (+ - * / % parentheses, u/i suffixes, named values). */
function evaluate(expr: string, values: Map<string, number>): number {
  const tokens = expr.match(/\d+(?:\.\d+)?[uif]?|[A-Za-z_]\w*|[-+*/%()]/g) ?? [];
  let i = 0;
  const atom = (): number => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`cannot evaluate "${expr}"`);
    if (t === '(') {
      const v = sum();
      i++; // ')'
      return v;
    }
    if (t === '-') return -atom();
    if (/^\d/.test(t)) return Number(t.replace(/[uif]$/, ''));
    // u32(x) style casts are the identity on integers.
    if (tokens[i] === '(' && /^(u32|i32|f32)$/.test(t)) return atom();
    const v = values.get(t);
    if (v === undefined) throw new Error(`unknown constant ${t} in "${expr}"`);
    return v;
  };
  const product = (): number => {
    let v = atom();
    while (tokens[i] === '*' || tokens[i] === '/' || tokens[i] === '%') {
      const op = tokens[i++];
      const r = atom();
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') {
      const op = tokens[i++];
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  return sum();
}

/** Size and alignment of a WGSL type (WGSL's memory layout rules: vec3 aligns to 16, arrays stride by alignment). */
function layoutOf(type: string, values: Map<string, number>, aliases: Map<string, string>): { size: number; align: number } {
  const t = type.replace(/\s+/g, '');
  const alias = aliases.get(t);
  if (alias) return layoutOf(alias, values, aliases);
  const scalar: Record<string, number> = { f32: 4, u32: 4, i32: 4, f16: 2, bool: 4 };
  if (t in scalar) return { size: scalar[t]!, align: scalar[t]! };
  const atomic = /^atomic<(\w+)>$/.exec(t);
  if (atomic) return layoutOf(atomic[1]!, values, aliases);
  const short = /^vec([234])([fiuh])$/.exec(t);
  const vec = short ? [short[0], short[1], { f: 'f32', i: 'i32', u: 'u32', h: 'f16' }[short[2]!]!] : /^vec([234])<(\w+)>$/.exec(t);
  if (vec) {
    const n = Number(vec[1]);
    const e = layoutOf(vec[2]!, values, aliases).size;
    return { size: n * e, align: (n === 2 ? 2 : 4) * e };
  }
  if (t.startsWith('array<')) {
    // array<T, N>: split at the last top-level comma.
    const inner = t.slice(6, -1);
    let depth = 0;
    let cut = -1;
    for (let k = 0; k < inner.length; k++) {
      const ch = inner[k];
      if (ch === '<' || ch === '(') depth++;
      else if (ch === '>' || ch === ')') depth--;
      else if (ch === ',' && depth === 0) cut = k;
    }
    const el = layoutOf(inner.slice(0, cut), values, aliases);
    const stride = Math.ceil(el.size / el.align) * el.align;
    return { size: stride * evaluate(inner.slice(cut + 1), values), align: el.align };
  }
  throw new Error(`unsupported workgroup type ${type}`);
}

/** The body of `fn name(...) ... { ... }`, braces matched; undefined if there is no such function. */
function functionBody(code: string, name: string): { start: number; body: string } | undefined {
  const m = new RegExp(`\\bfn\\s+${name}\\s*\\(`).exec(code);
  if (!m) return undefined;
  const open = code.indexOf('{', m.index);
  let depth = 0;
  for (let k = open; k < code.length; k++) {
    if (code[k] === '{') depth++;
    else if (code[k] === '}' && --depth === 0) return { start: m.index, body: code.slice(open, k + 1) };
  }
  return undefined;
}

/**
 * Whether `code` reads storage binding `name`: some use of it (past its indices and members) is not the left
 * side of a plain `=`. `arrayLength(&name)` reads no element; a pointer passed on (atomics) counts as a read.
 */
function readsBinding(code: string, name: string): boolean {
  for (const m of code.matchAll(new RegExp(`\\b${name}\\b`, 'g'))) {
    if (/arrayLength\s*\(\s*&\s*$/.test(code.slice(Math.max(0, m.index - 20), m.index))) continue;
    let k = m.index + name.length;
    const space = () => {
      while (/\s/.test(code[k] ?? '')) k++;
    };
    for (;;) {
      space();
      if (code[k] === '[') {
        let depth = 0;
        do {
          if (code[k] === '[') depth++;
          else if (code[k] === ']') depth--;
          k++;
        } while (depth > 0 && k < code.length);
      } else if (code[k] === '.') {
        k++;
        space();
        while (/\w/.test(code[k] ?? '')) k++;
      } else break;
    }
    if (code[k] === '=' && code[k + 1] !== '=') continue;
    return true;
  }
  return false;
}

/** Read an entry point's geometry from its resolved WGSL (comments stripped) and the pipeline's constants. */
export function describeEntryPoint(wgsl: string, entryPoint: string, constants: Record<string, number> = {}): PipelineInfo {
  const code = wgsl.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const values = new Map<string, number>();
  const aliases = new Map<string, string>();
  for (const m of code.matchAll(/\balias\s+(\w+)\s*=\s*([^;]+);/g)) aliases.set(m[1]!, m[2]!.trim());
  // Module-scope const/override, in order (later ones may use earlier ones); pipeline constants win.
  for (const m of code.matchAll(/^\s*(const|override)\s+(\w+)\s*(?::\s*\w+)?\s*=\s*([^;]+);/gm)) {
    const name = m[2]!;
    if (name in constants) values.set(name, constants[name]!);
    else {
      try {
        values.set(name, evaluate(m[3]!, values));
      } catch {
        // A float or vector constant: never a size.
      }
    }
  }
  for (const [k, v] of Object.entries(constants)) if (!values.has(k)) values.set(k, v);

  const entry = functionBody(code, entryPoint);
  if (!entry) throw new Error(`no entry point ${entryPoint}`);
  const attr = code.slice(Math.max(0, entry.start - 400), entry.start);
  const ws = [...attr.matchAll(/@workgroup_size\(([^)]*)\)/g)].pop();
  if (!ws) throw new Error(`entry point ${entryPoint} has no @workgroup_size`);
  const threads = ws[1]!.split(',').filter((s) => s.trim()).reduce((p, e) => p * evaluate(e, values), 1);

  // Functions reachable from the entry point (by name occurrence), then the workgroup vars they mention.
  const fnNames = [...code.matchAll(/\bfn\s+(\w+)\s*\(/g)].map((m) => m[1]!);
  const reached = new Set([entryPoint]);
  const bodies: string[] = [];
  for (const queue = [entryPoint]; queue.length; ) {
    const body = functionBody(code, queue.pop()!)!.body;
    bodies.push(body);
    for (const f of fnNames) if (!reached.has(f) && new RegExp(`\\b${f}\\s*\\(`).test(body)) reached.add(f), queue.push(f);
  }
  const used = bodies.join('\n');
  let workgroupBytes = 0;
  for (const m of code.matchAll(/\bvar\s*<\s*workgroup\s*>\s*(\w+)\s*:\s*([^;]+);/g)) {
    if (!new RegExp(`\\b${m[1]}\\b`).test(used)) continue;
    const l = layoutOf(m[2]!, values, aliases);
    workgroupBytes = Math.ceil(workgroupBytes / l.align) * l.align + l.size;
  }
  const reads = [...code.matchAll(/\bvar\s*<\s*storage\b[^>]*>\s*(\w+)\s*:/g)].map((m) => m[1]!).filter((n) => readsBinding(used, n));
  // Dawn rounds the total to 16 bytes; report what is declared.
  return { entryPoint, threads, workgroupBytes, reads };
}
