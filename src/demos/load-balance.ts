// Expert load and DeepSeek-V3's auxiliary-loss-free balancing. The router's bias only changes which experts
// are chosen (not the weights), and after each step every expert's bias moves by a fixed gamma towards
// balance: b_i += gamma * sign(mean_load - load_i) (DeepSeek-V3 report, sec. 2.1.2). The demo feeds a
// skewed token stream (a few experts favoured by every token) through the GPU router step by step and
// records how the imbalance falls.
import type { GpuContext } from '../gpu/context.ts';
import { defaults, withDefaults, type ConfigSchema, type FieldSpec, type ValidationIssue } from '../kernels/contract.ts';
import { checkField } from '../kernels/common/validate.ts';
import { createInstance, encodeOnce, readOutputs, uploadInputs } from '../kernels/execute.ts';
import { createRng, type Rng } from '../kernels/random.ts';
import type { HostTensor } from '../kernels/tensor.ts';
import { MAX_EXPERTS, checkRouting, routingSchema, type RoutingConfig } from '../kernels/moe/moe-config.ts';
import { moeRouter } from '../kernels/moe/router.ts';

/** Token copies routed to each expert (indices outside [0, E) ignored). */
export function expertLoad(indices: ArrayLike<number>, E: number): number[] {
  const load = new Array<number>(E).fill(0);
  for (let i = 0; i < indices.length; i++) {
    const e = indices[i]!;
    if (e >= 0 && e < E) load[e]!++;
  }
  return load;
}

export interface LoadStats {
  mean: number;
  max: number;
  min: number;
  /** max / mean: 1 is perfect balance; the busiest expert sets a step's latency under expert parallelism */
  maxOverMean: number;
  /** coefficient of variation: population std / mean */
  cv: number;
}

export function loadStats(load: readonly number[]): LoadStats {
  const n = load.length;
  const mean = load.reduce((a, b) => a + b, 0) / n;
  const max = load.reduce((a, b) => Math.max(a, b), -Infinity);
  const min = load.reduce((a, b) => Math.min(a, b), Infinity);
  const variance = load.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return { mean, max, min, maxOverMean: mean > 0 ? max / mean : 0, cv: mean > 0 ? Math.sqrt(variance) / mean : 0 };
}

/** One step of the auxiliary-loss-free update, in place: overloaded experts' bias falls, underloaded rises. */
export function updateBias(bias: Float32Array, load: readonly number[], gamma: number): void {
  const mean = load.reduce((a, b) => a + b, 0) / load.length;
  for (let i = 0; i < bias.length; i++) bias[i]! += gamma * Math.sign(mean - load[i]!);
}

export interface BalanceDemoOptions extends BalanceSettings {
  dim: number;
  /** experts every token leans towards */
  hot: number;
}

/** The knobs a user sets (CLI flags and the UI's fields are generated from this schema, with its limits). */
export type BalanceSettings = {
  steps: number;
  /** bias step (DeepSeek-V3 trains with 0.001 over many steps; a short demo needs a larger step) */
  gamma: number;
  seed: number;
  /** tokens per step */
  tokens: number;
  E: number;
  topk: number;
  n_groups: number;
  topk_groups: number;
  /** length of the lean added to every token (the tokens' noise has unit variance per coordinate) */
  skew: number;
};

export const BALANCE_SCHEMA: ConfigSchema<BalanceSettings> = {
  steps: { type: 'int', label: 'steps', doc: 'bias updates to run', default: 20, min: 1, max: 1000 },
  gamma: { type: 'number', label: 'γ (bias step)', doc: 'DeepSeek-V3 trains with 0.001 over many steps; a short demo needs a larger step', default: 0.01, min: 0, max: 1 },
  seed: { type: 'int', label: 'seed', doc: 'seed of the token stream and gate weights', default: 1, min: 0, max: 2 ** 31 - 1 },
  tokens: { type: 'int', label: 'tokens per step', doc: 'tokens routed per step', default: 1024, min: 1, max: 65536 },
  // The router's own limits: the demo runs moe.router, so it takes what the router takes.
  E: { type: 'int', label: 'routed experts E', doc: 'experts the router chooses among (at least 2, or there is nothing to balance)', default: 64, min: 2, max: MAX_EXPERTS },
  topk: routingSchema.topk,
  n_groups: routingSchema.n_groups,
  topk_groups: routingSchema.topk_groups,
  skew: { type: 'number', label: 'skew', doc: 'how strongly every token leans towards 8 hot experts', default: 2.5, min: 0, max: 20 },
};

