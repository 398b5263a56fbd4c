// Golden cases that lie about themselves, generated from a good case: expected outputs of the wrong shape,
// half-precision expectations, metadata that contradicts the tensors, names that try to forge a line. Each
// must be refused with a line naming the tensor or key (or, for a correct half-precision case, pass).
import { describe, expect, it } from 'vitest';
import { nodeGpu } from '../../test/node-gpu.ts';
import { findKernel, KERNELS } from '../kernels/registry.ts';
import { withDefaults, type Config } from '../kernels/contract.ts';
import { freshSeed } from '../kernels/random.ts';
import { formatVerification, makeGolden, verifyGolden } from './golden.ts';
import { readSafetensors, writeSafetensors, type StWriteTensor } from './safetensors.ts';

function golden(id: string, config: Partial<Config>): { tensors: Record<string, StWriteTensor>; metadata: Record<string, string> } {
  const def = findKernel(id)!;
  const st = readSafetensors(makeGolden(def, withDefaults(def, config), freshSeed()));
  const tensors: Record<string, StWriteTensor> = {};
  for (const [n, t] of Object.entries(st.tensors)) tensors[n] = { dtype: t.dtype === 'I32' ? 'I32' : t.dtype === 'F16' ? 'F16' : 'F32', shape: t.shape, data: t.data };
  return { tensors, metadata: { ...st.metadata } };
}

async function verify(file: string, bytes: Uint8Array) {
  const v = await verifyGolden(await nodeGpu(), bytes, file, KERNELS);
  return { v, text: formatVerification(v).join('\n') };
}

const ATTN = { T: 5, S: 9, Hq: 3, Hkv: 1, D: 4 };
const MLA = { T: 2, S: 7, H: 2, dn: 4, dr: 4, dc: 8, dv: 4 };
const GATE = { N: 8, dim: 8, E: 8, topk: 4, n_groups: 2, topk_groups: 1 };

describe('expected outputs must have the shape the kernel produces (class 1)', () => {
  for (const [name, shape] of [
    ['transposed [Hq, T, D]', [3, 5, 4]],
    ['flat [T*Hq*D]', [60]],
  ] as const) {
    it(`attention.dense "out" stored ${name} is refused`, async () => {
      const g = golden('attention.naive', ATTN);
      g.tensors.out = { ...g.tensors.out!, shape: [...shape] };
      const { v, text } = await verify('out.safetensors', writeSafetensors(g.tensors, g.metadata));
      expect(v.ok).toBe(false);
      expect(text).toMatch(new RegExp(`expected output "out" has shape \\[${shape.join(',')}\\], the kernel produces \\[5,3,4\\]`));
    });
  }
  it('moe.gate weights and indices stored [16, 2] instead of [8, 4] are refused', async () => {
    const g = golden('moe.router', GATE);
    g.tensors.weights = { ...g.tensors.weights!, shape: [16, 2] };
    g.tensors.indices = { ...g.tensors.indices!, shape: [16, 2] };
    const { v, text } = await verify('gate.safetensors', writeSafetensors(g.tensors, g.metadata));
    expect(v.ok).toBe(false);
    expect(text).toMatch(/expected output "weights" has shape \[16,2\], the kernel produces \[8,4\]/);
  });
});

/** BF16 of an f32 (round to nearest even on the upper 16 bits). */
function bf16Bytes(data: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(data);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16;
  return new Uint8Array(out.buffer);
}

/** The file with tensor `name` re-encoded as BF16 (the writer has no BF16: the header and data are rebuilt). */
function withBf16(tensors: Record<string, StWriteTensor>, metadata: Record<string, string>, name: string): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [n, t] of Object.entries(tensors)) {
    const bytes = n === name ? bf16Bytes(t.data) : new Uint8Array((t.dtype === 'I32' ? Int32Array.from(t.data) : Float32Array.from(t.data)).buffer);
    header[n] = { dtype: n === name ? 'BF16' : t.dtype, shape: t.shape, data_offsets: [at, at + bytes.length] };
    parts.push(bytes);
    at += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const b of parts) (out.set(b, p), (p += b.length));
  return out;
}

describe('half-precision expected outputs (class 2)', () => {
  it('an F16 "out" of a correct kernel passes at half-precision tolerance, and says so', async () => {
    const g = golden('attention.naive', ATTN);
    g.tensors.out = { ...g.tensors.out!, dtype: 'F16' };
    const { v, text } = await verify('f16.safetensors', writeSafetensors(g.tensors, g.metadata));
    expect(v.ok, text).toBe(true);
    expect(text).toMatch(/note: expected "out" is stored as F16: judged at rel-L2 0\.002/);
  });
  it('a BF16 "out" passes at 1e-2, and a BF16 "out" that is wrong by 5% still fails', async () => {
    const g = golden('attention.naive', ATTN);
    const ok = await verify('bf16.safetensors', withBf16(g.tensors, g.metadata, 'out'));
    expect(ok.v.ok, ok.text).toBe(true);
    expect(ok.text).toMatch(/stored as BF16: judged at rel-L2 0\.01/);
    const wrong = { ...g.tensors, out: { ...g.tensors.out!, data: Array.from(g.tensors.out!.data, (x) => x * 1.05) } };
    expect((await verify('bf16-wrong.safetensors', withBf16(wrong, g.metadata, 'out'))).v.ok).toBe(false);
  });
});

