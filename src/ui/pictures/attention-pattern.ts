// Which keys each query attends to, from the kernels' own outputs: the dense page draws attention.naive's
// probabilities (its `probs` output), the sparse kernels their "what it attended to" outputs (a mask, or
// per-query index lists), the indexer its scores. The picture runs a small copy of the page's config: the
// context is cut to a few hundred keys and token-count knobs that would cover the whole picture (a 4096
// window, a 2048 top-k) are scaled by the same factor, so the shape of the pattern is kept; the caption says
// exactly what ran.
import type { DeviceCaps } from '../../gpu/context.ts';
import { withDefaults, type AnyKernel, type Config, type FieldSpec } from '../../kernels/contract.ts';
import type { HostTensor } from '../../kernels/tensor.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import type { HeatmapMatrix } from '../heatmap/heatmap-canvas.ts';

export const PICTURE_KEYS = 128;
export const PICTURE_QUERIES = 48;

/** Outputs a picture can be drawn from, best first. */
export const PATTERN_OUTPUTS = ['probs', 'selected', 'topk_indices', 'indices', 'index_scores'] as const;
/** Boolean knobs that switch such an output on. */
const PATTERN_FLAGS = ['probs', 'selected'];
/** Knobs counted in tokens besides those the schema marks with unit 'tokens'. */
const TOKEN_FIELDS = new Set(['window', 'k', 'topk', 'block', 'block_size', 'sinks']);

export interface PicturePlan {
  def: AnyKernel;
  config: Config;
  /** One sentence: what ran, at what size, and what was scaled. */
  note: string;
  /** Draw the selection the kernel was given (an input) rather than one of its outputs. */
  fromInput?: boolean;
}

function isTokenField(name: string, spec: FieldSpec): boolean {
  return (spec.type === 'int' && spec.unit === 'tokens') || TOKEN_FIELDS.has(name);
}

function hasPatternOutput(def: AnyKernel, config: Config): boolean {
  return def.outputs(config).some((o) => (PATTERN_OUTPUTS as readonly string[]).includes(o.name));
}

/** A kernel that is handed its selection (sparse.dsa_attention's topk_indices) draws what it was given. */
function hasSelectionInput(def: AnyKernel, config: Config): boolean {
  return def.inputs(config).some((t) => t.name === 'topk_indices');
}

/**
 * The small picture config: S cut to PICTURE_KEYS, queries to PICTURE_QUERIES, token-count knobs that would
 * cover more than half the picture scaled by the same factor as S, and a block size cut so the picture has
 * at least 8 blocks, with the blocks per query scaled to keep the attended fraction.
 */
export function pictureConfig(def: AnyKernel, config: Config): { config: Config; scaled: string[] } {
  const c: Config = { ...config };
  const scaled: string[] = [];
  const S0 = typeof config.S === 'number' ? config.S : undefined;
  if (S0 !== undefined) {
    const S1 = Math.min(S0, PICTURE_KEYS);
    c.S = S1;
    if (S1 < S0) {
      for (const [name, spec] of Object.entries(def.schema) as [string, FieldSpec][]) {
        if (name === 'S' || name === 'T' || name === 'block' || !isTokenField(name, spec)) continue;
        const v = config[name];
        if (typeof v === 'number' && v > S1 / 2) {
          c[name] = Math.max(1, Math.round((v * S1) / S0));
          scaled.push(`${name} ${v} → ${c[name]}`);
        }
      }
      const B = config.block;
      const top = config.topBlocks;
      if (typeof B === 'number' && S1 / B < 8) {
        c.block = Math.max(1, Math.floor(S1 / 8));
        scaled.push(`block ${B} → ${c.block}`);
        if (typeof top === 'number') {
          const fraction = Math.min(1, (top * B) / S0);
          c.topBlocks = Math.max(1, Math.min(Math.ceil(S1 / c.block), Math.ceil(fraction * Math.ceil(S1 / c.block))));
          if (c.topBlocks !== top) scaled.push(`blocks per query ${top} → ${c.topBlocks}`);
        }
      }
    }
    if ('T' in def.schema) c.T = Math.min(S1, PICTURE_QUERIES);
    if ('rows' in def.schema) c.rows = c.causal === true ? Math.min(PICTURE_QUERIES, S1) : PICTURE_QUERIES;
  }
  for (const flag of PATTERN_FLAGS) if (def.schema[flag]?.type === 'bool') c[flag] = true;
  return { config: c, scaled };
}

