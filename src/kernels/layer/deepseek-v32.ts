// layer.deepseek_v32: one DeepSeek-V3.2 decoder layer (upstream Block) on the GPU, for one sequence whose
// positions 0..S-1 end up in the cache and whose last T tokens are new:
//   h = x + attn(attn_norm(x)),  out = h + ffn(ffn_norm(h)).
// Every stage is a registered kernel on shared buffers: layer.norm, layer.rope, layer.residual_add and
// linear.matmul (strided and batched views: one launch for a projection into the middle of a cache row, one for
// a per-head W_UK / W_UV), then sparse.dsa (indexer, top-k, latent attention) or mla.decode_absorbed, then
// moe.forward or moe.dense_ffn. The sub-kernels' own instances own their tensors; the layer's producers write
// straight into them (no copies), and the layer's weights are those buffers under upstream's names.
// The cache rows of the S-T earlier tokens are written by an instance's first run (a server fills them once, by
// the earlier steps); every run then does this step's work: it writes its T rows and attends. So one run on fresh
// inputs is exact, and the timed repeats and the stages are the step alone.
import type { GpuContext } from '../../gpu/context.ts';
import type { KernelDefinition, KernelInstance, OutputSpec, TensorSpec } from '../contract.ts';
import { tensorBytes } from '../tensor.ts';
import { NORM_EPS } from '../../reference/layer.ts';
import { layerFromGolden, layerGoldenMeta } from './layer-golden.ts';
import { layerTensorShapes, marginSafeLayerWeights, randomLayerWeights } from '../../reference/layer-inputs.ts';
import { decoderLayerReference } from '../../reference/layer.ts';
import { createMatmulStage, type MatmulShape } from '../linear/matmul.ts';
import { dsa } from '../sparse/dsa.ts';
import { mlaDecodeAbsorbed } from '../mla/decode-absorbed.ts';
import { mlaDecodeNaive } from '../mla/decode-naive.ts';
import { moeForward } from '../moe/forward.ts';
import { moeDenseFfn } from '../moe/dense-ffn.ts';
import { createNormStage, type NormShape } from './norm.ts';
import { createRopeStage, ropeCosSin, ropeTableBytes, type RopeShape } from './rope.ts';
import { createAddStage } from './residual-add.ts';
import { SCALED, checkLayer, denseConfig, dims, dsaConfig, layerSchema, layerStageCosts, layerStepCost, mhaConfig, mhaKernel, mlaConfig, moeConfig, perHeadCache, refAttention, refFfn, type LayerConfig } from './layer-config.ts';

interface Part {
  encode(pass: GPUComputePassEncoder): void;
  destroy?(): void;
}

const inputs = (c: LayerConfig): TensorSpec[] => layerTensorShapes(c, refAttention(c), refFfn(c)).map(([name, shape]) => ({ name, shape, dtype: 'f32' }));
const outputs = (c: LayerConfig): OutputSpec[] => [
  { name: 'h', shape: [c.T, c.dim], dtype: 'f32' },
  { name: 'out', shape: [c.T, c.dim], dtype: 'f32' },
];

/** Reference cost is small enough to search for margins (tests, fixtures); bench shapes draw plain weights. */
const MARGIN_SEARCH_FLOPS = 5e7;

function referenceFlops(c: LayerConfig): number {
  return layerStageCosts(c).reduce((a, s) => a + s.cost.flops, 0) * (c.S / Math.max(1, c.T));
}

