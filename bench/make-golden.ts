// `npm run golden -- --kernel attention.naive --set T=5,S=33 --out case.safetensors`: write a golden case from
// a kernel's float64 reference (random inputs), in the format `verify` reads.
import { checkOutputPath, FileError, writeFileAtomic } from '../src/io/node-files.ts';
import { ArgError, helpText, noPositionals, parseArgs, parseAssignments } from './args.ts';
import { runCli } from './cli.ts';
import { KERNELS, findKernel } from '../src/kernels/registry.ts';
import { withDefaults } from '../src/kernels/contract.ts';
import { goldenHostBytes, makeGolden } from '../src/io/golden.ts';
import { freshSeed } from '../src/kernels/random.ts';
import { checkField } from '../src/kernels/common/validate.ts';

const SPEC = {
  kernel: { type: 'string', help: 'registered kernel id whose reference writes the case', placeholder: 'ID' },
  set: { type: 'list', help: 'config fields, e.g. T=5,S=33,Hq=8,Hkv=2,D=16', placeholder: 'K=V,...' },
  case: { type: 'string', help: "use one of the kernel's test cases by name instead of --set", placeholder: 'NAME' },
  seed: { type: 'int', help: 'random seed (default: fresh)', min: 0, max: 2 ** 31 - 1 },
  out: { type: 'string', help: 'output file', placeholder: 'FILE' },
} as const;

/** Host memory one golden case may take while it is written. */
const GOLDEN_BUDGET_BYTES = 1 << 30;

await runCli(async () => {
  const { flags, positionals, help } = parseArgs(process.argv.slice(2), SPEC);
  noPositionals(positionals);
  if (help) {
    console.log(helpText('usage: npm run golden -- --kernel ID [--set K=V,...] --out FILE', SPEC));
    return 0;
  }
  const withFormat = KERNELS.filter((k) => k.goldenMeta).map((k) => k.id);
  if (!flags.kernel) throw new ArgError(`--kernel is required (kernels with a golden format: ${withFormat.join(', ')})`);
  const def = findKernel(flags.kernel);
  if (!def || !def.goldenMeta) throw new ArgError(`--kernel: "${flags.kernel}" has no golden format (kernels with one: ${withFormat.join(', ')})`);
  if (!flags.out) throw new ArgError('--out FILE is required');
  let partial = {};
  if (flags.case) {
    const tc = def.testCases.find((t) => t.name === flags.case);
    if (!tc) throw new ArgError(`--case: ${def.id} has no test case "${flags.case}" (cases: ${def.testCases.map((t) => t.name).join('; ')})`);
    partial = tc.config;
  }
  // Only this kernel's fields: a key it does not have (`s` for `S`) would silently write the defaults.
  const set = flags.set ? parseAssignments('set', flags.set, def.schema, def.id) : {};
  const config = withDefaults(def, { ...partial, ...set });
  for (const [field, spec] of Object.entries(def.schema)) {
    const issue = checkField(field, spec as never, config[field]);
    if (issue) throw new ArgError(`--set ${issue.field}: ${issue.message}`);
  }
  const issues = def.check?.(config, { limits: { maxBufferSize: Infinity, maxStorageBufferBindingSize: Infinity, maxUniformBufferBindingSize: Infinity, maxComputeWorkgroupStorageSize: Infinity, maxComputeInvocationsPerWorkgroup: Infinity, maxComputeWorkgroupSizeX: Infinity, maxComputeWorkgroupSizeY: Infinity, maxComputeWorkgroupsPerDimension: Infinity, maxStorageBuffersPerShaderStage: Infinity }, features: { f16: true, subgroups: true, timestamps: true } }) ?? [];
  if (issues.length) throw new ArgError(`--set ${issues[0]!.field}: ${issues[0]!.message}`);
  // Refused before anything is allocated: the reference holds every tensor in f64 beside the file's copy.
  const need = goldenHostBytes(def, config);
  if (need > GOLDEN_BUDGET_BYTES) throw new ArgError(`--set: this case needs about ${Math.ceil(need / 2 ** 20)} MiB of host memory, over the ${GOLDEN_BUDGET_BYTES / 2 ** 20} MiB budget for a golden case (golden cases are small)`);
  try {
    checkOutputPath(flags.out, '--out');
  } catch (e) {
    if (e instanceof FileError) throw new ArgError(e.message);
    throw e;
  }
  const seed = flags.seed ?? freshSeed();
  writeFileAtomic(flags.out, makeGolden(def, config, seed));
  console.log(`wrote ${flags.out}: ${def.implements ?? def.id} from ${def.id}'s float64 reference, ${JSON.stringify(config)}, seed ${seed}`);
  return 0;
});
