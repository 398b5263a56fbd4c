// An independent count of the bytes a kernel's algorithm touches: run its float64 reference on inputs whose
// element arrays record every index read (a Proxy over the typed array), and count each distinct element
// once, at the storage width of its tensor spec. Outputs count once each (every element is written). The
// cost models claim "every byte read once, every output written once"; this measures exactly that on a
// small case, from the data, with no formula shared with the cost model. An output element the reference
// leaves NaN is one the kernel must leave untouched (mla.compress writes only the new cache rows): not written.
import type { Config, KernelDefinition } from '../kernels/contract.ts';
import { BYTES_PER, numel, type HostTensor } from '../kernels/tensor.ts';

type Data = HostTensor['data'];

/** A view of `data` that marks `touched[offset + i]` on every read of element i. */
function recording(data: Data, touched: Uint8Array, offset = 0): Data {
  return new Proxy(data, {
    get(target, prop) {
      if (typeof prop === 'string') {
        const i = prop.length > 0 && prop.charCodeAt(0) <= 57 ? Number(prop) : NaN;
        if (Number.isInteger(i) && i >= 0 && i < target.length) {
          touched[offset + i] = 1;
          return target[i];
        }
        if (prop === 'subarray') {
          return (begin = 0, end = target.length) => {
            const b = begin < 0 ? target.length + begin : begin;
            return recording(target.subarray(begin, end), touched, offset + b);
          };
        }
      }
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function' || prop === 'constructor') return v;
      // Any other method (slice, forEach, an iterator, ...) may read every element: count them all, so the
      // trace never under-counts what the reference looked at.
      return (...args: unknown[]) => {
        touched.fill(1, offset, offset + target.length);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Data;
}

export interface ReadTrace {
  /** Distinct bytes read per input tensor. */
  inputs: Record<string, number>;
  /** Bytes written per output (every element once). */
  outputs: Record<string, number>;
  total: number;
}

/** Trace the reference of `def` at `config` on `inputs` (e.g. makeInputs with a seeded rng). */
export function traceReads<C extends Config>(def: KernelDefinition<C>, config: C, inputs: Record<string, HostTensor>): ReadTrace & { result: Record<string, HostTensor> } {
  const touched: Record<string, Uint8Array> = {};
  const traced: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    touched[name] = new Uint8Array(t.data.length);
    traced[name] = { shape: t.shape, data: recording(t.data, touched[name]) };
  }
  const outs = def.reference(traced, config);
  const out = { inputs: {} as Record<string, number>, outputs: {} as Record<string, number>, total: 0, result: outs };
  for (const spec of def.inputs(config)) {
    const marks = touched[spec.name];
    let n = 0;
    if (marks) for (const m of marks) n += m;
    out.inputs[spec.name] = n * BYTES_PER[spec.dtype];
    out.total += out.inputs[spec.name]!;
  }
  for (const spec of def.outputs(config)) {
    const data = outs[spec.name]?.data;
    let written = numel(spec.shape);
    if (data) for (const x of data) if (Number.isNaN(x)) written--;
    out.outputs[spec.name] = written * BYTES_PER[spec.dtype];
    out.total += out.outputs[spec.name]!;
  }
  return out;
}
