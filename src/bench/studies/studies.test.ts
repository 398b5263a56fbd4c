// Studies without a GPU: every run they list is a valid config on a SwiftShader-sized device, and each
// digest turns (synthetic) measured results into the numbers its question needs.
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../kernels/contract.ts';
import { KERNELS } from '../../kernels/registry.ts';
import { validateConfig } from '../../kernels/common/validate.ts';
import type { KernelResult } from '../result-schema.ts';
import { fakeResult, fakeResultFile } from '../result-fixture.ts';
import type { SuiteJob } from '../suite.ts';
import { ResultFileSchema } from '../result-schema.ts';
import { digestStudies, STUDIES } from './index.ts';
import { MLA_DECODE_SWEEP, mlaDecode } from './mla-decode.ts';
import { moeStages } from './moe-stages.ts';
import { sparseScaling } from './sparse-scaling.ts';
import { crossoverS, scalingStudy, scalingTable, type ScalingMeasurement } from './sparse-scaling-runs.ts';
import { fakeCaps } from '../../../test/device-caps.ts';

const swiftshader = fakeCaps();

/** A result for one of a study's jobs, as if it had been measured in `medianMs` (roofline 100 GB/s). */
function measured(job: SuiteJob, medianMs: number, stages?: { name: string; ms: number }[]): KernelResult {
  const config = withDefaults(job.def, job.shape.config);
  const cost = job.def.cost(config);
  const sum = stages?.reduce((a, s) => a + s.ms, 0) ?? 0;
  const gbps = cost.bytes / medianMs / 1e6;
  return fakeResult({
    kernel: job.def.id,
    family: job.def.family,
    shape: job.shape.name,
    config,
    cost,
    samplesMs: [medianMs],
    ...{ medianMs, minMs: medianMs, p10Ms: medianMs, p90Ms: medianMs, maxMs: medianMs },
    gbps,
    copyFraction: gbps / 100,
    ...(stages ? { stages: stages.map((s) => ({ name: s.name, medianMs: s.ms, share: s.ms / sum })) } : {}),
  });
}

const fakeFile = (results: KernelResult[]) => fakeResultFile(results);

describe('studies', () => {
  it('every run of every study is a valid config on a SwiftShader-sized device', () => {
    for (const study of STUDIES) {
      const jobs = study.jobs(KERNELS);
      expect(jobs.length, study.id).toBeGreaterThan(3);
      for (const j of jobs) expect(validateConfig(j.def, withDefaults(j.def, j.shape.config), swiftshader), `${study.id}: ${j.def.id} ${j.shape.name}`).toEqual([]);
    }
  });

  it('mla-decode: absorbed vs naive at 8K and bytes read per step', () => {
    const jobs = mlaDecode.jobs(KERNELS);
    expect(new Set(jobs.map((j) => j.shape.config.S))).toEqual(new Set([1024, 2048, 4096, 8192, 16384, 32768]));
    // Naive 10x slower than absorbed everywhere it runs.
    const results = jobs.map((j) => measured(j, j.def.id === 'mla.decode_naive' ? 50 : 5));
    const d = mlaDecode.digest(fakeFile(results))!;
    expect(d.rows).toHaveLength(6);
    expect(d.notes[0]).toMatch(/^S = 8192: absorbed 5 ms vs naive 50 ms = 10\.0x faster/);
    // MHA at 4 heads of 128 (K and V) against the 576-float latent: 1024 / 576 = 1.8x the bytes.
    expect(d.notes[1]).toMatch(/reads 1\.8x fewer cache bytes than MHA/);
    expect(mlaDecode.digest(fakeFile([]))).toBeUndefined();
  });

  it('sparse-scaling: stage shares from the DSA run, crossover and measured vs ideal speed-up', () => {
    const jobs = sparseScaling.jobs(KERNELS);
    const decode = jobs.filter((j) => j.shape.name.startsWith('decode'));
    expect(decode.map((j) => j.def.id).slice(0, 4)).toEqual(['attention.flash_decode', 'sparse.dsa', 'sparse.sliding_window', 'sparse.block_select']);
    // Dense grows with S, DSA stays near flat: slower at 1K, faster from 2K on.
    const results = jobs.map((j) => {
      const S = Number(j.shape.config.S);
      if (j.def.id === 'sparse.dsa') return measured(j, 3, [{ name: 'indexer', ms: 1 }, { name: 'top-k', ms: 1 }, { name: 'attention', ms: 2 }]);
      return measured(j, j.def.id.startsWith('attention.') ? S / 512 : 2);
    });
    const d = sparseScaling.digest(fakeFile(results))!;
    const first = d.rows.find((r) => r[0] === 'decode' && r[1] === 1024)!;
    expect(first.slice(2, 7)).toEqual([2, 3, '25%', '25%', '50%']);
    expect(d.notes.find((n) => n.startsWith('decode: DSA overtakes'))).toMatch(/from S ≈ (1[1-9]\d\d|20[0-4]\d)\b/);
    expect(d.notes.find((n) => n.startsWith('decode at S = 32768'))).toMatch(/DSA 21\.33x faster than dense; ideal/);
  });

  it('moe: time share per stage and grouped-FFN bandwidth at decode; digests land in a valid result file', () => {
    const jobs = moeStages.jobs(KERNELS);
    const results = jobs.map((j) =>
      j.def.id === 'moe.forward' ? measured(j, 10, [{ name: 'router', ms: 1 }, { name: 'dispatch', ms: 1 }, { name: 'experts', ms: 7 }, { name: 'combine', ms: 1 }]) : measured(j, 4),
    );
    const file = fakeFile(results);
    const d = moeStages.digest(file)!;
    expect(d.rows.length).toBe(jobs.filter((j) => j.def.id === 'moe.forward').length);
    expect(d.rows[0]!.slice(1)).toEqual([10, 1, '10.0%', 1, '10.0%', 7, '70.0%', 1, '10.0%']);
    expect(d.notes.some((n) => /^grouped FFN decode .* GB\/s/.test(n))).toBe(true);
    file.studies = digestStudies(file);
    expect(file.studies.map((s) => s.id)).toEqual(['moe']);
    expect(ResultFileSchema.safeParse(file).success).toBe(true);
  });
});

