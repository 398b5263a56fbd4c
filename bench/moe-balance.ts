// `moe-balance`: DeepSeek-V3's auxiliary-loss-free load balancing, live on this machine's GPU. A skewed token
// stream goes through the router step by step; after each step every expert's selection bias moves by
// gamma towards balance (b_i += gamma * sign(mean_load - load_i)) and the table shows the imbalance falling.
import { ArgError, flagsFromSchema, helpText, noPositionals, parseArgs } from './args.ts';
import { runCli } from './cli.ts';
import { acquireNodeGpu } from '../src/gpu/node.ts';
import { describeAdapter } from '../src/gpu/context.ts';
import { BALANCE_DEFAULTS, BALANCE_SCHEMA, checkBalance, runBalanceDemo, type BalanceSettings, type BalanceStep } from '../src/demos/load-balance.ts';

/** Flag name -> the demo's field: every limit --help shows is the schema's, the one the checks below use. */
const FLAGS = {
  steps: 'steps',
  gamma: 'gamma',
  seed: 'seed',
  tokens: 'tokens',
  experts: 'E',
  topk: 'topk',
  groups: 'n_groups',
  'topk-groups': 'topk_groups',
  skew: 'skew',
} as const satisfies Record<string, keyof BalanceSettings>;

const SPEC = {
  ...flagsFromSchema(BALANCE_SCHEMA, FLAGS),
  json: { type: 'bool', help: 'print the per-step series as JSON instead of a table' },
} as const;

function row(s: BalanceStep): string {
  const st = s.stats;
  const lo = s.bias.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = s.bias.reduce((a, b) => Math.max(a, b), -Infinity);
  const bias = `${lo.toFixed(3)} .. ${hi.toFixed(3)}`;
  return [String(s.step).padStart(4), st.maxOverMean.toFixed(3).padStart(8), st.cv.toFixed(3).padStart(6), String(st.min).padStart(5), String(st.max).padStart(5), bias.padStart(16)].join('  ');
}

await runCli(async () => {
  const { flags: f, positionals, help } = parseArgs(process.argv.slice(2), SPEC);
  noPositionals(positionals);
  if (help) {
    console.log(helpText('usage: npm run balance -- [flags]\nRoutes a skewed token stream with DeepSeek-V3\'s gate on the GPU and applies the bias update each step.', SPEC));
    return 0;
  }
  const o = { ...BALANCE_DEFAULTS };
  for (const [flag, field] of Object.entries(FLAGS) as [keyof typeof FLAGS, keyof BalanceSettings][]) o[field] = f[flag] as number;
  // Every rule that needs no GPU (bounds, then the router's routing rules) before the GPU starts.
  const issue = checkBalance(o)[0];
  if (issue) {
    const flag = (Object.keys(FLAGS) as (keyof typeof FLAGS)[]).find((k) => FLAGS[k] === issue.field);
    throw new ArgError(`${flag ? `--${flag}` : issue.field}: ${issue.message}`);
  }
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
