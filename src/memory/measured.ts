// Bytes this project's kernels actually allocate for a KV cache, read back from the device's buffer tracker,
// to put beside the formulas of kv-cache.ts. For each cache layout the model's real head counts and widths
// are kept and the context is scaled down to `tokens` (one layer), so it fits any device:
//   MHA / GQA / MQA -> the attention kernels' k and v tensors [S, Hkv, D]
//   MLA             -> the MLA decode kernels' kv_latent [S, d_c] and k_pe [S, d_rope]
// Two readings per layout: (1) the cache tensors alone, allocated through the same buffer code a kernel's
// create() uses (ctx.buffers.storage of the kernel's own tensor specs), as the live-bytes delta; (2) when
// the storage type can run here, a whole kernel instance from create(): its live-bytes delta (cache plus
// queries, weights and scratch) and the sizes of the cache buffers it made.
// A size the device refuses (out of memory, or the invalid buffers such a refusal leaves behind) becomes one
// GpuMemoryError naming the layout, the kernel and the tokens, with everything made so far freed: the
// validation errors WebGPU raises on those invalid buffers are caught in a scope rather than printed.
import type { GpuContext } from '../gpu/context.ts';
import { naiveAttention } from '../kernels/attention/naive.ts';
import { withDefaults, type AnyKernel, type Config } from '../kernels/contract.ts';
import { createInstance } from '../kernels/execute.ts';
import { mlaDecodeAbsorbed } from '../kernels/mla/decode-absorbed.ts';
import { mlaDecodeNaive } from '../kernels/mla/decode-naive.ts';
import { tensorBytes } from '../kernels/tensor.ts';
import { withOutOfMemoryScope } from '../gpu/buffers.ts';
import { GpuMemoryError } from '../gpu/errors.ts';
import type { ModelPreset } from '../models/presets.ts';
import { CACHE_DTYPE_BYTES, elementsPerTokenPerLayer, HYPOTHETICAL_KV_HEADS, type CacheLayout } from './kv-cache.ts';

export type StorageDType = 'f32' | 'f16';

export interface MeasuredCache {
  /** Layout name as in the formula table ("MHA", "GQA (n_kv = 8)", "MQA", "MLA"). */
  name: string;
  layout: CacheLayout;
  kernel: string;
  /** The kernel's tensors that make up the cache. */
  cacheTensors: string[];
  tokens: number;
  storage: StorageDType;
  /** elements per token and layer x bytes per element x tokens. */
  formulaBytes: number;
  /** Live-bytes delta of allocating the cache tensors through the kernel's buffer code. */
  allocatedBytes: number;
  /** A whole instance from the kernel's create(), when it can run on this device. */
  instance?: { liveBytes: number; cacheBuffersBytes: number };
  note?: string;
}

export interface MeasureOptions {
  tokens: number;
  storage: StorageDType;
  /** Also build each kernel (compiles its pipelines: seconds on a CPU emulator). Default true; f16 needs shader-f16. */
  createInstances?: boolean;
}

interface Plan {
  name: string;
  layout: CacheLayout;
  def: AnyKernel;
  config: Config;
  cacheTensors: string[];
  note?: string;
}

function plans(p: ModelPreset, tokens: number, storage: StorageDType): Plan[] {
  const a = p.arch;
  const attention = (name: string, layout: CacheLayout, Hkv: number, note?: string): Plan => ({
    name,
    layout,
    def: naiveAttention,
    config: withDefaults(naiveAttention, { T: 1, S: tokens, Hq: a.heads, Hkv, D: a.headDim, dtype: storage }),
    cacheTensors: ['k', 'v'],
    note,
  });
  const gqaNative = a.kvHeads > 1 && a.kvHeads < a.heads && !a.mla;
  const kvHeads = gqaNative ? a.kvHeads : HYPOTHETICAL_KV_HEADS;
  const out: Plan[] = [attention(a.mla ? 'MHA (equivalent)' : 'MHA', { kind: 'mha', heads: a.heads, headDim: a.headDim }, a.heads)];
  if (kvHeads < a.heads && a.heads % kvHeads === 0) out.push(attention(`GQA (n_kv = ${kvHeads})`, { kind: 'gqa', kvHeads, headDim: a.headDim }, kvHeads));
  out.push(attention('MQA', { kind: 'mqa', headDim: a.headDim }, 1));
  if (a.mla) {
    const m = a.mla;
    const mla = { T: 1, S: tokens, H: a.heads, dn: m.qkNopeHeadDim, dr: m.qkRopeHeadDim, dc: m.kvLoraRank, dv: m.vHeadDim, dtype: storage };
    const layout: CacheLayout = { kind: 'mla', latent: m.kvLoraRank, rope: m.qkRopeHeadDim };
    out.push({
      name: 'MLA',
      layout,
      def: mlaDecodeAbsorbed,
      config: withDefaults(mlaDecodeAbsorbed, mla),
      cacheTensors: ['kv_latent', 'k_pe'],
      note: 'the instance also holds the weights wkv_b, H x (dn+dv) x d_c, and the split-K partials',
    });
    out.push({
      name: 'MLA',
      layout,
      def: mlaDecodeNaive,
      config: withDefaults(mlaDecodeNaive, mla),
      cacheTensors: ['kv_latent', 'k_pe'],
      note: 'same cache; the instance also holds the per-step expansion S x H x (dn+dv) f32',
    });
  }
  return out;
}

