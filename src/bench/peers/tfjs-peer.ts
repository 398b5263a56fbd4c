// tfjs-backend-webgpu as a peer: the same math in tfjs ops (batched matMul with transposeB, softmax,
// sigmoid, topk). Inputs are uploaded once and stay on the GPU as tensors; a run is the ops plus reading the
// outputs back (the only completion signal tfjs exposes for sure: its queue flushes are internal).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Peer, PeerOutputs, PreparedPeer } from './peer.ts';
import { fromHeadsMajor, headsMajor, type PeerInputs, type PeerWorkload } from './workloads.ts';

/**
 * A fresh backend per workload: with one backend kept across workloads, tfjs-webgpu 4.22 returned wrong
 * routing and prefill outputs here once buffers of an earlier workload had been released to its pool
 * (each workload alone, or in another order, verified). Starting clean keeps every workload verifiable.
 */
async function backend(): Promise<WebGPUBackend> {
  tf.engine().reset();
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('tfjs: the webgpu backend did not initialise');
  await tf.ready();
  return tf.backend() as WebGPUBackend;
}

export const tfjsPeer: Peer = {
  name: 'tfjs-webgpu',
  version: tf.version_core,
  method: 'tfjs-backend-webgpu ops; inputs resident as tensors; wall time of the ops + reading the outputs back',
  async prepare(w: PeerWorkload, x: PeerInputs): Promise<PreparedPeer> {
    await backend();
    const held: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => (held.push(t), t);
    let compute: () => tf.Tensor[];
    let toOutputs: (ts: tf.Tensor[]) => Promise<PeerOutputs>;
    if (w.kind === 'attention') {
      const h = headsMajor(w, x);
      const q = keep(tf.tensor3d(h.q, [w.Hkv, h.rows, w.D]));
      const k = keep(tf.tensor3d(h.k, [w.Hkv, w.S, w.D]));
      const v = keep(tf.tensor3d(h.v, [w.Hkv, w.S, w.D]));
      const mask = h.mask ? keep(tf.tensor2d(h.mask, [w.T, w.S])) : undefined;
      const scale = keep(tf.scalar(h.scale));
      compute = () =>
        tf.tidy(() => {
          let s = tf.mul(tf.matMul(q, k, false, true), scale);
          if (mask) s = tf.add(s, mask);
          return [tf.matMul(tf.softmax(s), v)];
        });
      toOutputs = async ([o]) => ({ out: fromHeadsMajor(w, (await o!.data()) as Float32Array) });
    } else if (w.kind === 'matmul') {
      const a = keep(tf.tensor2d(x.a!, [w.M, w.K]));
      const b = keep(tf.tensor2d(x.b!, [w.K, w.N]));
      compute = () => [tf.matMul(a, b)];
      toOutputs = async ([c]) => ({ c: Float32Array.from((await c!.data()) as Float32Array) });
    } else {
      const xs = keep(tf.tensor2d(x.x!, [w.N, w.dim]));
      const g = keep(tf.tensor2d(x.gate_weight!, [w.E, w.dim]));
      compute = () =>
        tf.tidy(() => {
          const { values, indices } = tf.topk(tf.sigmoid(tf.matMul(xs, g, false, true)), w.topk);
          return [tf.div(values, tf.sum(values, -1, true)), indices];
        });
      toOutputs = async ([wt, idx]) => ({ weights: Float32Array.from((await wt!.data()) as Float32Array), indices: Int32Array.from((await idx!.data()) as Int32Array) });
    }
    return {
      async step() {
        const out = compute();
        try {
          await Promise.all(out.map((t) => t.data()));
        } finally {
          tf.dispose(out);
        }
      },
      async outputs() {
        const out = compute();
        try {
          return await toOutputs(out);
        } finally {
          tf.dispose(out);
        }
      },
      dispose() {
        tf.dispose(held);
      },
    };
  },
};
