// The `moe.gate` and `moe.forward` golden formats: routing metadata (DeepSeek-V3 Gate names) + tensor shapes
// <-> config. The score function is required: softmax and sigmoid route differently, so a file that does
// not say which cannot be checked.
import { ConfigError } from '../../gpu/errors.ts';
import { metaEnum, metaInt, metaNumber, type Metadata } from '../common/metadata.ts';
import { requiredTensor } from '../common/rules.ts';
import type { MoeForwardConfig } from './forward.ts';
import type { RoutingConfig } from './moe-config.ts';

type Shapes = Record<string, number[]>;

/** moe.gate metadata + x / gate_weight / gate_bias shapes -> routing config (bias present iff the file has gate_bias). */
export function routingFromGolden(meta: Metadata, shapes: Shapes): RoutingConfig {
  const [N, dim] = requiredTensor(shapes, 'x', 2) as [number, number];
  const [E, gdim] = requiredTensor(shapes, 'gate_weight', 2) as [number, number];
  if (gdim !== dim) throw new ConfigError([{ field: 'gate_weight', message: `shape [${shapes.gate_weight}] does not match x's dim ${dim}` }]);
  const bias = shapes.gate_bias !== undefined;
  if (bias) {
    const b = requiredTensor(shapes, 'gate_bias', 1);
    if (b[0] !== E) throw new ConfigError([{ field: 'gate_bias', message: `shape [${b}] does not match E = ${E}` }]);
  }
  const routing = metaEnum(meta, 'routing', ['deepseek', 'mixtral'], 'deepseek');
  return {
    N,
    dim,
    E,
    topk: metaInt(meta, 'topk', { min: 1 }),
    n_groups: metaInt(meta, 'n_groups', { min: 1, fallback: 1 }),
    topk_groups: metaInt(meta, 'topk_groups', { min: 1, fallback: 1 }),
    // Mixtral routing ignores the score function (softmax over the selected logits), so only it may omit it.
    score_func: metaEnum(meta, 'score_func', ['softmax', 'sigmoid'], routing === 'mixtral' ? 'softmax' : undefined),
    routing,
    bias,
    route_scale: metaNumber(meta, 'route_scale', { positive: true, fallback: 1 }),
  };
}

/** The inverse (`routing` only written for the Mixtral variant, which the DeepSeek-style files do not have). */
export function routingGoldenMeta(c: RoutingConfig): Metadata {
  return {
    score_func: c.score_func,
    topk: String(c.topk),
    n_groups: String(c.n_groups),
    topk_groups: String(c.topk_groups),
    route_scale: String(c.route_scale),
    ...(c.routing === 'mixtral' ? { routing: 'mixtral' } : {}),
  };
}

function sameShape(name: string, got: number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((v, i) => v !== want[i])) throw new ConfigError([{ field: name, message: `shape [${got}] should be [${want}]` }]);
}

const SHARED = ['shared_w1', 'shared_w2', 'shared_w3'] as const;

/** moe.forward: the routing above plus the routed experts' w1/w2/w3 and, all three or none, the shared expert's. */
export function forwardFromGolden(meta: Metadata, shapes: Shapes): MoeForwardConfig {
  const r = routingFromGolden(meta, shapes);
  const [E, inter, dim] = requiredTensor(shapes, 'w1', 3) as [number, number, number];
  if (E !== r.E || dim !== r.dim) throw new ConfigError([{ field: 'w1', message: `shape [${shapes.w1}] does not match E = ${r.E}, dim = ${r.dim}` }]);
  sameShape('w3', requiredTensor(shapes, 'w3', 3), [E, inter, dim]);
  sameShape('w2', requiredTensor(shapes, 'w2', 3), [E, dim, inter]);
  let shared_inter = 0;
  const present = SHARED.filter((n) => shapes[n] !== undefined);
  if (present.length > 0) {
    // Some shared weights without the others is a broken file, not "no shared expert".
    const missing = SHARED.find((n) => shapes[n] === undefined);
    if (missing) throw new ConfigError([{ field: missing, message: `missing: the file has ${present.join(', ')}, and a shared expert needs all of ${SHARED.join(', ')}` }]);
    const [Is, sdim] = requiredTensor(shapes, 'shared_w1', 2) as [number, number];
    if (sdim !== dim) throw new ConfigError([{ field: 'shared_w1', message: `shape [${shapes.shared_w1}] does not match dim = ${dim}` }]);
    sameShape('shared_w3', requiredTensor(shapes, 'shared_w3', 2), [Is, dim]);
    sameShape('shared_w2', requiredTensor(shapes, 'shared_w2', 2), [dim, Is]);
    shared_inter = Is;
  }
  // 0 (or inf) = no capacity limit: every token copy is kept.
  const capacity_factor = metaNumber(meta, 'capacity_factor', { fallback: 0, infAs: 0 });
  // Golden files hold f32 weights.
  return { ...r, inter, shared_inter, capacity_factor, dtype: 'f32' };
}

export function forwardGoldenMeta(c: MoeForwardConfig): Metadata {
  return { ...routingGoldenMeta(c), ...(c.capacity_factor > 0 ? { capacity_factor: String(c.capacity_factor) } : {}) };
}