function describe(c: Config, fields: string[]): string {
  return fields
    .filter((f) => f in c)
    .map((f) => `${f} = ${String(c[f])}`)
    .join(', ');
}

/**
 * What to run for the picture of `def` at `config`: the kernel itself when it has a pattern output, else
 * attention.naive with its probabilities at the same heads and causality (flash kernels never store P).
 */
export function attentionPicturePlan(def: AnyKernel, config: Config, caps: DeviceCaps, naive: AnyKernel | undefined): PicturePlan | { error: string } {
  const own = pictureConfig(def, config);
  const candidates: PicturePlan[] = [];
  const scaledNote = own.scaled.length ? `; scaled with the context: ${own.scaled.join(', ')}` : '';
  if (hasPatternOutput(def, own.config)) {
    candidates.push({ def, config: own.config, note: `${def.id} at ${describe(own.config, ['T', 'rows', 'S', 'Hq', 'Hkv', 'window', 'sinks', 'k', 'topk'])}${scaledNote}` });
    // A kernel limited in queries (decode kernels) still draws its own rows.
    if ('T' in def.schema && typeof config.T === 'number') {
      const few = { ...own.config, T: Math.min(config.T, own.config.S as number) };
      candidates.push({ def, config: few, note: `${def.id} at ${describe(few, ['T', 'S', 'Hq', 'Hkv', 'window', 'sinks', 'topk'])}${scaledNote}` });
    }
  } else if (hasSelectionInput(def, own.config)) {
    candidates.push({
      def,
      config: own.config,
      fromInput: true,
      note: `${def.id} attends to the key lists it is given (its topk_indices input, random here; sparse.dsa computes them with the indexer and top-k), at ${describe(own.config, ['T', 'S', 'Hq', 'Hkv', 'topk'])}${scaledNote}`,
    });
  } else if (naive && 'Hq' in def.schema) {
    const shared = Object.fromEntries(['S', 'Hq', 'Hkv', 'D', 'causal', 'scale'].filter((f) => f in config).map((f) => [f, config[f]!]));
    const n = pictureConfig(naive, withDefaults(naive, shared));
    candidates.push({
      def: naive,
      config: n.config,
      note: `probabilities P = softmax(QKᵀ·scale) from attention.naive's probs output at ${describe(n.config, ['T', 'S', 'Hq', 'Hkv', 'D'])} — ${def.id} computes the same P tile by tile and never stores it`,
    });
  }
  for (const plan of candidates) {
    if (validateConfig(plan.def, plan.config, caps).length === 0) return plan;
  }
  if (candidates.length === 0) return { error: `${def.id} has no output that shows what it attended to` };
  const issues = validateConfig(candidates[0]!.def, candidates[0]!.config, caps);
  return { error: `the picture's small case is refused: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}` };
}

/**
 * Rows of index lists -> a rows x S mask. Entries are keys (block = 1) or block ids (keys b*B .. b*B+B-1);
 * -1 padding and out-of-range entries are skipped, and with causal rows (row r at position firstPos + r)
 * keys after the query's own position are not drawn: the kernels never attend to them.
 */
