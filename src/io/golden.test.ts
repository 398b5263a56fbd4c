// verify on our own generated fixtures (every kernel with a golden format), on the golden samples in the repository,
// and on broken files: each bad one must fail with a message, never pass.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeGpu } from '../../test/node-gpu.ts';
import { caseTally, goldenSamples } from '../../test/golden-fixtures.ts';
import { KERNELS } from '../kernels/registry.ts';
import { withDefaults } from '../kernels/contract.ts';
import { freshSeed } from '../kernels/random.ts';
import { formatVerification, makeGolden, verifyGolden } from './golden.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';

const withGolden = KERNELS.filter((k) => k.fromGolden && k.goldenMeta);

describe('verify on generated fixtures', () => {
  for (const def of withGolden) {
    it(`${def.id}: fixtures from its reference pass for every kernel of ${def.implements ?? def.id}`, async () => {
      const ctx = await nodeGpu();
      for (const tc of def.testCases.slice(0, 2)) {
        const bytes = makeGolden(def, withDefaults(def, tc.config), freshSeed());
        const v = await verifyGolden(ctx, bytes, `${def.id}:${tc.name}`, KERNELS);
        expect(v.ok, formatVerification(v).join('\n')).toBe(true);
        expect(v.kernels.some((k) => k.kernel === def.id && k.ok)).toBe(true);
      }
      // A composite (the decoder layer) builds dozens of pipelines on this file's device first.
    }, 400_000);
  }
});

describe('verify on the golden samples', () => {
  const samples = goldenSamples();
  const ops = new Set(withGolden.map((k) => k.implements ?? k.id));
  const covered = samples.filter((s) => ops.has(s.op));
  const tally = caseTally(covered.map((s) => s.file));
  // Every sample's op has a registered kernel (the decoder layer's included): none is left unrun.
  it('every sample names an op some registered kernel implements', () => {
    expect(samples.filter((s) => !ops.has(s.op)).map((s) => `${s.file} (${s.op})`)).toEqual([]);
  });
  for (const s of covered) {
    it(s.file, async () => {
      const v = await verifyGolden(await nodeGpu(), readFileSync(s.path), s.file, KERNELS);
      console.log(formatVerification(v).join('\n'));
      expect(v.ok, formatVerification(v).join('\n')).toBe(true);
      // Every kernel implementing the op took the file, not just one of them.
      const implementers = withGolden.filter((k) => (k.implements ?? k.id) === s.op).map((k) => k.id).sort();
      expect(v.kernels.map((k) => k.kernel).sort()).toEqual(implementers);
      tally.ran(s.file);
    });
  }
  it('ran a sample of every op that has both a sample and a kernel', () => {
    expect(tally.missing()).toEqual([]);
    expect(new Set(covered.map((s) => s.op)).size).toBeGreaterThanOrEqual(7);
    expect(covered.some((s) => s.op === 'layer.deepseek_v32')).toBe(true);
  });
});

describe('verify on broken files', () => {
  const def = withGolden.find((k) => k.id === 'attention.naive')!;
  const good = () => makeGolden(def, withDefaults(def, { T: 3, S: 11, Hq: 4, Hkv: 2, D: 8 }), freshSeed());

  it('fails a truncated file with a message', async () => {
    const bytes = good();
    const v = await verifyGolden(await nodeGpu(), bytes.subarray(0, bytes.length - 10), 'truncated.safetensors', KERNELS);
    expect(v.ok).toBe(false);
    expect(v.error).toMatch(/outside the .*data section/);
  });

  it('fails a header that lies about offsets', async () => {
    const bytes = good();
    const st = readSafetensors(bytes);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    header.k.data_offsets = [header.q.data_offsets[0], header.q.data_offsets[0] + (header.k.data_offsets[1] - header.k.data_offsets[0])];
    const json = new TextEncoder().encode(JSON.stringify(header).padEnd(headerLen, ' '));
    const forged = new Uint8Array(bytes);
    forged.set(json.subarray(0, headerLen), 8);
    const v = await verifyGolden(await nodeGpu(), forged, 'lying.safetensors', KERNELS);
    expect(Object.keys(st.tensors)).toContain('k');
    expect(v.ok).toBe(false);
    expect(v.error).toMatch(/overlap/);
  });

  it('fails a file whose expected output is wrong, naming the output', async () => {
    const st = readSafetensors(good());
    const out = st.tensors.out!;
    const wrong = Float32Array.from(out.data);
    wrong[wrong.length >> 1]! += 0.05;
    const tensors = Object.fromEntries(
      Object.entries(st.tensors).map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: n === 'out' ? wrong : t.data }]),
    );
    const v = await verifyGolden(await nodeGpu(), writeSafetensors(tensors, st.metadata), 'wrong.safetensors', KERNELS);
    expect(v.ok).toBe(false);
    const lines = formatVerification(v).join('\n');
    expect(lines).toMatch(/out .*MISMATCH/);
  });

  it('fails a file naming an unknown op', async () => {
    const v = await verifyGolden(await nodeGpu(), writeSafetensors({ x: { dtype: 'F32', shape: [1], data: [1] } }, { kernel: 'attention.telepathy' }), 'unknown.safetensors', KERNELS);
    expect(v.ok).toBe(false);
    expect(v.error).toMatch(/no registered kernel implements "attention.telepathy"/);
  });

  it('fails a file with inconsistent shapes, naming the tensors', async () => {
    const st = readSafetensors(good());
    const tensors = Object.fromEntries(Object.entries(st.tensors).map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
    tensors.v = { dtype: 'F32', shape: [5, 2, 8], data: new Float32Array(80) };
    const v = await verifyGolden(await nodeGpu(), writeSafetensors(tensors, st.metadata), 'shapes.safetensors', KERNELS);
    expect(v.ok).toBe(false);
    expect(formatVerification(v).join('\n')).toMatch(/k\/v: shapes/);
  });
});
