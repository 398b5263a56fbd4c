// layer.rope: host side of shaders/layer/rope.wgsl, RoPE at given positions in either pair layout, on strided
// head views (`createRopeStage`), with the cos/sin table built once on the host in float64.
import * as d from 'typegpu/data';
import wgsl from '../../../shaders/layer/rope.wgsl?raw';
import { storage, uniform } from '../../gpu/bindings.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { createKernel, grid } from '../../gpu/shader.ts';
import type { ConfigSchema, KernelDefinition, TensorSpec, ValidationIssue } from '../contract.ts';
import { allocate, planned, planScratch, plannedTensors, plannedUniform } from '../common/buffer-plan.ts';
import { ropeTable } from '../../reference/mla.ts';
import { applyRope, type RopeLayout } from '../../reference/layer.ts';

export type RopeConfig = { rows: number; heads: number; head_dim: number; rot: number; layout: string; theta: number; positions: number };

/** Heads of a row as the kernel reads or writes them (elements): row 0's offset, row stride, head stride. */
export interface HeadView {
  off: number;
  ld: number;
  hs: number;
}

export interface RopeShape {
  rows: number;
  heads: number;
  /** Dims written per head: the first `rot` rotated, the rest copied. */
  width: number;
  rot: number;
  layout: RopeLayout;
  /** Row r takes the position positions[pos_off + r]. */
  pos_off: number;
  x: HeadView;
  y: HeadView;
}

const CONSTANTS = { WG: 256 } as const;

const RopeParams = d
  .struct({
    rows: d.u32,
    heads: d.u32,
    width: d.u32,
    rot: d.u32,
    pos_off: d.u32,
    x_off: d.u32,
    x_ld: d.u32,
    x_hs: d.u32,
    y_off: d.u32,
    y_ld: d.u32,
    y_hs: d.u32,
  })
  .$name('RopeParams');

const BINDINGS = {
  params: uniform(RopeParams),
  x: storage('elem'),
  positions: storage('i32'),
  cos_sin: storage('vec2<f32>'),
  y: storage('elem', 'read_write'),
};

/** (cos, sin) of pair i at positions 0..count-1, [count, rot/2] interleaved, computed in float64, stored f32. */
export function ropeCosSin(count: number, rot: number, theta: number): Float32Array {
  return Float32Array.from(ropeTable(0, count, rot, theta));
}

export const ropeTableBytes = (count: number, rot: number) => count * (rot / 2) * 8;

const schema: ConfigSchema<RopeConfig> = {
  rows: { type: 'int', label: 'rows', doc: 'tokens, each at its own position', default: 64, min: 1, max: 1 << 20 },
  heads: { type: 'int', label: 'heads', doc: 'vectors per token (query heads; 1 for a shared key)', default: 16, min: 1, max: 1024 },
  head_dim: { type: 'int', label: 'head dim', doc: 'values per head; the first `rot` rotate, the rest are copied', default: 64, min: 2, max: 4096 },
  rot: { type: 'int', label: 'rotated dims', doc: 'qk_rope_head_dim (DeepSeek-V3: 64): even, at most head dim', default: 64, min: 2, max: 4096 },
  layout: { type: 'enum', label: 'pair layout', doc: 'interleaved: pairs (2i, 2i+1) (MLA q_pe/k_pe); half: pairs (i, i + rot/2) (the V3.2 indexer)', default: 'interleaved', values: ['interleaved', 'half'] },
  theta: { type: 'number', label: 'rope_theta', doc: 'RoPE base (DeepSeek-V3: 10000)', default: 10000, min: 1, max: 1e9 },
  positions: { type: 'int', label: 'table positions', doc: 'positions the cos/sin table holds (0 .. n-1); every input position must be below it', default: 4096, min: 1, max: 1 << 22 },
};

function inputs(c: RopeConfig): TensorSpec[] {
  return [
    { name: 'x', shape: [c.rows, c.heads, c.head_dim], dtype: 'f32' },
    { name: 'positions', shape: [c.rows], dtype: 'i32' },
  ];
}

const outputs = (c: RopeConfig): TensorSpec[] => [{ name: 'y', shape: [c.rows, c.heads, c.head_dim], dtype: 'f32' }];

function plan(c: RopeConfig) {
  return { ...plannedTensors(inputs(c), outputs(c), ['x', 'positions', 'y']), cos_sin: planned('scratch', ropeTableBytes(c.positions, c.rot)) };
}

export function checkRope(c: Pick<RopeConfig, 'rot' | 'head_dim'>, fields = { rot: 'rot' }): ValidationIssue[] {
  if (c.rot % 2 !== 0) return [{ field: fields.rot, message: `${c.rot} is odd; RoPE rotates pairs of dimensions` }];
  if (c.rot > c.head_dim) return [{ field: fields.rot, message: `${c.rot} rotated dims exceed the head dim ${c.head_dim}` }];
  return [];
}

