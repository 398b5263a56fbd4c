// The peers study inside one page: for each workload draw one set of inputs, compute the float64 reference
// once, then for each side (this project, onnxruntime-web, tfjs-webgpu) check one run's outputs against it
// and time warm-up + repeats of the same run. Sides run one after another on the same adapter.
import { compareOutputs } from '../../kernels/check.ts';
import { findKernel } from '../../kernels/registry.ts';
import { createRng, freshSeed, randomNormal } from '../../kernels/random.ts';
import type { HostTensor } from '../../kernels/tensor.ts';
import { spread, type Spread } from '../stats.ts';
import type { Peer } from './peer.ts';
import { kernelConfig, PEER_WORKLOADS, type PeerInputs, type PeerWorkload } from './workloads.ts';

export interface PeerRun {
  peer: string;
  version: string;
  method: string;
  /** Worst relative L2 error of the outputs against float64 (or a failure's message). */
  verified: { ok: boolean; worst: number; detail?: string };
  timing?: Spread & { samples: number };
  error?: string;
}

export interface WorkloadResult {
  id: string;
  title: string;
  kernel: string;
  runs: PeerRun[];
}

export interface MeasureOptions {
  /** Only these workload ids (default: every workload given). */
  ids?: string[];
  repeats: number;
  warmup: number;
  seed?: number;
}

function drawInputs(w: PeerWorkload, rng: ReturnType<typeof createRng>): { f32: PeerInputs; f64: Record<string, HostTensor> } {
  const def = findKernel(w.kernel)!;
  const config = kernelConfig(w);
  const f32: PeerInputs = {};
  const f64: Record<string, HostTensor> = {};
  for (const spec of def.inputs({ ...defaultsOf(w), ...config })) {
    // Plain normal inputs (no planted ties): every side must be able to agree with float64 on the selection.
    const scale = spec.name === 'gate_weight' ? 1 / Math.sqrt(spec.shape.at(-1)!) : 1;
    const t = randomNormal(rng, spec.shape, scale);
    f32[spec.name] = Float32Array.from(t.data);
    f64[spec.name] = { shape: spec.shape, data: Float64Array.from(f32[spec.name]!) };
  }
  return { f32, f64 };
}

function defaultsOf(w: PeerWorkload): Record<string, unknown> {
  const def = findKernel(w.kernel)!;
  return Object.fromEntries(Object.entries(def.schema).map(([k, f]) => [k, f.default]));
}

async function runPeer(peer: Peer, w: PeerWorkload, x: PeerInputs, want: Record<string, HostTensor>, o: MeasureOptions): Promise<PeerRun> {
  const base = { peer: peer.name, version: peer.version, method: peer.method };
  const def = findKernel(w.kernel)!;
  const config = { ...defaultsOf(w), ...kernelConfig(w) };
  let prepared;
  try {
    prepared = await peer.prepare(w, x);
  } catch (e) {
    return { ...base, verified: { ok: false, worst: Infinity, detail: 'not run' }, error: (e as Error).message ?? String(e) };
  }
  try {
    const got = await prepared.outputs();
    const host: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(got)) host[k] = { shape: want[k]?.shape ?? [v.length], data: v };
    const cmp = compareOutputs(def.outputs(config), host, want);
    const bad = cmp.filter((c) => !c.ok);
    const verified = { ok: cmp.length > 0 && bad.length === 0, worst: Math.max(0, ...cmp.map((c) => c.relL2)), detail: bad.map((c) => `${c.name}: ${c.detail ?? `rel-L2 ${c.relL2.toExponential(1)}`}`).join('; ') || undefined };
    for (let i = 0; i < o.warmup; i++) await prepared.step();
    const samples: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      const t0 = performance.now();
      await prepared.step();
      samples.push(performance.now() - t0);
    }
    return { ...base, verified, timing: { ...spread(samples), samples: samples.length } };
  } catch (e) {
    return { ...base, verified: { ok: false, worst: Infinity, detail: 'failed' }, error: (e as Error).message ?? String(e) };
  } finally {
    prepared.dispose();
  }
}

export async function measurePeers(
  peers: readonly Peer[],
  o: MeasureOptions,
  onProgress?: (line: string) => void,
  workloads: readonly PeerWorkload[] = PEER_WORKLOADS,
): Promise<WorkloadResult[]> {
  const rng = createRng(o.seed ?? freshSeed());
  const out: WorkloadResult[] = [];
  for (const w of workloads.filter((w) => !o.ids || o.ids.includes(w.id))) {
    const { f32, f64 } = drawInputs(w, rng);
    const def = findKernel(w.kernel)!;
    const want = def.reference(f64, { ...defaultsOf(w), ...kernelConfig(w) });
    const runs: PeerRun[] = [];
    for (const p of peers) {
      onProgress?.(`${w.id}: ${p.name}`);
      runs.push(await runPeer(p, w, f32, want, o));
    }
    out.push({ id: w.id, title: w.title, kernel: w.kernel, runs });
  }
  return out;
}
