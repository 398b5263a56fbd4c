// The benchmark result file: one versioned format written by the CLI and the UI, read back by both (the UI
// compares runs from different GPUs). Imports are validated against this schema before anything is shown.
import { z } from 'zod';

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
});

export const VerificationSchema = z.object({
  /** The small case the kernel was checked on against its float64 reference before timing. */
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  seed: z.number().int(),
  ok: z.boolean(),
  outputs: z.array(z.object({ name: z.string(), relL2: z.number().nullable(), maxAbs: z.number().nullable(), ok: z.boolean() })),
});

export const KernelResultSchema = z.object({
  kernel: z.string(),
  family: z.string(),
  shape: z.string(),
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  cost: z.object({ flops: nonNeg, bytes: nonNeg, kvCacheBytes: nonNeg.optional() }),
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
   * Multi-stage kernels: each stage timed alone (same repeats and timing method), and its share of the
   * stages' summed medians. The whole kernel's median is usually a little less than the sum (one pass, no
   * flush between stages).
   */
  stages: z.array(z.object({ name: z.string(), medianMs: nonNeg, share: nonNeg })).optional(),
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
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`not JSON: ${(e as Error).message}`] };
  }
  const r = ResultFileSchema.safeParse(json);
  if (r.success) return { ok: true, file: r.data };
  return { ok: false, errors: r.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}

/** The JSON Schema document (bench/result.schema.json is generated from this). */
export function resultJsonSchema(): unknown {
  return z.toJSONSchema(ResultFileSchema);
}
