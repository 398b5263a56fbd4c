// The benchmark result file: one versioned format written by the CLI and the UI, read back by both (the UI
// compares runs from different GPUs). Imports are validated against this schema before anything is shown.
import { z } from 'zod';
import { printable } from '../io/printable.ts';
import { statisticsIssues } from './result-checks.ts';

export const RESULT_SCHEMA_ID = 'llm-kernel-lab/bench-result';
export const RESULT_SCHEMA_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const nonNeg = finite.refine((x) => x >= 0, 'must be >= 0');

export const AdapterSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  backend: z.string(),
});

export const RooflineSchema = z.object({
  copyGBps: nonNeg,
  fmaGflops: nonNeg,
  copyBytes: nonNeg,
  fmaFlops: nonNeg,
  copyMedianMs: nonNeg,
  fmaMedianMs: nonNeg,
  method: z.enum(['gpu-timestamps', 'wall-clock']),
  /** Read bandwidth: a reduction that reads every byte once (absent in files from before the probe). */
  readGBps: nonNeg.optional(),
  readBytes: nonNeg.optional(),
  readMedianMs: nonNeg.optional(),
});

export const VerificationSchema = z.object({
  /** The small case the kernel was checked on against its float64 reference before timing. */
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  seed: z.number().int(),
  ok: z.boolean(),
  outputs: z.array(z.object({ name: z.string(), relL2: z.number().nullable(), maxAbs: z.number().nullable(), ok: z.boolean() })),
});

/** One dispatch of the timed shape, as recorded from the kernel's encode (indirect ones resolved after a run). */
export const DispatchSchema = z.object({
  stage: z.string().optional(),
  pipeline: z.string(),
  grid: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  workgroups: z.number().int(),
  threads: z.number().int().nullable(),
  workgroupBytes: z.number().int().nullable(),
  /** Bytes this dispatch reads (its entry point's read-only bindings as bound); absent in older files. */
  readBytes: z.number().int().nullable().optional(),
  indirect: z.boolean().optional(),
});

export const GeometrySchema = z.object({
  /** Workgroups launched per run, all dispatches together. */
  workgroups: z.number().int(),
  dispatches: z.array(DispatchSchema),
});

/** How the samples were made: the timer's measured resolution, runs per timestamp pair, what was subtracted. */
export const TimerSchema = z.object({
  method: z.enum(['gpu-timestamps', 'wall-clock']),
  /** Smallest non-zero difference the clock showed (an upper bound of its resolution). */
  resolutionMs: nonNeg,
  /** Non-zero differences all fell on multiples of the resolution (a quantised clock). */
  quantised: z.boolean(),
  /** Runs back to back between one pair of timestamps; each sample is that batch's time / runs. */
  runsPerSample: z.number().int().min(1),
  /** Per-run time of an empty pass (and the cache flush, if any) measured the same way, subtracted. */
  baselineMs: nonNeg,
  /** Bytes cleared before every run inside a batch (its time is inside the baseline); 0 = none. */
  flushBytes: nonNeg,
  /** 'batch': one timestamp pair per batch, the flush inside it (in the baseline); 'each-run': a pair around each run's pass, the flush outside. */
  stamped: z.enum(['batch', 'each-run']).optional(),
  /** Warm-up time spent before the samples (GPU time of the warm-up batches). */
  warmupMs: nonNeg,
  /** Samples whose raw batch time was within 10x of the resolution (untrustworthy). */
  coarseSamples: z.number().int(),
  /** 95% confidence interval of the median (order statistics). */
  medianCiMs: z.tuple([nonNeg, nonNeg]),
});

