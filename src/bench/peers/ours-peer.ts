// This project's kernel for a workload, run through the registry exactly as the bench and the UI run it,
// and timed the way the peers are: wall time of one submit and reading the outputs back, inputs resident.
import { acquireBrowserGpu } from '../../gpu/browser.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { createInstance, encodeOnce, readOutputs, uploadInputs } from '../../kernels/execute.ts';
import { findKernel } from '../../kernels/registry.ts';
import type { HostTensor } from '../../kernels/tensor.ts';
import type { Peer, PeerOutputs, PreparedPeer } from './peer.ts';
import { kernelConfig, type PeerInputs, type PeerWorkload } from './workloads.ts';

let ctx: GpuContext | undefined;

export const oursPeer: Peer = {
  name: 'this project',
  version: '',
  method: 'the registered kernel (f32 storage); wall time of one submit + reading the outputs back, inputs resident',
  async prepare(w: PeerWorkload, x: PeerInputs): Promise<PreparedPeer> {
    ctx ??= await acquireBrowserGpu();
    const gpu = ctx;
    const def = findKernel(w.kernel);
    if (!def) throw new Error(`peers: ${w.kernel} is not registered`);
    const config = { ...Object.fromEntries(Object.entries(def.schema).map(([k, f]) => [k, f.default])), ...kernelConfig(w) };
    const instance = await createInstance(gpu, def, config);
    const host: Record<string, HostTensor> = {};
    for (const spec of def.inputs(config)) host[spec.name] = { shape: spec.shape, data: x[spec.name]! };
    uploadInputs(gpu, instance, def.inputs(config), host);
    return {
      async step() {
        encodeOnce(gpu, instance);
        await readOutputs(gpu, instance, def.outputs(config));
      },
      async outputs(): Promise<PeerOutputs> {
        encodeOnce(gpu, instance);
        const got = await readOutputs(gpu, instance, def.outputs(config));
        const out: PeerOutputs = {};
        for (const [k, t] of Object.entries(got)) out[k] = t.data instanceof Int32Array || t.data instanceof Uint32Array ? Int32Array.from(t.data) : Float32Array.from(t.data);
        return out;
      },
      dispose() {
        instance.destroy();
      },
    };
  },
};
