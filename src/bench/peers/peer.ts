// What the peers study asks of each side (onnxruntime-web, tfjs-webgpu, this project): prepare a workload
// with its inputs resident on the GPU, run it, and hand back the outputs in this project's layout.
import type { PeerInputs, PeerWorkload } from './workloads.ts';

export type PeerOutputs = Record<string, Float32Array | Int32Array>;

export interface PreparedPeer {
  /** One run: enqueue the work and wait until the GPU has finished it (the timed region). */
  step(): Promise<void>;
  /** One run's outputs read back (attention: out [T,Hq,D]; routing: weights and indices [N,topk]). */
  outputs(): Promise<PeerOutputs>;
  dispose(): void;
}

export interface Peer {
  name: string;
  version: string;
  /** How a run is timed and where its inputs live, one sentence. */
  method: string;
  prepare(w: PeerWorkload, inputs: PeerInputs): Promise<PreparedPeer>;
}
