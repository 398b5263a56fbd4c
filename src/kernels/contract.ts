// The kernel contract (docs/design.md): every kernel module exports one KernelDefinition. The tests,
// the CLI, verify and the UI only ever talk to kernels through this interface and the registry.
import type { DeviceCaps, GpuContext } from '../gpu/context.ts';
import type { HostTensor, TensorDType } from './tensor.ts';
import type { Comparison } from './compare.ts';
import type { Rng } from './random.ts';
import type { BufferPlan } from './common/buffer-plan.ts';

export type ConfigValue = number | string | boolean;
export type Config = Record<string, ConfigValue>;

interface FieldBase {
  /** Short label for forms and tables. */
  label: string;
  /** What the knob means, one sentence. */
  doc?: string;
  unit?: string;
}
export type FieldSpec =
  | (FieldBase & { type: 'int'; default: number; min: number; max: number })
  | (FieldBase & { type: 'number'; default: number; min: number; max: number })
  | (FieldBase & { type: 'bool'; default: boolean })
  | (FieldBase & { type: 'enum'; default: string; values: readonly string[] })
  /** Free text (settings forms that are not kernels: lists of ids, overrides); its meaning is the form's rules. */
  | (FieldBase & { type: 'text'; default: string; placeholder?: string });
export type ConfigSchema<C extends Config = Config> = { [K in keyof C]: FieldSpec };

/** The value a field holds: a number, a boolean, or one of an enum's listed strings. */
export type FieldValue<F extends FieldSpec> = F extends { type: 'bool' } ? boolean : F extends { type: 'enum'; values: readonly (infer V)[] } ? V : number;
/**
 * The config type a schema describes, so the two cannot drift apart. Declare the schema `as const satisfies
 * ConfigSchema` (literal enum values kept) and take its type: `type C = ConfigOf<typeof schema>`.
 */
export type ConfigOf<S extends Readonly<Record<string, FieldSpec>>> = { -readonly [K in keyof S]: FieldValue<S[K]> };

/** A refusal: names the field, the value and the limit. */
export interface ValidationIssue {
  field: string;
  message: string;
}

export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: TensorDType;
}

export interface OutputSpec extends TensorSpec {
  /** How verify/tests compare this output against the expected one (default relative L2 against the dtype's tolerance). */
  compare?: Comparison;
}

export interface Cost {
  /** Floating-point operations of the algorithm (a multiply-add counts 2). */
  flops: number;
  /**
   * Bytes moved: every input byte the algorithm reads once, every output byte it writes once, plus
   * `intermediateBytes`.
   */
  bytes: number;
  /** Bytes of KV cache the step reads (attention kernels), for the memory views. */
  kvCacheBytes?: number;
  /**
   * The part of `bytes` beyond that minimum: scratch written by one pass and read by a later one (scores,
   * hidden activations, partials), and inputs a second pass reads again. src/bench/cost-trace.test.ts checks
   * `bytes - intermediateBytes` against a trace of the reference's reads.
   */
  intermediateBytes?: number;
}

export interface BenchShape<C extends Config = Config> {
  /** e.g. "decode S=4096 Hq=32 Hkv=8 D=128" */
  name: string;
  config: Partial<C>;
}

export interface InstanceStage {
  name: string;
  encode(pass: GPUComputePassEncoder): void;
}

export interface KernelInstance {
  /** Storage buffers by tensor name: every input and output of the definition. */
  tensors: Record<string, GPUBuffer>;
  /** Record this kernel's dispatches into a pass the caller owns (kernels never time themselves). */
  encode(pass: GPUComputePassEncoder): void;
  /**
   * Multi-stage kernels (DSA: indexer, top-k, attention; MoE: router, dispatch, experts, combine) list their
   * stages in order; encoding all of them is `encode`. The bench times each one alone for its share of time
   * (a stage re-run alone reads what the earlier stages left in their buffers).
   */
  stages?: InstanceStage[];
  /** Free everything create() made. */
  destroy(): void;
}

export interface KernelDefinition<C extends Config = Config> {
  id: string;
  family: 'attention' | 'mla' | 'sparse' | 'moe' | 'linear' | 'layer';
  title: string;
  /** One paragraph: the trick and why it is fast or small. */
  explain: string;
  /** Where the algorithm comes from (paper / reference code). */
  sources: string[];
  /** The golden-file op this kernel computes (`attention.dense`), if any. */
  implements?: string;
  schema: ConfigSchema<C>;
  /** Cross-field and device-dependent rules, after the schema's per-field bounds passed. */
  check?(config: C, caps: DeviceCaps): ValidationIssue[];
  inputs(config: C): TensorSpec[];
  outputs(config: C): OutputSpec[];
  /**
   * Every buffer an instance owns (inputs, outputs, scratch, uniforms, indirect), from the config alone
   * (src/kernels/common/buffer-plan.ts). Where present, validation checks it against the limits and
   * `create` allocates from it; `scratch` is then `planScratch` of it.
   */
  plan?(config: C, caps?: DeviceCaps): BufferPlan;
  /** Device bytes beyond inputs and outputs (scores, partials); checked against limits before allocation. */
  scratch?(config: C): { name: string; bytes: number }[];
  cost(config: C): Cost;
  /**
   * Where what the kernel reads depends on the data (the blocks a gate selected, the experts tokens were
   * routed to, which listed keys are valid): the cost of one run from its inputs and the outputs it produced.
   * The bench reports this (outputs read back once after timing); `cost` is the estimate from the config
   * alone (an upper bound or an expectation), used before anything ran.
   */
  runCost?(config: C, tensors: Record<string, HostTensor>): Cost;
  /** Random inputs for tests and benches (default: standard normal for every f32/f16 input). */
  randomInputs?(config: C, rng: Rng): Record<string, HostTensor>;
  /** Float64 CPU reference (src/reference/<family>.ts). */
  reference(inputs: Record<string, HostTensor>, config: C): Record<string, HostTensor>;
  create(ctx: GpuContext, config: C): Promise<KernelInstance>;
  /** Golden file metadata + tensor shapes -> this kernel's config (throws ConfigError if it cannot take the case). */
  fromGolden?(meta: Record<string, string>, shapes: Record<string, number[]>): C;
  /** The inverse: this config's golden metadata (decimal strings, without `kernel`), so fixtures can be generated. */
  goldenMeta?(config: C): Record<string, string>;
  /** Shapes the benchmark suite runs by default. */
  benchmarks: BenchShape<C>[];
  /** Small configs the tests run (odd sizes, edges); the browser suite runs each on the GPU. */
  testCases: BenchShape<C>[];
}

// Method syntax above makes parameters bivariant, so each kernel's definition fits the registry's list.
export type AnyKernel = KernelDefinition<any>;

export function defaults<C extends Config>(schema: ConfigSchema<C>): C {
  const out: Config = {};
  for (const [k, f] of Object.entries(schema) as [string, FieldSpec][]) out[k] = f.default;
  return out as C;
}

export function withDefaults<C extends Config>(def: KernelDefinition<C>, partial: Partial<C>): C {
  return { ...defaults(def.schema), ...partial } as C;
}
