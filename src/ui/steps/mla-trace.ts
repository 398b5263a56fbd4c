// Absorbed MLA decode, traced: mla.decode_absorbed runs pass by pass on a small structured case and each
// pass's buffer is read back before the next one runs:
//   absorb_main  q_abs[h] = scale·log2(e)·[q_nope[h] W_UK[h] ; q_pe[h]]   the query in latent space
//   split_main   the cache cut into S key ranges of ONE key each, so a range's running max m is that key's
//                score against the latent row [c_KV[s] ; k_pe[s]] (log2 units), its sum l = 1, its o = c_KV[s]
//   (softmax)    p_s = 2^(m_s − M) l_s / Σ 2^(m_j − M) l_j: merge_main's weights, from the partials read back
//   merge_main   o_lat[h] = Σ_s p_s c_KV[s], written back over q_abs's first d_c columns
//   uv_main      out[h] = W_UV[h] o_lat[h]
// Frames are those five steps; checkMlaTrace compares each with the float64 absorbed reference's own
// intermediates and the last with the naive reference (the latent expanded per head: the same function).
import type { GpuContext } from '../../gpu/context.ts';
import { defaults } from '../../kernels/contract.ts';
import { relL2 } from '../../kernels/compare.ts';
import { assertValid, createInstance, makeInputs, poisonOutputs, readOutputs, uploadInputs } from '../../kernels/execute.ts';
import { mlaDecodeAbsorbed, planAbsorbed, type MlaAbsorbedConfig } from '../../kernels/mla/decode-absorbed.ts';
import { effectiveScale } from '../../kernels/mla/mla-config.ts';
import type { Rng } from '../../kernels/random.ts';
import { decodeTensor, type HostTensor } from '../../kernels/tensor.ts';
import { mlaDecodeReference } from '../../reference/mla.ts';
import { structureInputs } from '../pictures/structured-inputs.ts';
import { host, plain, type PlainTensor, type StageFrame } from './stage-frames.ts';

export const MLA_STEPS = ['absorb W_UK', 'scores', 'softmax', 'latent-weighted sum', 'W_UV up-projection'] as const;

export interface MlaTrace {
  config: MlaAbsorbedConfig;
  inputs: Record<'q_nope' | 'q_pe' | 'kv_latent' | 'k_pe' | 'wkv_b', PlainTensor>;
  /** [H, dc + dr] q_abs after absorb_main (pre-scaled by scale·log2 e). */
  qAbs: number[];
  /** [H, S] split_main's per-range max m and sum l (one key per range). */
  m: number[];
  l: number[];
  /** [H, dc] merge_main's merged latent output (q_abs's first dc columns afterwards). */
  oLat: number[];
  /** [H, dv] uv_main's output. */
  out: number[];
}

/** One query over 48 cached latent rows, 2 heads, latent 32 + RoPE 16; one key per split. */
export function mlaTraceConfig(S = 48): MlaAbsorbedConfig {
  return { ...defaults(mlaDecodeAbsorbed.schema), T: 1, S, H: 2, dn: 16, dr: 16, dc: 32, dv: 16, causal: true, softmax_scale: 0, dtype: 'f32', splits: S } as MlaAbsorbedConfig;
}

/**
 * Random inputs with structure in the RoPE channel (q_pe · k_pe: sinks, needles, a band near the query, as
 * the other step-throughs); the latent part stays random and smaller, so the scores show the structure.
 */
export function mlaTraceInputs(c: MlaAbsorbedConfig, rng: Rng): Record<string, HostTensor> {
  const x = makeInputs(mlaDecodeAbsorbed, c, rng);
  structureInputs({ q: x.q_pe!, k: x.k_pe! }, { S: c.S, T: c.T, scale: effectiveScale(c) });
  for (let i = 0; i < x.kv_latent!.data.length; i++) x.kv_latent!.data[i] = Math.round(x.kv_latent!.data[i]! * 4) / 16;
  return x;
}

/**
 * The buffers `make` creates, by label: the instance's scratch (q_abs, part) is not among its tensors, and the
 * trace reads it back without the kernel exposing it.
 */
async function withCreatedBuffers<T>(ctx: GpuContext, make: () => Promise<T>): Promise<{ made: T; buffers: Map<string, GPUBuffer> }> {
  const tracker = ctx.buffers;
  const create = tracker.create;
  const buffers = new Map<string, GPUBuffer>();
  tracker.create = function (label: string, size: number, usage: GPUBufferUsageFlags) {
    const b = create.call(this, label, size, usage);
    buffers.set(label, b);
    return b;
  };
  try {
    return { made: await make(), buffers };
  } finally {
    tracker.create = create;
  }
}

