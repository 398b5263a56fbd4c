// Result files for tests (UI components, study digests, the CLI): a plausible kernel result and a whole file around results,
// valid against the bench result schema (the tests check that), with any field overridden.
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION, type KernelResult, type ResultFile } from './result-schema.ts';

export function fakeResult(over: Partial<KernelResult> = {}): KernelResult {
  // An overridden median moves the other order statistics with it, so the row stays one a timer can produce.
  const k = (over.medianMs ?? 0.42) / 0.42;
  const at = (ms: number) => (k === 1 ? ms : ms * k);
  return {
    kernel: 'attention.flash_decode',
    family: 'attention',
    shape: 'decode S=4096 Hq=32 Hkv=8 D=128',
    config: { T: 1, S: 4096, Hq: 32, Hkv: 8, D: 128, causal: true, scale: 0, dtype: 'f32' },
    cost: { flops: 33_554_432, bytes: 8_421_376, kvCacheBytes: 8_388_608 },
    method: 'gpu-timestamps',
    samplesMs: [0.41, 0.42, 0.4, 0.43, 0.42].map(at),
    medianMs: at(0.42),
    minMs: at(0.4),
    p10Ms: at(0.4),
    p90Ms: at(0.43),
    maxMs: at(0.43),
    gbps: 20.4,
    gflops: 79.9,
    copyFraction: 0.0401,
    fmaFraction: 0.0032,
    allocatedBytes: 8_500_000,
    outputsFinite: true,
    readFraction: 0.035,
    timer: {
      method: 'gpu-timestamps',
      resolutionMs: 0.0001,
      quantised: false,
      runsPerSample: 24,
      baselineMs: 0.003,
      flushBytes: 268_435_456,
      stamped: 'each-run',
      warmupMs: 210,
      coarseSamples: 0,
      medianCiMs: [at(0.4), at(0.43)],
    },
    geometry: {
      workgroups: 260,
      dispatches: [
        { pipeline: 'attention.flash_decode:split_main', grid: [256, 1, 1], workgroups: 256, threads: 256, workgroupBytes: 5120, readBytes: 8_388_608 },
        { pipeline: 'attention.flash_decode:merge_main', grid: [4, 1, 1], workgroups: 4, threads: 256, workgroupBytes: 0, readBytes: 69_632 },
      ],
    },
    verification: {
      config: { T: 1, S: 37, Hq: 4, Hkv: 2, D: 16, causal: true, scale: 0, dtype: 'f32' },
      seed: 7,
      ok: true,
      outputs: [{ name: 'out', relL2: 2.1e-7, maxAbs: 3.3e-7, ok: true }],
    },
    ...over,
  };
}

export function fakeResultFile(results: KernelResult[] = [fakeResult()], over: Partial<ResultFile> = {}): ResultFile {
  return {
    schema: RESULT_SCHEMA_ID,
    version: RESULT_SCHEMA_VERSION,
    createdAt: '2026-11-23T01:02:03.000Z',
    tool: { name: 'llm-kernel-lab', version: '0.1.0' },
    environment: {
      runtime: 'node 24 (Dawn)',
      adapter: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100', backend: 'vulkan' },
      features: { timestamps: true, f16: true, subgroups: true },
      limits: { maxBufferSize: 4_294_967_296 },
    },
    settings: { warmup: 2, repeats: 10, flushBytes: 268_435_456 },
    roofline: { copyGBps: 500, fmaGflops: 25_000, copyBytes: 536_870_912, fmaFlops: 1e12, copyMedianMs: 1.07, fmaMedianMs: 40, method: 'gpu-timestamps', readGBps: 580, readBytes: 268_435_456, readMedianMs: 0.46 },
    results,
    errors: [],
    ...over,
  };
}