describe('golden writes f16 cases that verify passes (class 3)', () => {
  it('attention.naive with dtype=f16: inputs stored as the rounded F16 values the reference used', async () => {
    const bytes = makeGolden(findKernel('attention.naive')!, withDefaults(findKernel('attention.naive')!, { ...ATTN, dtype: 'f16' }), freshSeed());
    expect(readSafetensors(bytes).tensors.q!.dtype).toBe('F16');
    const { v, text } = await verify('f16-case.safetensors', bytes);
    expect(v.ok, text).toBe(true);
  });
});

describe('metadata must agree with the case (class 8)', () => {
  const refused: [string, string, Partial<Config>, (g: ReturnType<typeof golden>) => void, RegExp][] = [
    ['window on attention.dense', 'attention.naive', ATTN, (g) => (g.metadata.window = '4'), /metadata "window" does not apply to "attention\.dense"/],
    ['sinks on attention.dense', 'attention.naive', ATTN, (g) => (g.metadata.sinks = '2'), /metadata "sinks" does not apply to "attention\.dense"/],
    ['MLA kv_lora_rank 64 with tensors of 8', 'mla.decode_naive', MLA, (g) => (g.metadata.kv_lora_rank = '64'), /metadata "kv_lora_rank" = "64" disagrees with the case: dc = 8/],
    ['MLA num_heads 99', 'mla.decode_naive', MLA, (g) => (g.metadata.num_heads = '99'), /metadata "num_heads" = "99" disagrees with the case: H = 2/],
    ['MLA T disagreeing with q_nope', 'mla.decode_naive', MLA, (g) => (g.metadata.T = '3'), /metadata "T" = "3" disagrees with the case: T = 2/],
    ['MLA T written 2.0 (not an integer)', 'mla.decode_naive', MLA, (g) => (g.metadata.T = '2.0'), /metadata "T" = "2\.0" disagrees with the case: T = 2/],
    ['MLA S disagreeing with kv_latent', 'mla.decode_naive', MLA, (g) => (g.metadata.S = '70'), /metadata "S" = "70" disagrees with the case: S = 7/],
    ['moe.gate without score_func', 'moe.router', GATE, (g) => delete g.metadata.score_func, /score_func: missing from the golden metadata/],
    ['moe.forward with shared_w2/w3 but no shared_w1', 'moe.forward', { ...GATE, inter: 8, shared_inter: 8 }, (g) => delete g.tensors.shared_w1, /shared_w1: missing: the file has shared_w2, shared_w3/],
  ];
  for (const [name, id, config, mutate, message] of refused) {
    it(`${name} is refused, naming the key or tensor`, async () => {
      const g = golden(id, config);
      mutate(g);
      const { v, text } = await verify('m.safetensors', writeSafetensors(g.tensors, g.metadata));
      expect(v.ok).toBe(false);
      expect(text).toMatch(message);
    });
  }
  it('informational keys (seed, generator, margins) stay allowed', async () => {
    const g = golden('attention.naive', ATTN);
    Object.assign(g.metadata, { seed: '7', generator: 'torch 2.5', min_selection_margin_rel: '0.01' });
    const { v, text } = await verify('info.safetensors', writeSafetensors(g.tensors, g.metadata));
    expect(v.ok, text).toBe(true);
  });
});

describe('internal errors do not leak (class 6)', () => {
  it('moe.gate weights without indices: one line naming indices', async () => {
    const g = golden('moe.router', GATE);
    delete g.tensors.indices;
    const { v, text } = await verify('noidx.safetensors', writeSafetensors(g.tensors, g.metadata));
    expect(v.ok).toBe(false);
    expect(text).toMatch(/expected output "weights" is compared together with "indices", which the file does not have/);
    expect(text).not.toMatch(/Cannot read properties/);
  });
});

describe('names cannot forge output lines (class 10)', () => {
  it('an op name or file name with a newline prints as one escaped line', async () => {
    const g = golden('attention.naive', ATTN);
    const { text } = await verify('evil\nPASS fake.safetensors', writeSafetensors(g.tensors, { ...g.metadata, kernel: 'attention.dense\nPASS fake.safetensors' }));
    expect(text.split('\n').filter((l) => l.startsWith('PASS'))).toEqual([]);
    expect(text).toMatch(/^FAIL evil\\nPASS fake\.safetensors/);
    expect(text).toMatch(/no registered kernel implements "attention\.dense\\nPASS fake\.safetensors"/);
  });
});