export async function traceMla(ctx: GpuContext, c: MlaAbsorbedConfig, rng: Rng): Promise<MlaTrace> {
  assertValid(ctx, mlaDecodeAbsorbed, c);
  if (planAbsorbed(c).keysPerSplit !== 1) throw new Error(`splits: the trace needs one key per split (S = ${c.S} splits), got ${c.splits}`);
  const inputs = mlaTraceInputs(c, rng);
  const { made: inst, buffers } = await withCreatedBuffers(ctx, () => createInstance(ctx, mlaDecodeAbsorbed, c));
  try {
    const qAbsBuf = buffers.get('mla.decode_absorbed:q_abs');
    const partBuf = buffers.get('mla.decode_absorbed:part');
    const stages = inst.stages;
    if (!qAbsBuf || !partBuf || stages?.length !== 4) throw new Error('mla.decode_absorbed: the trace expects its q_abs and part buffers and four passes');
    uploadInputs(ctx, inst, mlaDecodeAbsorbed.inputs(c), inputs);
    poisonOutputs(ctx, inst, mlaDecodeAbsorbed.outputs(c));
    const pass = (i: number) => {
      const enc = ctx.device.createCommandEncoder();
      const p = enc.beginComputePass();
      stages[i]!.encode(p);
      p.end();
      ctx.device.queue.submit([enc.finish()]);
    };
    const rows = c.T * c.H;
    const dk = c.dc + c.dr;
    const f32 = async (b: GPUBuffer, n: number, at = 0) => Array.from(decodeTensor((await ctx.buffers.read(b, (at + n) * 4)).slice(at * 4), [n], 'f32').data);
    pass(0);
    const qAbs = await f32(qAbsBuf, rows * dk);
    pass(1);
    const splits = c.S;
    const ml = await f32(partBuf, rows * splits * 2, rows * splits * c.dc);
    pass(2);
    const merged = await f32(qAbsBuf, rows * dk);
    pass(3);
    const out = await readOutputs(ctx, inst, mlaDecodeAbsorbed.outputs(c));
    ctx.assertAlive();
    const oLat: number[] = [];
    for (let r = 0; r < rows; r++) oLat.push(...merged.slice(r * dk, r * dk + c.dc));
    return {
      config: c,
      inputs: { q_nope: plain(inputs.q_nope!), q_pe: plain(inputs.q_pe!), kv_latent: plain(inputs.kv_latent!), k_pe: plain(inputs.k_pe!), wkv_b: plain(inputs.wkv_b!) },
      qAbs,
      m: ml.filter((_, i) => i % 2 === 0),
      l: ml.filter((_, i) => i % 2 === 1),
      oLat,
      out: Array.from(out.out!.data),
    };
  } finally {
    inst.destroy();
  }
}

/** The float64 absorbed decode's intermediates for query 0 of a trace's inputs. */
export function mlaReferenceSteps(trace: MlaTrace) {
  const c = trace.config;
  const x = Object.fromEntries(Object.entries(trace.inputs).map(([k, v]) => [k, host(v)])) as Record<keyof MlaTrace['inputs'], HostTensor>;
  const scale = effectiveScale(c);
  const { H, S, dn, dr, dc, dv } = c;
  const qLat = new Float64Array(H * dc);
  const scores = new Float64Array(H * S);
  const probs = new Float64Array(H * S);
  const oLat = new Float64Array(H * dc);
  const out = new Float64Array(H * dv);
  const end = c.causal ? S - c.T + 1 : S;
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < dn; i++) for (let k = 0; k < dc; k++) qLat[h * dc + k] += x.q_nope.data[h * dn + i]! * x.wkv_b.data[(h * (dn + dv) + i) * dc + k]!;
    let max = -Infinity;
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let k = 0; k < dc; k++) dot += qLat[h * dc + k]! * x.kv_latent.data[s * dc + k]!;
      for (let i = 0; i < dr; i++) dot += x.q_pe.data[h * dr + i]! * x.k_pe.data[s * dr + i]!;
      scores[h * S + s] = s < end ? dot * scale : -Infinity;
      max = Math.max(max, scores[h * S + s]!);
    }
    let sum = 0;
    for (let s = 0; s < S; s++) sum += probs[h * S + s] = Math.exp(scores[h * S + s]! - max);
    for (let s = 0; s < S; s++) probs[h * S + s] = probs[h * S + s]! / sum;
    for (let s = 0; s < S; s++) for (let k = 0; k < dc; k++) oLat[h * dc + k] += probs[h * S + s]! * x.kv_latent.data[s * dc + k]!;
    for (let i = 0; i < dv; i++) for (let k = 0; k < dc; k++) out[h * dv + i] += x.wkv_b.data[(h * (dn + dv) + dn + i) * dc + k]! * oLat[h * dc + k]!;
  }
  const naive = mlaDecodeReference(x, { T: c.T, S, H, dn, dr, dc, dv, causal: c.causal, scale }).data;
  return { qLat, scores, probs, oLat, out, naive };
}