async function createLayer(ctx: GpuContext, c: LayerConfig): Promise<KernelInstance> {
  const l = dims(c);
  const dsaMode = c.attention === 'mla_dsa';
  const mhaMode = perHeadCache(c); // mha, gqa: per-KV-head K and V in the cache
  const latentMode = !dsaMode && !mhaMode; // mla_dense / mla_naive: the MLA decode kernels' own tensors
  const owned: GPUBuffer[] = [];
  const subs: KernelInstance[] = [];
  const parts: Part[] = [];
  const destroyAll = () => {
    for (const p of parts) p.destroy?.();
    for (const s of subs) s.destroy();
    for (const b of owned) ctx.buffers.destroy(b);
  };
  try {
    const buf = (label: string, floats: number) => {
      const b = ctx.buffers.storage(`layer.deepseek_v32 ${label}`, Math.max(4, floats * 4));
      owned.push(b);
      return b;
    };
    const sub = async (made: Promise<KernelInstance>) => {
      const s = await made;
      subs.push(s);
      return s;
    };
    const att = await sub(
      dsaMode
        ? dsa.create(ctx, dsaConfig(c))
        : mhaMode
          ? mhaKernel(c).create(ctx, mhaConfig(c))
          : (c.attention === 'mla_naive' ? mlaDecodeNaive : mlaDecodeAbsorbed).create(ctx, mlaConfig(c)),
    );
    const ffn = c.ffn === 'moe' ? await sub(moeForward.create(ctx, moeConfig(c))) : await sub(moeDenseFfn.create(ctx, denseConfig(c)));

    // Weights: the sub-kernels' own input buffers where they read them, the layer's otherwise.
    const alias: Record<string, GPUBuffer | undefined> = {
      'attn.wkv_b.weight': latentMode ? att.tensors.wkv_b : undefined,
      ...(c.ffn === 'moe'
        ? {
            'ffn.gate.weight': ffn.tensors.gate_weight, 'ffn.gate.bias': ffn.tensors.gate_bias,
            'ffn.experts.w1': ffn.tensors.w1, 'ffn.experts.w2': ffn.tensors.w2, 'ffn.experts.w3': ffn.tensors.w3,
            'ffn.shared_experts.w1.weight': ffn.tensors.shared_w1, 'ffn.shared_experts.w2.weight': ffn.tensors.shared_w2, 'ffn.shared_experts.w3.weight': ffn.tensors.shared_w3,
          }
        : { 'ffn.w1.weight': ffn.tensors.w1, 'ffn.w2.weight': ffn.tensors.w2, 'ffn.w3.weight': ffn.tensors.w3 }),
    };
    const tensors: Record<string, GPUBuffer> = {};
    for (const spec of [...inputs(c), ...outputs(c)]) tensors[spec.name] = alias[spec.name] ?? buf(spec.name, tensorBytes(spec.shape, 'f32') / 4);
    const w = (name: string) => tensors[name]!;

    const xn = buf('xn', c.S * c.dim);
    const kvraw = buf('kv projection', c.S * (l.dc + l.dr));
    const qa = buf('q_a', c.T * l.ql);
    const qr = buf('qr', c.T * l.ql);
    const qpeRaw = buf('q_pe before RoPE', c.T * l.H * l.dr);
    // Where the per-head q_nope lands: its own buffer (absorbed next), the MLA kernel's, or the MHA query's first dn.
    const qNope = dsaMode ? { buf: buf('q_nope', c.T * l.H * l.dn), ld: l.H * l.dn, batch: l.dn } : mhaMode ? { buf: att.tensors.q!, ld: l.H * l.D2, batch: l.D2 } : { buf: att.tensors.q_nope!, ld: l.H * l.dn, batch: l.dn };
    const attnOut = buf('attention output', c.T * c.dim);
    const positions = buf('positions', c.S);
    const cosSin = buf('cos/sin', ropeTableBytes(c.S, l.dr) / 4);
    ctx.device.queue.writeBuffer(positions, 0, Int32Array.from({ length: c.S }, (_, i) => i));
    ctx.device.queue.writeBuffer(cosSin, 0, ropeCosSin(c.S, l.dr, c.rope_theta));
    const kraw = dsaMode ? buf('index-key projection', c.S * l.Di) : undefined;
    const kln = dsaMode ? buf('index-key LayerNorm', c.S * l.Di) : undefined;
    const qiRaw = dsaMode ? buf('index queries before RoPE', c.T * l.Hi * l.Di) : undefined;
    const o = latentMode ? att.tensors.out! : buf('attention heads', c.T * l.H * l.dv);
    const lat = mhaMode ? buf('latent rows', c.S * l.dc) : undefined;
    // GQA's W_UK, W_UV: wkv_b's heads mean-pooled per group, [G, (dn+dv)·dc] = P [G, H] · wkv_b [H, (dn+dv)·dc]
    // with P[g, h] = G/H inside the group. A server converts once; here an instance's first run does.
    const pooled = c.attention === 'gqa' ? buf('wkv_b pooled per KV head', l.G * (l.dn + l.dv) * l.dc) : undefined;
    const kvWeights = pooled ?? (mhaMode ? w('attn.wkv_b.weight') : undefined);

    const mm = async (label: string, s: MatmulShape, a: GPUBuffer, b: GPUBuffer, out: GPUBuffer) => {
      const p = await createMatmulStage(ctx, s, { a, b, c: out }, `layer ${label}`);
      parts.push(p);
      return p;
    };
    const nrm = async (label: string, s: NormShape, io: Parameters<typeof createNormStage>[2]) => {
      const p = await createNormStage(ctx, s, io, `layer ${label}`);
      parts.push(p);
      return p;
    };
    const rot = async (label: string, s: RopeShape, x: GPUBuffer, y: GPUBuffer) => {
      const p = await createRopeStage(ctx, s, { x, y, positions, cos_sin: cosSin }, `layer ${label}`);
      parts.push(p);
      return p;
    };

    // Cache rows r0 .. r0+n-1: attn_norm, the latent row [kv_norm(c_KV) ; RoPE(k_pe)], and the indexer key.
    const cacheRows = async (r0: number, n: number): Promise<Part[]> => {
      const K = l.dc + l.dr;
      const latent = dsaMode ? { buf: att.tensors.kv!, off: r0 * l.D, ld: l.D } : mhaMode ? { buf: lat!, off: r0 * l.dc, ld: l.dc } : { buf: att.tensors.kv_latent!, off: r0 * l.dc, ld: l.dc };
      // MHA / GQA: the shared k_pe is written into every KV head's key (head stride D2, source head stride 0).
      const kpe = dsaMode
        ? { buf: att.tensors.kv!, off: r0 * l.D + l.dc, ld: l.D, hs: 0, heads: 1 }
        : mhaMode
          ? { buf: att.tensors.k!, off: r0 * l.G * l.D2 + l.dn, ld: l.G * l.D2, hs: l.D2, heads: l.G }
          : { buf: att.tensors.k_pe!, off: r0 * l.dr, ld: l.dr, hs: 0, heads: 1 };
      const out: Part[] = [
        await nrm('attn_norm', { kind: 'rms', rows: n, d: c.dim, eps: NORM_EPS, x: { off: r0 * c.dim, ld: c.dim }, y: { off: r0 * c.dim, ld: c.dim } }, { x: w('x'), weight: w('attn_norm.weight'), y: xn }),
        await mm('wkv_a', { M: n, N: K, K: c.dim, trans_b: true, a: { off: r0 * c.dim }, c: { off: r0 * K } }, xn, w('attn.wkv_a.weight'), kvraw),
        await nrm('kv_norm', { kind: 'rms', rows: n, d: l.dc, eps: NORM_EPS, x: { off: r0 * K, ld: K }, y: { off: latent.off, ld: latent.ld } }, { x: kvraw, weight: w('attn.kv_norm.weight'), y: latent.buf }),
        await rot('k_pe RoPE', { rows: n, heads: kpe.heads, width: l.dr, rot: l.dr, layout: 'interleaved', pos_off: r0, x: { off: r0 * K + l.dc, ld: K, hs: 0 }, y: { off: kpe.off, ld: kpe.ld, hs: kpe.hs } }, kvraw, kpe.buf),
      ];
      if (mhaMode) {
        // k_nope[s, g] = W_UK[g] c_KV[s] and v[s, g] = W_UV[g] c_KV[s], once per token: the per-head cache MHA / GQA keep.
        const stride = (l.dn + l.dv) * l.dc;
        const rowsOut = { off: r0 * l.G * l.D2, ld: l.G * l.D2, batch: l.D2 };
        out.push(
          await mm('K expansion', { M: n, N: l.dn, K: l.dc, batch: l.G, trans_b: true, a: { off: r0 * l.dc, batch: 0 }, b: { off: 0, ld: l.dc, batch: stride }, c: rowsOut }, lat!, kvWeights!, att.tensors.k!),
          await mm('V expansion', { M: n, N: l.dv, K: l.dc, batch: l.G, trans_b: true, a: { off: r0 * l.dc, batch: 0 }, b: { off: l.dn * l.dc, ld: l.dc, batch: stride }, c: rowsOut }, lat!, kvWeights!, att.tensors.v!),
        );
      }
      if (dsaMode) {
        out.push(
          await mm('indexer wk', { M: n, N: l.Di, K: c.dim, trans_b: true, a: { off: r0 * c.dim }, c: { off: r0 * l.Di } }, xn, w('attn.indexer.wk.weight'), kraw!),
          await nrm('indexer k_norm', { kind: 'layer', rows: n, d: l.Di, eps: NORM_EPS, x: { off: r0 * l.Di, ld: l.Di }, y: { off: r0 * l.Di, ld: l.Di } }, { x: kraw!, weight: w('attn.indexer.k_norm.weight'), bias: w('attn.indexer.k_norm.bias'), y: kln! }),
          await rot('index key RoPE', { rows: n, heads: 1, width: l.Di, rot: l.dr, layout: 'half', pos_off: r0, x: { off: r0 * l.Di, ld: l.Di, hs: 0 }, y: { off: r0 * l.Di, ld: l.Di, hs: 0 } }, kln!, att.tensors.k_index!),
        );
      }
      return out;
    };

    const conversion: Part[] = [];
    if (pooled) {
      const pool = buf('group means', l.G * l.H);
      const group = l.H / l.G;
      ctx.device.queue.writeBuffer(pool, 0, Float32Array.from({ length: l.G * l.H }, (_, i) => (Math.floor(i % l.H / group) === Math.floor(i / l.H) ? 1 / group : 0)));
      conversion.push(await mm('GQA pooling', { M: l.G, N: (l.dn + l.dv) * l.dc, K: l.H, trans_b: false }, pool, w('attn.wkv_b.weight'), pooled));
    }
    // The first run only: weights converted, then the earlier tokens' cache rows.
    const fill = [...conversion, ...(l.first > 0 ? await cacheRows(0, l.first) : [])];
    const stages: { name: string; parts: Part[] }[] = [];
    stages.push({ name: 'kv + index-key write', parts: await cacheRows(l.first, c.T) });

    const qk = l.dn + l.dr;
    stages.push({
      name: 'q projection',
      parts: [
        await mm('wq_a', { M: c.T, N: l.ql, K: c.dim, trans_b: true, a: { off: l.first * c.dim } }, xn, w('attn.wq_a.weight'), qa),
        await nrm('q_norm', { kind: 'rms', rows: c.T, d: l.ql, eps: NORM_EPS }, { x: qa, weight: w('attn.q_norm.weight'), y: qr }),
        // wq_b's rows are head-major [H, dn + dr]: one batched launch per part writes q_nope and q_pe apart.
        await mm('wq_b nope', { M: c.T, N: l.dn, K: l.ql, batch: l.H, trans_b: true, a: { batch: 0 }, b: { off: 0, ld: l.ql, batch: qk * l.ql }, c: { ld: qNope.ld, batch: qNope.batch } }, qr, w('attn.wq_b.weight'), qNope.buf),
        await mm('wq_b pe', { M: c.T, N: l.dr, K: l.ql, batch: l.H, trans_b: true, a: { batch: 0 }, b: { off: l.dn * l.ql, ld: l.ql, batch: qk * l.ql }, c: { ld: l.H * l.dr, batch: l.dr } }, qr, w('attn.wq_b.weight'), qpeRaw),
        await rot(
          'q_pe RoPE',
          {
            rows: c.T, heads: l.H, width: l.dr, rot: l.dr, layout: 'interleaved', pos_off: l.first, x: { off: 0, ld: l.H * l.dr, hs: l.dr },
            y: dsaMode ? { off: l.dc, ld: l.H * l.D, hs: l.D } : mhaMode ? { off: l.dn, ld: l.H * l.D2, hs: l.D2 } : { off: 0, ld: l.H * l.dr, hs: l.dr },
          },
          qpeRaw,
          dsaMode || mhaMode ? att.tensors.q! : att.tensors.q_pe!,
        ),
      ],
    });

    if (dsaMode) {
      stages.push({
        name: 'index queries',
        parts: [
          await mm('indexer wq_b', { M: c.T, N: l.Hi * l.Di, K: l.ql, trans_b: true }, qr, w('attn.indexer.wq_b.weight'), qiRaw!),
          await rot('index query RoPE', { rows: c.T, heads: l.Hi, width: l.Di, rot: l.dr, layout: 'half', pos_off: l.first, x: { off: 0, ld: l.Hi * l.Di, hs: l.Di }, y: { off: 0, ld: l.Hi * l.Di, hs: l.Di } }, qiRaw!, att.tensors.q_index!),
          await mm('indexer weights_proj', { M: c.T, N: l.Hi, K: c.dim, trans_b: true, a: { off: l.first * c.dim }, alpha: l.Hi ** -0.5 * l.Di ** -0.5 }, xn, w('attn.indexer.weights_proj.weight'), att.tensors.w_index!),
        ],
      });
      const [indexer, topk, attend] = att.stages!;
      stages.push({ name: 'indexer', parts: [indexer!] }, { name: 'top-k', parts: [topk!] });
      // q_lat[t, h] = q_nope[t, h] · W_UK[h]: wkv_b's rows h*(dn+dv) .. +dn, [dn, dc] per head, into the first dc of each q row.
      const stride = (l.dn + l.dv) * l.dc;
      stages.push({
        name: 'absorb W_UK',
        parts: [await mm('W_UK', { M: c.T, N: l.dc, K: l.dn, batch: l.H, trans_b: false, a: { ld: l.H * l.dn, batch: l.dn }, b: { off: 0, ld: l.dc, batch: stride }, c: { ld: l.H * l.D, batch: l.D } }, qNope.buf, w('attn.wkv_b.weight'), att.tensors.q!)],
      });
      stages.push({ name: 'attention', parts: [attend!] });
      // o[t, h] = W_UV[h] · o_lat[t, h]: rows h*(dn+dv)+dn .. +dv of wkv_b, [dv, dc] per head.
      stages.push({
        name: 'un-absorb W_UV',
        parts: [await mm('W_UV', { M: c.T, N: l.dv, K: l.dc, batch: l.H, trans_b: true, a: { ld: l.H * l.dc, batch: l.dc }, b: { off: l.dn * l.dc, ld: l.dc, batch: stride }, c: { ld: l.H * l.dv, batch: l.dv } }, att.tensors.out!, w('attn.wkv_b.weight'), o)],
      });
    } else if (mhaMode) {
      // The flash kernel's output heads are D2 wide (V padded): the first dv of each, packed for wo (a copy: RoPE with nothing rotated).
      const gather = await rot('head gather', { rows: c.T, heads: l.H, width: l.dv, rot: 0, layout: 'interleaved', pos_off: 0, x: { off: 0, ld: l.H * l.D2, hs: l.D2 }, y: { off: 0, ld: l.H * l.dv, hs: l.dv } }, att.tensors.out!, o);
      stages.push({ name: 'attention', parts: [att, gather] });
    } else {
      stages.push({ name: 'attention', parts: [att] });
    }

    stages.push({ name: 'output projection', parts: [await mm('wo', { M: c.T, N: c.dim, K: l.H * l.dv, trans_b: true }, o, w('attn.wo.weight'), attnOut)] });
    const add1 = await createAddStage(ctx, { n: c.T * c.dim, a_off: l.first * c.dim }, { a: w('x'), b: attnOut, y: w('h') }, 'layer residual (attention)');
    parts.push(add1);
    stages.push({
      name: 'residual + ffn_norm',
      parts: [add1, await nrm('ffn_norm', { kind: 'rms', rows: c.T, d: c.dim, eps: NORM_EPS }, { x: w('h'), weight: w('ffn_norm.weight'), y: ffn.tensors.x! })],
    });
    if (ffn.stages) for (const s of ffn.stages) stages.push({ name: s.name, parts: [s] });
    else stages.push({ name: 'dense ffn', parts: [ffn] });
    const add2 = await createAddStage(ctx, { n: c.T * c.dim }, { a: w('h'), b: ffn.tensors.out!, y: w('out') }, 'layer residual (ffn)');
    parts.push(add2);
    stages.push({ name: 'residual', parts: [add2] });

    const encodeStage = (s: { parts: Part[] }, pass: GPUComputePassEncoder) => {
      for (const p of s.parts) p.encode(pass);
    };
    let filled = fill.length === 0;
    return {
      tensors,
      stages: stages.map((s) => ({ name: s.name, encode: (pass: GPUComputePassEncoder) => encodeStage(s, pass) })),
      encode(pass) {
        if (!filled) {
          encodeStage({ parts: fill }, pass);
          filled = true;
        }
        for (const s of stages) encodeStage(s, pass);
      },
      destroy: destroyAll,
    };
  } catch (e) {
    destroyAll();
    throw e;
  }
}