/**
 * The largest per-token buffer among the measured layouts (MHA's k or v, or the naive MLA's per-step
 * expansion S x H x (dn + dv) f32), and the most tokens one storage binding of this device holds of it.
 */
export function fitTokens(p: ModelPreset, storage: StorageDType, limits: { maxStorageBufferBindingSize: number; maxBufferSize: number }): number {
  const a = p.arch;
  const perToken = Math.max(a.heads * a.headDim * (storage === 'f32' ? 4 : 2), a.mla ? a.heads * (a.mla.qkNopeHeadDim + a.mla.vHeadDim) * 4 : 0);
  return Math.max(1, Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / perToken));
}

/**
 * Run `make` with WebGPU validation errors caught: after a refused allocation (make throws) they are its
 * echo and dropped; when make succeeded, one is a real fault and becomes one line naming `what`.
 */
async function quietly<T>(device: GPUDevice, what: string, make: () => Promise<T>, discard?: (made: T) => void): Promise<T> {
  device.pushErrorScope('validation');
  let made: { value: T } | undefined;
  try {
    made = { value: await make() };
  } finally {
    const err = await device.popErrorScope();
    if (err && made) {
      discard?.(made.value);
      throw new Error(`${what}: WebGPU validation failed (${err.message.split('\n')[0]})`);
    }
  }
  return made.value;
}

export async function measureModelCaches(ctx: GpuContext, p: ModelPreset, opts: MeasureOptions): Promise<MeasuredCache[]> {
  const results: MeasuredCache[] = [];
  const runnable = opts.storage === 'f32' || ctx.features.f16;
  for (const plan of plans(p, opts.tokens, opts.storage)) {
    const what = `${plan.name} (${plan.def.id}) at ${opts.tokens} tokens`;
    const specs = plan.def.inputs(plan.config).filter((s) => plan.cacheTensors.includes(s.name));
    let allocatedBytes = 0;
    let instance: MeasuredCache['instance'];
    try {
      allocatedBytes = await quietly(ctx.device, what, () =>
        withOutOfMemoryScope(ctx.device, what, () => {
          const before = ctx.buffers.liveBytes;
          const buffers: GPUBuffer[] = [];
          try {
            for (const s of specs) buffers.push(ctx.buffers.storage(`${plan.def.id}:${s.name}`, tensorBytes(s.shape, s.dtype)));
            return ctx.buffers.liveBytes - before;
          } finally {
            for (const b of buffers) ctx.buffers.destroy(b);
          }
        }),
      );
      if (opts.createInstances !== false && runnable) {
        const base = ctx.buffers.liveBytes;
        const inst = await quietly(ctx.device, what, () => createInstance(ctx, plan.def, plan.config), (i) => i.destroy());
        try {
          instance = {
            liveBytes: ctx.buffers.liveBytes - base,
            cacheBuffersBytes: plan.cacheTensors.reduce((sum, n) => sum + inst.tensors[n]!.size, 0),
          };
        } finally {
          inst.destroy();
        }
      }
    } catch (e) {
      if (e instanceof GpuMemoryError) throw new GpuMemoryError(`${what} does not fit this device: ${e.message.replace(/^[^:]*: /, '')}`);
      throw e;
    }
    results.push({
      name: plan.name,
      layout: plan.layout,
      kernel: plan.def.id,
      cacheTensors: plan.cacheTensors,
      tokens: opts.tokens,
      storage: opts.storage,
      formulaBytes: elementsPerTokenPerLayer(plan.layout) * CACHE_DTYPE_BYTES[opts.storage] * opts.tokens,
      allocatedBytes,
      instance,
      note: plan.note,
    });
  }
  return results;
}