export const BALANCE_DEFAULTS: BalanceDemoOptions = { ...defaults(BALANCE_SCHEMA), dim: 64, hot: 8 };

/** Every refusal the demo's settings can get without a GPU: each field's bounds, then the router's routing rules. */
export function checkBalance(s: BalanceSettings): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [field, spec] of Object.entries(BALANCE_SCHEMA) as [keyof BalanceSettings, FieldSpec][]) {
    const issue = checkField(field, spec, s[field]);
    if (issue) issues.push(issue);
  }
  return issues.length ? issues : checkRouting(balanceRouterConfig({ ...BALANCE_DEFAULTS, ...s }));
}

export interface BalanceStep {
  step: number;
  /** token copies per expert at this step (bias as it was before the step's update) */
  load: number[];
  stats: LoadStats;
  /** bias used for this step */
  bias: number[];
}

/**
 * A deterministic skewed stream: gate rows are random; every token is noise plus `skew` times the unit
 * direction of the hot experts' mean gate row, so those experts win far more often than their share.
 */
class SkewedTokenStream {
  readonly gateWeight: HostTensor;
  readonly hotExperts: number[];
  #lean: Float32Array;
  #rng: Rng;

  constructor(readonly o: Pick<BalanceDemoOptions, 'seed' | 'dim' | 'E' | 'hot' | 'skew'>) {
    this.#rng = createRng(o.seed);
    const g = new Float32Array(o.E * o.dim);
    for (let i = 0; i < g.length; i++) g[i] = this.#rng.normal() / Math.sqrt(o.dim);
    this.gateWeight = { shape: [o.E, o.dim], data: g };
    // hot experts spread over the groups, so group limiting alone cannot hide the skew
    this.hotExperts = Array.from({ length: Math.min(o.hot, o.E) }, (_, i) => Math.floor((i * o.E) / Math.min(o.hot, o.E)));
    const lean = new Float32Array(o.dim);
    for (const e of this.hotExperts) for (let k = 0; k < o.dim; k++) lean[k]! += g[e * o.dim + k]!;
    const norm = Math.hypot(...lean);
    for (let k = 0; k < o.dim; k++) lean[k] = (lean[k]! / norm) * o.skew;
    this.#lean = lean;
  }

  /** The next `tokens` tokens [tokens, dim]. */
  next(tokens: number): HostTensor {
    const { dim } = this.o;
    const x = new Float32Array(tokens * dim);
    for (let t = 0; t < tokens; t++) for (let k = 0; k < dim; k++) x[t * dim + k] = this.#rng.normal() + this.#lean[k]!;
    return { shape: [tokens, dim], data: x };
  }
}

/** The router config the demo runs: DeepSeek-V3's gate (sigmoid, bias, group limit) at the demo's sizes. */
function balanceRouterConfig(o: BalanceDemoOptions): RoutingConfig {
  return withDefaults(moeRouter, {
    N: o.tokens,
    dim: o.dim,
    E: o.E,
    topk: o.topk,
    n_groups: o.n_groups,
    topk_groups: o.topk_groups,
    score_func: 'sigmoid',
    routing: 'deepseek',
    bias: true,
    route_scale: 2.5,
  });
}

/**
 * Run the demo: each step routes a fresh batch of the skewed stream on the GPU with the current bias, reads
 * back the chosen experts, records the load, then applies the bias update. Returns the per-step series
 * (for the UI's chart and the CLI's table); `onStep` sees each step as it completes.
 */
export async function runBalanceDemo(ctx: GpuContext, options: Partial<BalanceDemoOptions> = {}, onStep?: (s: BalanceStep) => void): Promise<BalanceStep[]> {
  const o = { ...BALANCE_DEFAULTS, ...options };
  const config = balanceRouterConfig(o);
  const stream = new SkewedTokenStream(o);
  const bias = new Float32Array(o.E);
  const instance = await createInstance(ctx, moeRouter, config);
  const series: BalanceStep[] = [];
  try {
    for (let step = 0; step < o.steps; step++) {
      const inputs = { x: stream.next(o.tokens), gate_weight: stream.gateWeight, gate_bias: { shape: [o.E], data: bias } };
      uploadInputs(ctx, instance, moeRouter.inputs(config), inputs);
      encodeOnce(ctx, instance);
      const { indices } = await readOutputs(ctx, instance, moeRouter.outputs(config));
      const load = expertLoad(indices!.data, o.E);
      const s: BalanceStep = { step, load, stats: loadStats(load), bias: Array.from(bias) };
      series.push(s);
      onStep?.(s);
      updateBias(bias, load, o.gamma);
    }
  } finally {
    instance.destroy();
  }
  return series;
}
