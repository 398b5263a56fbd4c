// `moe-balance`: DeepSeek-V3's auxiliary-loss-free load balancing, live on this machine's GPU. A skewed token
// stream goes through the router step by step; after each step every expert's selection bias moves by
// gamma towards balance (b_i += gamma * sign(mean_load - load_i)) and the table shows the imbalance falling.
import { ArgError, helpText, noPositionals, parseArgs } from './args.ts';
import { runCli } from './cli.ts';
import { acquireNodeGpu } from '../src/gpu/node.ts';
import { describeAdapter } from '../src/gpu/context.ts';
import { BALANCE_DEFAULTS, runBalanceDemo, type BalanceStep } from '../src/demos/load-balance.ts';

const D = BALANCE_DEFAULTS;
const SPEC = {
  steps: { type: 'int', help: 'bias-update steps', default: D.steps, min: 1, max: 10_000 },
  gamma: { type: 'number', help: 'bias step per update', default: D.gamma, min: 0, max: 10 },
  seed: { type: 'int', help: 'seed of the token stream and gate weights', default: D.seed, min: 0, max: 2 ** 31 - 1 },
  tokens: { type: 'int', help: 'tokens routed per step', default: D.tokens, min: 1, max: 1 << 20 },
  experts: { type: 'int', help: 'routed experts E', default: D.E, min: 2, max: 512 },
  topk: { type: 'int', help: 'experts per token', default: D.topk, min: 1, max: 32 },
  groups: { type: 'int', help: 'expert groups (n_groups)', default: D.n_groups, min: 1, max: 64 },
  'topk-groups': { type: 'int', help: 'groups a token may use (topk_groups)', default: D.topk_groups, min: 1, max: 64 },
  skew: { type: 'number', help: 'how strongly every token leans towards the hot experts', default: D.skew, min: 0, max: 100 },
  json: { type: 'bool', help: 'print the per-step series as JSON instead of a table' },
} as const;

function row(s: BalanceStep): string {
  const st = s.stats;
  const bias = `${Math.min(...s.bias).toFixed(3)} .. ${Math.max(...s.bias).toFixed(3)}`;
  return [String(s.step).padStart(4), st.maxOverMean.toFixed(3).padStart(8), st.cv.toFixed(3).padStart(6), String(st.min).padStart(5), String(st.max).padStart(5), bias.padStart(16)].join('  ');
}

await runCli(async () => {
  const { flags: f, positionals, help } = parseArgs(process.argv.slice(2), SPEC);
  noPositionals(positionals);
  if (help) {
    console.log(helpText('usage: npm run balance -- [flags]\nRoutes a skewed token stream with DeepSeek-V3\'s gate on the GPU and applies the bias update each step.', SPEC));
    return 0;
  }
  const o = {
    steps: f.steps!,
    gamma: f.gamma!,
    seed: f.seed!,
    tokens: f.tokens!,
    E: f.experts!,
    topk: f.topk!,
    n_groups: f.groups!,
    topk_groups: f['topk-groups']!,
    skew: f.skew!,
  };
  if (o.E % o.n_groups !== 0) throw new ArgError(`--groups ${o.n_groups} must divide --experts ${o.E}`);
  const ctx = await acquireNodeGpu();
  console.error(`adapter: ${describeAdapter(ctx.adapter)}`);
  if (!f.json) {
    console.log(`${o.tokens} tokens/step, E=${o.E} top-${o.topk}, groups ${o.topk_groups}/${o.n_groups}, gamma=${o.gamma}, seed=${o.seed}; load = token copies per expert (mean ${(o.tokens * o.topk) / o.E})`);
    console.log(['step', 'max/mean', '    CV', '  min', '  max', '      bias range'].join('  '));
  }
  const series = await runBalanceDemo(ctx, o, f.json ? undefined : (s) => console.log(row(s)));
  if (f.json) console.log(JSON.stringify(series));
  ctx.destroy();
  return 0;
});