describe('sparse-scaling runs', () => {
  it('covers 1K to 32K decode with every method and DSA stage, all valid on a SwiftShader-sized device', () => {
    const study = scalingStudy({ phase: 'decode' });
    expect(study.map((p) => p.S)).toEqual([1024, 2048, 4096, 8192, 16384, 32768]);
    for (const p of study) {
      expect(p.runs.map((r) => `${r.method}/${r.stage}`)).toEqual(['dense/total', 'dsa/total', 'dsa/indexer', 'dsa/topk', 'dsa/attention', 'window/total', 'block/total']);
      expect(p.runs[0]!.kernel).toBe('attention.flash_decode');
      for (const r of p.runs) {
        const def = KERNELS.find((k) => k.id === r.kernel)!;
        expect(validateConfig(def, withDefaults(def, r.config), swiftshader), `${r.kernel} S=${p.S}`).toEqual([]);
      }
      // The stages add up to the composite's FLOPs.
      const stageFlops = p.runs.filter((r) => r.method === 'dsa' && r.stage !== 'total').reduce((a, r) => a + r.flops, 0);
      expect(stageFlops).toBeCloseTo(p.runs[1]!.flops, 0);
    }
    // Below k = 2048 keys DSA is dense attention plus an indexer; far above it the ideal gain grows with S.
    expect(study[0]!.idealSpeedup.dsa).toBeLessThan(1);
    expect(study.at(-1)!.idealSpeedup.dsa).toBeGreaterThan(5);
  });

  it('prefill runs T = S queries with the prefill kernel', () => {
    const [p] = scalingStudy({ phase: 'prefill', sizes: [2048] });
    expect(p!.T).toBe(2048);
    expect(p!.runs[0]!.kernel).toBe('attention.flash_prefill');
  });

  it('tabulates measured times, stage shares and the crossover', () => {
    const study = scalingStudy({ phase: 'decode', sizes: [1024, 2048, 4096, 8192] });
    const dense = [1, 2, 4, 8];
    const sparse = [2, 2.5, 3, 3.5];
    const measured: ScalingMeasurement[] = study.flatMap((p, i) => [
      { phase: 'decode' as const, S: p.S, method: 'dense' as const, stage: 'total' as const, ms: dense[i]! },
      { phase: 'decode' as const, S: p.S, method: 'dsa' as const, stage: 'total' as const, ms: sparse[i]! },
      { phase: 'decode' as const, S: p.S, method: 'dsa' as const, stage: 'indexer' as const, ms: sparse[i]! / 2 },
      { phase: 'decode' as const, S: p.S, method: 'dsa' as const, stage: 'topk' as const, ms: sparse[i]! / 4 },
      { phase: 'decode' as const, S: p.S, method: 'dsa' as const, stage: 'attention' as const, ms: sparse[i]! / 4 },
    ]);
    const rows = scalingTable(study, measured);
    expect(rows[3]!.measured.dsa).toBeCloseTo(8 / 3.5);
    expect(rows[3]!.dsaStages.indexer!.share).toBeCloseTo(0.5);
    expect(rows[0]!.measured.window).toBeUndefined();
    // Slower at 2K (2 vs 2.5), faster at 4K (4 vs 3): the crossing lies between.
    const x = crossoverS(rows)!;
    expect(x).toBeGreaterThan(2048);
    expect(x).toBeLessThan(4096);
    expect(crossoverS(rows, 'window')).toBeUndefined();
  });
});

describe('mla-decode sweep', () => {
  it('covers S = 1K..32K for MHA, GQA, naive and absorbed', () => {
    const kernels = new Set(MLA_DECODE_SWEEP.map((e) => e.kernel));
    expect([...kernels].sort()).toEqual(['attention.flash_decode', 'mla.decode_absorbed', 'mla.decode_naive']);
    const sizes = new Set(MLA_DECODE_SWEEP.map((e) => e.shape.config.S));
    expect([...sizes]).toEqual([1024, 2048, 4096, 8192, 16384, 32768]);
  });
});
