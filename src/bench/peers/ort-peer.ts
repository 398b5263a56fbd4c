// onnxruntime-web's WebGPU execution provider as a peer: each workload is a small ONNX graph of standard ops
// (MatMul, Softmax, Sigmoid, TopK; the matmul workload is one MatMul), the inputs are GPU buffers on ORT's own device (Tensor.fromGpuBuffer) and
// the outputs are GPU tensors (preferredOutputLocation) read back once per run, as every side's are.
import * as ort from 'onnxruntime-web/webgpu';
import { onnxModel, type Graph } from './onnx-graph.ts';
import type { Peer, PeerOutputs, PreparedPeer } from './peer.ts';
import { fromHeadsMajor, headsMajor, type PeerInputs, type PeerWorkload } from './workloads.ts';

function attentionGraph(w: Extract<PeerWorkload, { kind: 'attention' }>, masked: boolean, rows: number, scale: number): Graph {
  const nodes: Graph['nodes'] = [
    { op: 'MatMul', inputs: ['q', 'kT'], outputs: ['s'] },
    { op: 'Mul', inputs: ['s', 'scale'], outputs: ['s_scaled'] },
  ];
  if (masked) nodes.push({ op: 'Add', inputs: ['s_scaled', 'mask'], outputs: ['s_masked'] });
  nodes.push(
    { op: 'Softmax', inputs: [masked ? 's_masked' : 's_scaled'], outputs: ['p'], attrs: { axis: { int: -1 } } },
    { op: 'MatMul', inputs: ['p', 'v'], outputs: ['out'] },
  );
  return {
    inputs: [
      { name: 'q', type: 'float32', dims: [w.Hkv, rows, w.D] },
      { name: 'kT', type: 'float32', dims: [w.Hkv, w.D, w.S] },
      { name: 'v', type: 'float32', dims: [w.Hkv, w.S, w.D] },
      ...(masked ? [{ name: 'mask', type: 'float32' as const, dims: [w.T, w.S] }] : []),
    ],
    outputs: [{ name: 'out', type: 'float32', dims: [w.Hkv, rows, w.D] }],
    initializers: [{ name: 'scale', type: 'float32', dims: [], values: [scale] }],
    nodes,
  };
}

function routingGraph(w: Extract<PeerWorkload, { kind: 'routing' }>): Graph {
  return {
    inputs: [
      { name: 'x', type: 'float32', dims: [w.N, w.dim] },
      { name: 'wT', type: 'float32', dims: [w.dim, w.E] },
    ],
    outputs: [
      { name: 'weights', type: 'float32', dims: [w.N, w.topk] },
      { name: 'indices', type: 'int64', dims: [w.N, w.topk] },
    ],
    initializers: [
      { name: 'k', type: 'int64', dims: [1], values: [w.topk] },
      { name: 'axes', type: 'int64', dims: [1], values: [-1] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'wT'], outputs: ['logits'] },
      { op: 'Sigmoid', inputs: ['logits'], outputs: ['scores'] },
      { op: 'TopK', inputs: ['scores', 'k'], outputs: ['top', 'indices'], attrs: { axis: { int: -1 } } },
      { op: 'ReduceSum', inputs: ['top', 'axes'], outputs: ['total'], attrs: { keepdims: { int: 1 } } },
      { op: 'Div', inputs: ['top', 'total'], outputs: ['weights'] },
    ],
  };
}

function matmulGraph(w: Extract<PeerWorkload, { kind: 'matmul' }>): Graph {
  return {
    inputs: [
      { name: 'a', type: 'float32', dims: [w.M, w.K] },
      { name: 'b', type: 'float32', dims: [w.K, w.N] },
    ],
    outputs: [{ name: 'c', type: 'float32', dims: [w.M, w.N] }],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
  };
}

let configured = false;
function configure(): void {
  if (configured) return;
  // One wasm thread: the page is not cross-origin isolated, and the work under test runs on the GPU.
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  configured = true;
}

export const ortPeer: Peer = {
  name: 'onnxruntime-web',
  version: ort.env.versions.web ?? 'unknown',
  method: 'WebGPU EP, standard ONNX ops; inputs as GPU buffers, outputs kept on the GPU; wall time of session.run + reading the outputs back',
  async prepare(w: PeerWorkload, x: PeerInputs): Promise<PreparedPeer> {
    configure();
    let graph: Graph;
    let host: Record<string, { data: Float32Array; dims: number[] }>;
    if (w.kind === 'attention') {
      const h = headsMajor(w, x);
      graph = attentionGraph(w, h.mask !== undefined, h.rows, h.scale);
      host = {
        q: { data: h.q, dims: [w.Hkv, h.rows, w.D] },
        kT: { data: h.kT, dims: [w.Hkv, w.D, w.S] },
        v: { data: h.v, dims: [w.Hkv, w.S, w.D] },
        ...(h.mask ? { mask: { data: h.mask, dims: [w.T, w.S] } } : {}),
      };
    } else if (w.kind === 'matmul') {
      graph = matmulGraph(w);
      host = { a: { data: x.a!, dims: [w.M, w.K] }, b: { data: x.b!, dims: [w.K, w.N] } };
    } else {
      graph = routingGraph(w);
      const wT = new Float32Array(w.dim * w.E);
      for (let e = 0; e < w.E; e++) for (let j = 0; j < w.dim; j++) wT[j * w.E + e] = x.gate_weight![e * w.dim + j]!;
      host = { x: { data: x.x!, dims: [w.N, w.dim] }, wT: { data: wT, dims: [w.dim, w.E] } };
    }
    const session = await ort.InferenceSession.create(onnxModel(graph), {
      executionProviders: ['webgpu'],
      preferredOutputLocation: 'gpu-buffer',
      graphOptimizationLevel: 'all',
    });
    const device = (await ort.env.webgpu.device) as GPUDevice;
    const buffers: GPUBuffer[] = [];
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(host)) {
      const buf = device.createBuffer({ size: Math.ceil(t.data.byteLength / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(buf, 0, t.data);
      buffers.push(buf);
      feeds[name] = ort.Tensor.fromGpuBuffer(buf, { dataType: 'float32', dims: t.dims });
    }
    const run = () => session.run(feeds);
    return {
      async step() {
        const out = await run();
        try {
          await Promise.all(Object.values(out).map((t) => t.getData()));
        } finally {
          for (const t of Object.values(out)) t.dispose();
        }
      },
      async outputs(): Promise<PeerOutputs> {
        const out = await run();
        try {
          if (w.kind === 'attention') return { out: fromHeadsMajor(w, (await out.out!.getData()) as Float32Array) };
          if (w.kind === 'matmul') return { c: Float32Array.from((await out.c!.getData()) as Float32Array) };
          const idx = (await out.indices!.getData()) as BigInt64Array;
          return { weights: Float32Array.from((await out.weights!.getData()) as Float32Array), indices: Int32Array.from(idx, (v) => Number(v)) };
        } finally {
          for (const t of Object.values(out)) t.dispose();
        }
      },
      dispose() {
        for (const b of buffers) b.destroy();
        void session.release();
      },
    };
  },
};