export interface RopeStage {
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

export async function createRopeStage(
  ctx: GpuContext,
  s: RopeShape,
  io: { x: GPUBuffer; y: GPUBuffer; positions: GPUBuffer; cos_sin: GPUBuffer },
  label = 'layer.rope',
): Promise<RopeStage> {
  const kernel = await createKernel(ctx, { label, wgsl, bindings: BINDINGS, constants: { ...CONSTANTS, HALF: s.layout === 'half' ? 1 : 0 } }, ['rope_main'] as const);
  const made = allocate(ctx, label, {
    params: plannedUniform(RopeParams, {
      rows: s.rows, heads: s.heads, width: s.width, rot: s.rot, pos_off: s.pos_off,
      x_off: s.x.off, x_ld: s.x.ld, x_hs: s.x.hs, y_off: s.y.off, y_ld: s.y.ld, y_hs: s.y.hs,
    }),
  });
  const group = kernel.bind({ params: made.buffers.params, ...io }, label);
  const groups = grid(Math.ceil((s.rows * s.heads * s.width) / CONSTANTS.WG), ctx.limits.maxComputeWorkgroupsPerDimension);
  return {
    encode(pass) {
      pass.setBindGroup(0, group);
      pass.setPipeline(kernel.pipelines.rope_main);
      pass.dispatchWorkgroups(...groups);
    },
    destroy: made.destroy,
  };
}

export function ropeCost(c: { rows: number; heads: number; width: number; rot: number }) {
  // Each row also reads its position's cos/sin entries from the table written once at create.
  return { flops: 3 * c.rows * c.heads * c.rot, bytes: 4 * (2 * c.rows * c.heads * c.width + c.rows + c.rows * c.rot), intermediateBytes: 4 * c.rows * c.rot };
}

export const rope: KernelDefinition<RopeConfig> = {
  id: 'layer.rope',
  family: 'layer',
  title: 'Rotary position embedding (interleaved or half pairs)',
  explain:
    'RoPE turns each pair of a vector by an angle proportional to its position, so q·k depends only on the distance between tokens. DeepSeek-V3.2 uses it twice ' +
    'with different pairings on the same positions: MLA rotates the decoupled q_pe / k_pe as adjacent complex pairs, the indexer rotates the first 64 dims of its ' +
    'q and k as (i, i + 32) halves. A mismatch silently moves every score, so the layout is a parameter here. One thread per output value reads its pair and ' +
    'a cos/sin entry from a table computed once in float64 (f32 angles drift at long positions).',
  sources: ['Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding"', 'deepseek-ai/DeepSeek-V3.2-Exp inference/model.py (apply_rotary_emb, interleaved flag)'],
  schema,
  check: (c) => checkRope(c),
  inputs,
  outputs,
  plan,
  scratch: (c) => planScratch(plan(c)),
  cost: (c) => ropeCost({ ...c, width: c.head_dim }),
  randomInputs(c, rng) {
    return {
      x: { shape: [c.rows, c.heads, c.head_dim], data: Float32Array.from({ length: c.rows * c.heads * c.head_dim }, () => rng.normal()) },
      positions: { shape: [c.rows], data: Int32Array.from({ length: c.rows }, () => rng.int(0, c.positions - 1)) },
    };
  },
  reference(x, c) {
    const y = Float64Array.from(x.x!.data);
    const row = c.heads * c.head_dim;
    for (let r = 0; r < c.rows; r++) {
      const one = y.subarray(r * row, (r + 1) * row);
      applyRope(one, 1, c.heads, c.head_dim, 0, c.rot, x.positions!.data[r]!, c.theta, c.layout as RopeLayout);
    }
    return { y: { shape: [c.rows, c.heads, c.head_dim], data: y } };
  },
  async create(ctx, c) {
    const made = allocate(ctx, 'layer.rope', plan(c));
    try {
      ctx.device.queue.writeBuffer(made.buffers.cos_sin, 0, ropeCosSin(c.positions, c.rot, c.theta));
      const packed = { off: 0, ld: c.heads * c.head_dim, hs: c.head_dim };
      const stage = await createRopeStage(
        ctx,
        { rows: c.rows, heads: c.heads, width: c.head_dim, rot: c.rot, layout: c.layout as RopeLayout, pos_off: 0, x: packed, y: packed },
        { x: made.buffers.x, y: made.buffers.y, positions: made.buffers.positions, cos_sin: made.buffers.cos_sin },
      );
      return {
        tensors: made.tensors,
        encode: (pass) => stage.encode(pass),
        destroy() {
          stage.destroy();
          made.destroy();
        },
      };
    } catch (e) {
      made.destroy();
      throw e;
    }
  },
  benchmarks: [{ name: 'queries 1024 tokens x 16 heads x 64 rope dims', config: { rows: 1024, heads: 16, head_dim: 64, rot: 64 } }],
  testCases: [
    { name: 'interleaved, odd heads, positions to 5000', config: { rows: 7, heads: 3, head_dim: 10, rot: 10, positions: 5000 } },
    { name: 'half layout on the first 8 of 20 dims (indexer q)', config: { rows: 6, heads: 5, head_dim: 20, rot: 8, layout: 'half' } },
    { name: 'half layout, one shared key head, theta 50000', config: { rows: 33, heads: 1, head_dim: 12, rot: 12, layout: 'half', theta: 50000, positions: 40 } },
  ],
};
