// A real model's shape that this device cannot hold (DeepSeek-V3's experts: 14 GiB of w1/w2/w3) is not a
// dead end: divide its size fields (widths, head counts) by the smallest power of two that passes every
// rule, keep the technique's structure (experts, top-k, groups, latent layout), and say the factor. Ratios
// between kernels at one scaled shape still teach; absolute sizes are the model's divided by the factor.
import type { AnyKernel, Config, FieldSpec } from '../../kernels/contract.ts';
import type { DeviceCaps } from '../../gpu/context.ts';
import { validateConfig } from '../../kernels/common/validate.ts';

export interface ScaleDown {
  factor: number;
  config: Config;
  /** "dim 7168 → 1792" for each field that changed. */
  changes: string[];
}

const MAX_FACTOR = 1024;

/** A value divided by f, kept a multiple of 4 when it was one (vec4 loads), and at least the field's minimum. */
function divided(spec: FieldSpec, v: number, f: number): number {
  if (v === 0) return 0;
  const min = 'min' in spec ? Math.max(1, spec.min) : 1;
  const raw = v / f;
  const q = v % 4 === 0 && raw >= 4 ? Math.floor(raw / 4) * 4 : Math.floor(raw);
  return Math.max(min, q);
}

/** The smallest power-of-two factor whose scaled config passes every rule, or undefined (none, or nothing to scale). */
export function scaleDownToFit(def: AnyKernel, config: Config, caps: DeviceCaps, fields: readonly string[]): ScaleDown | undefined {
  const own = fields.filter((f) => f in def.schema && typeof config[f] === 'number' && Number.isInteger(config[f]));
  if (!own.length) return undefined;
  for (let factor = 2; factor <= MAX_FACTOR; factor *= 2) {
    const next: Config = { ...config };
    for (const f of own) next[f] = divided(def.schema[f]!, config[f] as number, factor);
    if (validateConfig(def, next, caps).length === 0) {
      const changes = own.filter((f) => next[f] !== config[f]).map((f) => `${f} ${String(config[f])} → ${String(next[f])}`);
      return changes.length ? { factor, config: next, changes } : undefined;
    }
  }
  return undefined;
}
