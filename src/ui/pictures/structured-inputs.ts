// Inputs with the structure real attention has, for the pictures (timing keeps random inputs): a few
// "sink" keys at the start that every query attends to, a local band around each query's own position,
// and a few far "needle" keys. Each is one direction of the head dims:
//   dim 0        the sink channel: q = 1, k = a_sink on the first SINKS keys;
//   dim 1        the needle channel: q = 1, k = a_needle on the NEEDLES keys;
//   dims 2..     RoPE-like pairs (cos wj p, sin wj p) on queries and keys: their dot product is
//                sum_j cos(wj (p - s)), a Dirichlet kernel peaked at s = p: the local band.
// Values sit on a 1/8 grid, so the indexer's scores are exact in f32 and in float64 and the GPU's top-k
// equals the reference's (ties included); values stay random on dims the structure does not use.
import type { HostTensor } from '../../kernels/tensor.ts';
import type { Config } from '../../kernels/contract.ts';

export type InputKind = 'random' | 'structured';

export const SINKS = 2;

/** Needle keys: three far positions, spread over the older part of the context. */
export function needles(S: number): number[] {
  return [...new Set([0.2, 0.4, 0.6].map((f) => Math.floor(f * S)).filter((s) => s >= SINKS))];
}

const grid = (x: number) => Math.round(x * 8) / 8;

interface Channel {
  /** Per position (query or key), the values of its first dims. */
  dims: number;
  at(pos: number, isKey: boolean): number[];
}

/** The channel layout for `dims` head dims over a context of S keys, scaled for a logit scale. */
function channels(dims: number, S: number, scale: number): Channel {
  const pairs = Math.max(0, Math.min(8, Math.floor((dims - 2) / 2)));
  // Period 2S: no alias of the band peak inside the context; width about 2S / pairs keys.
  const w = (j: number) => (Math.PI * (j + 1)) / (2 * S);
  // Band peak logit ~ 6 and sink / needle logits ~ 8 after the scale: a query weighs its sinks and needles
  // most, then the keys next to it.
  const band = pairs ? Math.sqrt(6 / (scale * pairs)) : 0;
  const spike = Math.sqrt(8 / scale);
  const needleSet = new Set(needles(S));
  return {
    dims: Math.min(dims, 2 + 2 * pairs),
    at(pos, isKey) {
      const v = [isKey ? (pos < SINKS ? spike : 0) : spike, isKey ? (needleSet.has(pos) ? spike : 0) : needleSet.size ? spike : 0];
      for (let j = 0; j < pairs; j++) v.push(band * Math.cos(w(j) * pos), band * Math.sin(w(j) * pos));
      return v.map(grid);
    },
  };
}

/** Write a channel's values into rows of a [rows, heads, dims] tensor (positions per row). */
function fill(t: HostTensor, positions: (row: number) => number, isKey: boolean, c: Channel, rest = 0.125) {
  const dims = t.shape.at(-1)!;
  const heads = t.shape.length === 3 ? t.shape[1]! : 1;
  const rows = t.shape[0]!;
  for (let r = 0; r < rows; r++) {
    const v = c.at(positions(r), isKey);
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * dims;
      for (let d = 0; d < dims; d++) t.data[base + d] = d < c.dims ? v[d]! : grid(rest * Math.sign(t.data[base + d]!));
    }
  }
}

/**
 * Random inputs of an attention-shaped kernel (q, k / kv; DSA's q_index, k_index, w_index) turned into the
 * structured case. Other tensors (values, weights) are kept. Returns the same object.
 */
export function structureInputs(inputs: Record<string, HostTensor>, config: Config): Record<string, HostTensor> {
  const S = Number(config.S);
  const T = Number(config.T ?? 1);
  const queryPos = (t: number) => S - T + t;
  const keyPos = (s: number) => s;
  const D = inputs.q?.shape.at(-1);
  const scale = Number(config.scale) > 0 ? Number(config.scale) : D ? 1 / Math.sqrt(D) : 1;
  if (inputs.q && D) {
    const c = channels(D, S, scale);
    fill(inputs.q, queryPos, false, c);
    for (const name of ['k', 'kv']) if (inputs[name]) fill(inputs[name]!, keyPos, true, c);
  }
  const Di = inputs.q_index?.shape.at(-1);
  if (inputs.q_index && inputs.k_index && Di) {
    // The indexer's ReLU(q . k) has no scale of its own; w carries it. Same channels, logit scale 1/Di.
    const c = channels(Di, S, 1 / Di);
    fill(inputs.q_index, queryPos, false, c, 0);
    fill(inputs.k_index, keyPos, true, c, 0);
    if (inputs.w_index) inputs.w_index.data.fill(grid(1 / inputs.w_index.shape[1]!) || 0.125);
  }
  return inputs;
}