function indexMask(t: HostTensor, S: number, block: number, firstPos: number | undefined): Float32Array {
  const [rows, k] = [t.shape[0]!, t.shape[t.shape.length - 1]!];
  const mask = new Float32Array(rows * S);
  for (let r = 0; r < rows; r++) {
    const end = firstPos === undefined ? S : Math.min(S, firstPos + r + 1);
    for (let j = 0; j < k; j++) {
      const id = t.data[r * k + j]!;
      if (id < 0) continue;
      for (let s = id * block; s < Math.min(end, (id + 1) * block); s++) mask[r * S + s] = 1;
    }
  }
  return mask;
}

/**
 * The heatmap of a picture run (head `head` where the output has heads). With causal rows, keys after a
 * query's position are NaN ("not visible"), drawn apart from keys that were visible but not chosen.
 */
export function patternMatrix(plan: PicturePlan, outputs: Record<string, HostTensor>, head = 0): HeatmapMatrix | undefined {
  const m = rawPatternMatrix(plan, outputs, head);
  if (!m || plan.config.causal !== true) return m;
  const values = Float32Array.from(m.values);
  const first = m.rowOffset ?? 0;
  for (let r = 0; r < m.rows; r++) for (let s = first + r + 1; s < m.cols; s++) values[r * m.cols + s] = NaN;
  return { ...m, values };
}

function rawPatternMatrix(plan: PicturePlan, outputs: Record<string, HostTensor>, head: number): HeatmapMatrix | undefined {
  const c = plan.config;
  const S = typeof c.S === 'number' ? c.S : 0;
  const queries = typeof c.T === 'number' ? c.T : typeof c.rows === 'number' ? c.rows : 0;
  const rowOffset = typeof c.T === 'number' || c.causal === true ? S - queries : 0;
  const rowLabel = typeof c.T === 'number' ? 'query position' : 'row';
  const colLabel = 'key';
  const causal = c.causal === true;
  for (const name of plan.fromInput ? (['topk_indices'] as const) : PATTERN_OUTPUTS) {
    const t = outputs[name];
    if (!t) continue;
    if (name === 'probs' && t.shape.length === 3) {
      const [T, H, Sk] = t.shape as [number, number, number];
      const h = Math.min(Math.max(0, head), H - 1);
      const values = new Float32Array(T * Sk);
      for (let q = 0; q < T; q++) for (let s = 0; s < Sk; s++) values[q * Sk + s] = t.data[(q * H + h) * Sk + s]!;
      return { rows: T, cols: Sk, values, kind: 'weight', normalise: 'row', rowLabel, colLabel, rowOffset };
    }
    if (name === 'index_scores') {
      const [T, Sk] = t.shape as [number, number];
      // -inf (causally masked) scores are "not visible", drawn as background.
      const values = Float32Array.from(t.data, (v) => (Number.isFinite(v) ? v : NaN));
      return { rows: T, cols: Sk, values, kind: 'weight', normalise: 'global', rowLabel, colLabel, rowOffset };
    }
    // A mask [T, S]; block ids [T, H, k] (block select); or key lists [T, k] / [T, H, k] (head `head` of the latter).
    const rows = t.shape[0]!;
    const last = t.shape[t.shape.length - 1]!;
    if (name === 'selected' && t.shape.length === 2 && last === S) {
      return { rows, cols: S, values: Float32Array.from(t.data, (v) => (v ? 1 : 0)), kind: 'mask', rowLabel, colLabel, rowOffset };
    }
    const lists: HostTensor = t.shape.length === 3 ? { shape: [rows, last], data: headSlice(t, Math.min(Math.max(0, head), t.shape[1]! - 1)) } : t;
    const block = name === 'selected' && typeof c.block === 'number' ? c.block : 1;
    return { rows, cols: S, values: indexMask(lists, S, block, causal ? rowOffset : undefined), kind: 'mask', rowLabel, colLabel, rowOffset };
  }
  return undefined;
}

function headSlice(t: HostTensor, h: number): Int32Array {
  const [rows, H, k] = t.shape as [number, number, number];
  const out = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * k + j] = t.data[(r * H + h) * k + j]!;
  return out;
}