/** The GPU's values per step, in natural units: q_lat, scores, probabilities (merge_main's weights), o_lat, out. */
export function mlaGpuSteps(trace: MlaTrace) {
  const c = trace.config;
  const { H, S, dc, dr } = c;
  const pre = effectiveScale(c) * Math.LOG2E;
  const qLat = new Float64Array(H * dc);
  for (let h = 0; h < H; h++) for (let k = 0; k < dc; k++) qLat[h * dc + k] = trace.qAbs[h * (dc + dr) + k]! / pre;
  const scores = Float64Array.from(trace.m, (m) => m / Math.LOG2E);
  const probs = new Float64Array(H * S);
  for (let h = 0; h < H; h++) {
    const m = trace.m.slice(h * S, (h + 1) * S);
    const big = Math.max(...m);
    const w = m.map((x, s) => (x === -Infinity ? 0 : 2 ** (x - big) * trace.l[h * S + s]!));
    const L = w.reduce((a, b) => a + b, 0);
    for (let s = 0; s < S; s++) probs[h * S + s] = w[s]! / L;
  }
  return { qLat, scores, probs, oLat: Float64Array.from(trace.oLat), out: Float64Array.from(trace.out) };
}

const weight = (rows: number, cols: number, values: ArrayLike<number>, rowLabel: string, colLabel: string, normalise: 'row' | 'global' = 'global') => ({
  rows,
  cols,
  values: Float32Array.from(values as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : NaN)),
  kind: 'weight' as const,
  normalise,
  rowLabel,
  colLabel,
});

export function mlaFrames(trace: MlaTrace, tolerance = 1e-4): StageFrame[] {
  const c = trace.config;
  const { H, S, dc, dv, dn, dr } = c;
  const g = mlaGpuSteps(trace);
  const r = mlaReferenceSteps(trace);
  const top = (h: number) => {
    const p = Array.from(g.probs.slice(h * S, (h + 1) * S));
    return p
      .map((v, s) => [v, s] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3)
      .map(([v, s]) => `key ${s} (${v.toFixed(3)})`)
      .join(', ');
  };
  return [
    {
      stage: MLA_STEPS[0],
      caption: `absorb_main folds W_UK into the query: q_lat[h] = q_nope[h] · W_UK[h], ${dn} → ${dc} values per head, so every head scores the cached latent rows directly (no per-head keys are ever built). The ${dr} RoPE values q_pe ride along.`,
      views: [{ name: 'q_lat', title: `q_lat (head × latent dim), from q_abs read back`, matrix: weight(H, dc, g.qLat, 'head', 'latent dim') }],
      checks: [relL2('q_lat = q_nope W_UK', g.qLat, r.qLat, tolerance)],
    },
    {
      stage: MLA_STEPS[1],
      caption: `split_main scores each head against every latent row [c_KV ; k_pe] (${dc} + ${dr} values): score = scale · (q_lat · c_KV[s] + q_pe · k_pe[s]). The cache was cut into ${S} ranges of one key, so each range's running max is that key's score. Sinks (keys 0, 1), needles and the band near the query stand out.`,
      views: [{ name: 'scores', title: 'scores (head × key), split_main\'s per-range max', matrix: weight(H, S, g.scores, 'head', 'key') }],
      checks: [relL2('scores', g.scores, r.scores, tolerance)],
    },
    {
      stage: MLA_STEPS[2],
      caption: `Softmax over the keys: p_s = 2^(m_s − M) l_s / Σ_j 2^(m_j − M) l_j, the weights merge_main gives each range. Head 0 puts most weight on ${top(0)}.`,
      views: [{ name: 'probs', title: 'softmax weights (head × key)', matrix: weight(H, S, g.probs, 'head', 'key', 'row') }],
      checks: [relL2('softmax weights', g.probs, r.probs, tolerance)],
    },
    {
      stage: MLA_STEPS[3],
      caption: `merge_main sums the latent rows themselves, weighted: o_lat[h] = Σ_s p_s c_KV[s] (${dc} values per head). The values are the cache rows: MLA never expands them to per-head V.`,
      views: [{ name: 'o_lat', title: 'o_lat (head × latent dim), merge_main\'s output', matrix: weight(H, dc, g.oLat, 'head', 'latent dim') }],
      checks: [relL2('o_lat = Σ p c_KV', g.oLat, r.oLat, tolerance)],
    },
    {
      stage: MLA_STEPS[4],
      caption: `uv_main projects back up once per head: out[h] = W_UV[h] · o_lat[h] (${dc} → ${dv}). The same output as expanding the whole cache to per-head K and V (the naive order), at a fraction of the work.`,
      views: [{ name: 'out', title: 'out (head × value dim)', matrix: weight(H, dv, g.out, 'head', 'value dim') }],
      checks: [relL2('out (absorbed order)', g.out, r.out, tolerance), relL2('out = naive (expanded) MLA', g.out, r.naive, tolerance)],
    },
  ];
}

/** The check results of every frame (the e2e test recomputes them in Node from the trace the page drew). */
export const checkMlaTrace = (trace: MlaTrace) => mlaFrames(trace).map((f) => ({ stage: f.stage, ok: f.checks.every((x) => x.ok), checks: f.checks }));