export const KernelResultSchema = z.object({
  kernel: z.string(),
  family: z.string(),
  shape: z.string(),
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  cost: z.object({
    flops: nonNeg,
    bytes: nonNeg,
    kvCacheBytes: nonNeg.optional(),
    /** Of `bytes`, traffic through scratch between passes (and inputs read again), beyond the minimum. */
    intermediateBytes: nonNeg.optional(),
    /** Counted from what this run read (selected blocks, routed experts, valid keys), not from the config alone. */
    fromRun: z.boolean().optional(),
  }),
  method: z.enum(['gpu-timestamps', 'wall-clock']),
  samplesMs: z.array(nonNeg).min(1),
  medianMs: nonNeg,
  minMs: nonNeg,
  p10Ms: nonNeg,
  p90Ms: nonNeg,
  maxMs: nonNeg,
  gbps: nonNeg,
  gflops: nonNeg,
  /** Achieved GB/s over the measured copy bandwidth; GFLOP/s over the measured FMA peak. */
  copyFraction: nonNeg,
  fmaFraction: nonNeg,
  /** Bytes the instance allocated on the device. */
  allocatedBytes: nonNeg,
  /** Output of the timed shape was all finite (checked after timing). */
  outputsFinite: z.boolean(),
  verification: VerificationSchema,
  /**
   * Multi-stage kernels: each stage's median per run, timed between timestamps at the stage boundaries of
   * the same runs (one pass per stage, one command buffer, no flush between stages), and its share of the
   * stages' sum.
   */
  stages: z.array(z.object({ name: z.string(), medianMs: nonNeg, share: nonNeg })).optional(),
  /** Whole-run median measured in the same batches as the stages (compare with the stages' sum). */
  stagesWholeMs: nonNeg.optional(),
  /** Dispatch geometry of one run (files from before it was recorded have none). */
  geometry: GeometrySchema.optional(),
  /** Timer details (files from before the resolution-aware timer have none). */
  timer: TimerSchema.optional(),
  /** GB/s over the measured read bandwidth (memory-bound kernels mostly read). */
  readFraction: nonNeg.optional(),
});

/** A study's answer (src/bench/studies/): a small table of cells and a few sentences, for the CLI and the UI. */
export const StudyDigestSchema = z.object({
  id: z.string(),
  title: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.array(z.union([z.string(), finite, z.null()]))),
  notes: z.array(z.string()),
});

export const ResultFileSchema = z.object({
  schema: z.literal(RESULT_SCHEMA_ID),
  version: z.literal(RESULT_SCHEMA_VERSION),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  environment: z.object({
    runtime: z.string(),
    adapter: AdapterSchema,
    features: z.object({ timestamps: z.boolean(), f16: z.boolean(), subgroups: z.boolean() }),
    limits: z.record(z.string(), z.number()),
  }),
  settings: z.object({ warmup: z.number().int(), repeats: z.number().int(), flushBytes: z.number().int() }),
  roofline: RooflineSchema,
  results: z.array(KernelResultSchema),
  errors: z.array(z.object({ kernel: z.string(), shape: z.string(), message: z.string() })),
  /** Set when the run stopped before its last job (SIGINT, a cancel): why, and how far it got. */
  incomplete: z.string().optional(),
  /** Digests of the studies whose runs the file holds (optional: files from before studies had none). */
  studies: z.array(StudyDigestSchema).optional(),
});

export type KernelResult = z.infer<typeof KernelResultSchema>;
export type ResultFile = z.infer<typeof ResultFileSchema>;
export type StudyDigest = z.infer<typeof StudyDigestSchema>;

/** Parse and validate a result file; errors name the JSON path. */
export function parseResultFile(text: string): { ok: true; file: ResultFile } | { ok: false; errors: string[] } {
  let json: unknown;
  try {
    // Every string a file holds is shown somewhere (names, messages): control characters arrive escaped,
    // so no name can carry a newline or a terminal escape into the table.
    json = JSON.parse(text, (_key, value) => (typeof value === 'string' ? printable(value) : value));
  } catch (e) {
    return { ok: false, errors: [`not JSON: ${(e as Error).message}`] };
  }
  const r = ResultFileSchema.safeParse(json);
  if (r.success) {
    const impossible = statisticsIssues(r.data);
    return impossible.length ? { ok: false, errors: impossible } : { ok: true, file: r.data };
  }
  return { ok: false, errors: r.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}

/** The JSON Schema document (bench/result.schema.json is generated from this). */
export function resultJsonSchema(): unknown {
  return z.toJSONSchema(ResultFileSchema);
}