export const deepseekV32Layer: KernelDefinition<LayerConfig> = {
  id: 'layer.deepseek_v32',
  family: 'layer',
  title: 'DeepSeek-V3.2 decoder layer (MLA + DSA + MoE), every stage a kernel',
  explain:
    'One whole transformer block as DeepSeek-V3.2-Exp runs it: RMSNorm, the low-rank query path, the 576-value latent cache row per token (c_KV plus a ' +
    'shared RoPE key), the lightning indexer choosing index_topk latent rows per query, absorbed MLA over those rows (W_UK folded into the query, W_UV ' +
    'after), the output projection and residual, then the MoE with group-limited sigmoid routing, routed and shared SwiGLU experts, and the second ' +
    'residual. The same weights run as DeepSeek-V3 (dense absorbed MLA), as MHA with per-head K/V cached, as GQA with 8 KV heads mean-pooled from ' +
    'the heads\' K/V projections, or with a dense FFN of the same active width, so the stage times show what ' +
    'each trick saves. The first run of an instance also fills the cache rows of the S-T earlier tokens (as the earlier steps would); every run is then one step.',
  sources: [
    'deepseek-ai/DeepSeek-V3.2-Exp inference/model.py (Block, MLA, Indexer, MoE)',
    'DeepSeek-AI 2025, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention"',
    'DeepSeek-V3 Technical Report (arXiv:2412.19437), sec. 2.1',
    'Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints" (arXiv:2305.13245), sec. 2.1: mean-pooled K/V heads',
  ],
  implements: 'layer.deepseek_v32',
  schema: layerSchema,
  check: checkLayer,
  inputs,
  outputs,
  cost(c) {
    // This step's stages: the cache fill stands for earlier steps.
    const step = layerStepCost(c);
    const l = dims(c);
    // What this project allocates: f32 latent rows (+ index keys), or per-KV-head K and V (V padded to D2).
    const kv = perHeadCache(c) ? 2 * c.S * l.G * l.D2 * 4 : l.D * c.S * 4 + (c.attention === 'mla_dsa' ? l.Di * c.S * 4 : 0);
    return { ...step, kvCacheBytes: kv };
  },
  randomInputs(c, rng) {
    if (referenceFlops(c) > MARGIN_SEARCH_FLOPS) return randomLayerWeights(rng, c, refAttention(c), refFfn(c));
    // Tiny cases (tests) may redraw often; a fixture-sized reference a few dozen times.
    return marginSafeLayerWeights(rng, c, refAttention(c), refFfn(c), referenceFlops(c) < 2e6 ? 200 : 40).weights;
  },
  reference(x, c) {
    const r = decoderLayerReference(x, c, refAttention(c), refFfn(c));
    return { h: r.h, out: r.out };
  },
  create: createLayer,
  fromGolden: (meta, shapes) => layerFromGolden(meta, shapes, inputs),
  goldenMeta: layerGoldenMeta,
  benchmarks: [
    // `--study layer` runs the same scaled shape at S = 1K..8K for four variants.
    { name: 'decode S=4096, scaled V3.2 (see --study layer for the factors)', config: { ...SCALED, T: 1, S: 4096 } },
  ],
  testCases: [
    { name: 'decode T=1 of S=21, the sample\'s dims', config: { T: 1, S: 21 } },
    { name: 'T=4 of S=19, odd dims, 3 heads', config: { T: 4, S: 19, dim: 36, n_heads: 3, q_lora_rank: 20, kv_lora_rank: 12, qk_nope_head_dim: 6, qk_rope_head_dim: 4, v_head_dim: 5, index_n_heads: 4, index_head_dim: 12, index_topk: 5, moe_inter_dim: 12 } },
    { name: 'prefill T=S=9 (no cache fill)', config: { T: 9, S: 9, index_topk: 4, index_n_heads: 4 } },
    { name: 'V3 dense MLA, T=3 of S=17', config: { T: 3, S: 17, attention: 'mla_dense' } },
    { name: 'dense FFN of equal active width, T=2 of S=12', config: { T: 2, S: 12, ffn: 'dense' } },
    { name: 'naive MLA (latent expanded every step), T=2 of S=10', config: { T: 2, S: 10, attention: 'mla_naive' } },
    { name: 'MHA-equivalent (per-head K/V cache), T=3 of S=15, V narrower than K', config: { T: 3, S: 15, attention: 'mha', v_head_dim: 12 } },
    { name: 'GQA, 2 KV heads mean-pooled from 4, decode T=1 of S=13', config: { T: 1, S: 13, attention: 'gqa', n_heads: 4, gqa_kv_heads: 2 } },
    { name: 'GQA, 8 KV heads mean-pooled from 16, T=4 of S=11, V narrower than K', config: { T: 4, S: 11, attention: 'gqa', n_heads: 16, gqa_kv_heads: 8, v_head_dim: 12, dim: 48 } },
  ],
};
