// `npm run bench`: the benchmark suite headless (Node + Dawn). Prints progress while it runs, then a table
// (median ms, GB/s, GFLOP/s, % of measured copy bandwidth and FMA peak), and optionally writes the result
// file (the same JSON schema the UI reads).
import { checkOutputPath, FileError, readRegularFile, writeFileAtomic } from '../src/io/node-files.ts';
import { ArgError, checkEnum, helpText, noPositionals, parseArgs, parseAssignments } from './args.ts';
import { progress, runCli, runtimeName, toolVersion } from './cli.ts';

// Only the flag parser loads up front: the kernel registry (every kernel's WGSL), Dawn and the peers study's
// Vite and Playwright load once the flags have parsed, so a mistyped flag is refused in the time Node starts.
const loadSuite = () =>
  Promise.all([
    import('../src/kernels/registry.ts'),
    import('../src/bench/studies/index.ts'),
    import('../src/bench/suite.ts'),
  ]).then(([registry, studies, suite]) => ({ KERNELS: registry.KERNELS, STUDIES: studies.STUDIES, selectJobs: suite.selectJobs }));

const SPEC = {
  kernels: { type: 'list', help: 'kernel ids or families to run, e.g. attention.flash_decode,moe', placeholder: 'IDS' },
  shapes: { type: 'list', help: 'only shapes whose name contains one of these, e.g. decode', placeholder: 'NAMES' },
  study: {
    type: 'string',
    help: 'run a named study instead of the default suite (see --list); a study runs its own fixed shapes, so --set, --kernels and --shapes are refused with it, except peers, which takes --shapes (workload ids) and refuses --set and --kernels',
    placeholder: 'NAME',
  },
  set: { type: 'list', help: 'override fields of every selected shape, e.g. S=8192,Hq=16', placeholder: 'K=V,...' },
  repeats: { type: 'int', help: 'timed samples per shape, each a batch of back-to-back runs (default 30 on a GPU, 3 on CPU emulation; a study sets its own)', min: 1, max: 10000 },
  warmup: { type: 'int', help: 'warm-up batches at least (warm-up is by time anyway: >= 200 ms or two medians within 5%; default 0)', min: 0, max: 1000 },
  'flush-mb': { type: 'int', help: 'MiB cleared before every run to flush caches, its time subtracted (default: 256 on GPUs, 8 on CPU emulation)', min: 0, max: 4096 },
  json: { type: 'string', help: 'write the result file (JSON, schema llm-kernel-lab/bench-result v1) here', placeholder: 'FILE' },
  seed: { type: 'int', help: 'random seed for inputs (default: fresh)', min: 0, max: 2 ** 31 - 1 },
  'wall-clock': { type: 'bool', help: 'time with submit→onSubmittedWorkDone instead of GPU timestamps' },
  list: { type: 'bool', help: 'list kernels and their benchmark shapes, then exit' },
  geometry: { type: 'bool', help: 'print every dispatch of one untimed run per selected shape (workgroups, threads, workgroup memory), then exit' },
  digest: { type: 'string', help: 'print the table and the study digests of a result file written earlier (no GPU needed), then exit', placeholder: 'FILE' },
} as const;

/** The --study choices: the registered studies and the peers comparison. */
const studyIds = (studies: readonly { id: string }[]) => [...studies.map((s) => s.id), 'peers'];

const USAGE = 'usage: npm run bench -- [flags]\nRuns every registered kernel at its benchmark shapes on this machine\'s WebGPU adapter.';

await runCli(async () => {
  const { flags, positionals, help } = parseArgs(process.argv.slice(2), SPEC);
  noPositionals(positionals);
  if (help) {
    const { STUDIES } = await loadSuite();
    console.log(helpText(USAGE, { ...SPEC, study: { type: 'enum', help: SPEC.study.help, values: studyIds(STUDIES) } }));
    return 0;
  }
  if (flags.digest) {
    const [{ parseResultFile }, { renderResultFile, renderDigest }, { digestStudies }] = await Promise.all([
      import('../src/bench/result-schema.ts'),
      import('../src/bench/format.ts'),
      import('../src/bench/studies/index.ts'),
    ]);
    let text: string;
    try {
      // Regular files only, bounded: a FIFO or /dev/zero is refused at once instead of hanging or filling memory.
      text = new TextDecoder().decode(readRegularFile(flags.digest, 1 << 30));
    } catch (e) {
      throw new ArgError(`--digest: ${(e as Error).message}`);
    }
    const parsed = parseResultFile(text);
    if (!parsed.ok) throw new ArgError(`--digest: ${flags.digest} is not a bench result file: ${parsed.errors.join('; ')}`);
    console.log(renderResultFile(parsed.file));
    for (const d of digestStudies(parsed.file)) console.log(`\n${renderDigest(d)}`);
    return 0;
  }
  // The study names are the registered studies': known once the registry has loaded (peers needs neither).
  if (flags.study && flags.study !== 'peers') checkEnum('study', studyIds((await loadSuite()).STUDIES), flags.study);
  if (flags.study) {
    // A study answers one question at its own shapes: a filter or an override would change the question.
    const taken = flags.study === 'peers' ? ['shapes'] : [];
    const given = (['set', 'kernels', 'shapes'] as const).filter((f) => flags[f] !== undefined && !taken.includes(f));
    if (given.length) {
      throw new ArgError(`--study ${flags.study} runs its own fixed shapes: --${given.join(', --')} cannot be combined with it (run the suite without --study for that)`);
    }
  }
  if (flags.study === 'peers') {
    // onnxruntime-web and tfjs run in the browser: the study drives headless Chromium (no Dawn device here).
    const { runPeersStudy } = await import('./peers.ts');
    return runPeersStudy({ repeats: flags.repeats ?? 5, warmup: flags.warmup ?? 2, seed: flags.seed, json: flags.json, ids: flags.shapes });
  }
  const { KERNELS, STUDIES, selectJobs } = await loadSuite();
  const known = new Set([...KERNELS.map((k) => k.id), ...KERNELS.map((k) => k.family)]);
  for (const k of flags.kernels ?? []) {
    if (!known.has(k)) throw new ArgError(`--kernels: unknown kernel or family "${k}" (known: ${[...known].join(', ')})`);
  }
  // Any registered kernel's field, read by its type (a field shared by several kernels has one type).
  const set = flags.set ? parseAssignments('set', flags.set, Object.assign({}, ...[...KERNELS].reverse().map((k) => k.schema)), 'any registered kernel') : undefined;
  const study = STUDIES.find((s) => s.id === flags.study);
  const jobs = study ? study.jobs(KERNELS) : selectJobs(KERNELS, { kernels: flags.kernels, shapes: flags.shapes, set });
  if (flags.list) {
    for (const j of jobs) console.log(`${j.def.id.padEnd(30)} ${j.shape.name}`);
    if (!study) console.log(`\nstudies (--study NAME):\n${STUDIES.map((s) => `  ${s.id.padEnd(16)} ${s.question}`).join('\n')}`);
    return 0;
  }
  if (jobs.length === 0) throw new ArgError('no kernel/shape matches --kernels/--shapes/--set (try --list)');

  // A bad --json path is refused now, not after the whole run has been measured.
  if (flags.json) {
    try {
      checkOutputPath(flags.json, '--json');
    } catch (e) {
      if (e instanceof FileError) throw new ArgError(e.message);
      throw e;
    }
  }
  const [{ acquireNodeGpu }, { describeAdapter, isCpuEmulation }, { runSuite }, { fmtNum, renderDigest, renderResultFile, rooflineLine }, { ResultFileSchema }, { forEachItem, guardLoss }, { defaultRepeats, kernelGeometry }, { geometryLines, totalWorkgroups }, { withDefaults }, { freshSeed }, { digestStudies }] =
    await Promise.all([
      import('../src/gpu/node.ts'),
      import('../src/gpu/context.ts'),
      import('../src/bench/suite.ts'),
      import('../src/bench/format.ts'),
      import('../src/bench/result-schema.ts'),
      import('../src/bench/run-control.ts'),
      import('../src/bench/runner.ts'),
      import('../src/bench/geometry.ts'),
      import('../src/kernels/contract.ts'),
      import('../src/kernels/random.ts'),
      import('../src/bench/studies/index.ts'),
    ]);
  const ctx = await acquireNodeGpu();
  if (flags.geometry) {
    const seed = flags.seed ?? freshSeed();
    await forEachItem(
      ctx,
      jobs,
      async (j) => {
        const config = withDefaults(j.def, j.shape.config);
        const g = await kernelGeometry(ctx, j.def, config, seed);
        console.log(`${j.def.id} ${j.shape.name}: ${totalWorkgroups(g)} workgroups in ${g.length} dispatches`);
        console.log(geometryLines(g, j.def.cost(config).bytes).join('\n'));
      },
      { onFailure: (j, _i, message) => console.log(`${j.def.id} ${j.shape.name}: not run: ${message}`) },
    );
    ctx.destroy();
    return 0;
  }
  if (study?.measure) {
    // An untimed study: its answer is read from the jobs' encoded dispatches; the result file around it
    // (adapter, limits, this run's roofline probes) is the suite's, with no kernel timed.
    const digest = await guardLoss(ctx, study.measure(ctx, KERNELS, (what) => console.error(`recording ${what}`)));
    console.log(renderDigest(digest));
    if (flags.json) {
      const file = await guardLoss(ctx, runSuite(ctx, [], { warmup: 0, repeats: 1, seed: flags.seed ?? freshSeed(), runtime: runtimeName(), toolVersion: toolVersion() }));
      file.studies = [digest];
      ResultFileSchema.parse(file);
      writeFileAtomic(flags.json, JSON.stringify(file, null, 2));
      console.error(`wrote ${flags.json}`);
    }
    ctx.destroy();
    return 0;
  }
  // Test hook: lose the device mid-run, as a driver reset would (bench/cli.test.ts).
  const loseAfter = Number(process.env.KERNEL_LAB_TEST_LOSE_DEVICE_AFTER_MS);
  if (loseAfter > 0) setTimeout(() => ctx.device.destroy(), loseAfter).unref();
  console.error(`adapter: ${describeAdapter(ctx.adapter)}; timestamps: ${ctx.features.timestamps && !flags['wall-clock'] ? 'yes' : 'no (wall clock)'}; f16: ${ctx.features.f16 ? 'yes' : 'no'}; subgroups: ${ctx.features.subgroups ? 'yes' : 'no'}`);
  // CPU emulation runs each dispatch ~1000x slower than a GPU: fewer samples keep the default suite to
  // minutes; its numbers only mean something as ratios anyway.
  const cpu = isCpuEmulation(ctx);
  const repeats = flags.repeats ?? study?.repeats ?? defaultRepeats(ctx);
  const warmup = flags.warmup ?? study?.warmup ?? 0;
  console.error(`${repeats} timed samples per shape after a timed warm-up${cpu && flags.repeats === undefined ? ' (fewer on CPU emulation; --repeats N to change)' : ''}`);
  console.error('measuring the roofline (read and copy bandwidth, FMA throughput)...');
  const started = performance.now();
  // Ctrl-C stops between timed batches: the results so far are kept (and written with --json, marked
  // incomplete); a second Ctrl-C leaves at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  // Any failure while the device dies (the roofline probe, a pipeline build) reads as the device loss.
  const suite = guardLoss(ctx, runSuite(ctx, jobs, {
    signal: interrupt.signal,
    partialOnAbort: true,
    warmup,
    repeats,
    flushBytes: flags['flush-mb'] === undefined ? undefined : flags['flush-mb'] * 1024 * 1024,
    wallClock: flags['wall-clock'],
    seed: flags.seed ?? freshSeed(),
    runtime: runtimeName(),
    toolVersion: toolVersion(),
    onEvent(e) {
      if (e.kind === 'roofline') console.error(rooflineLine(e.roofline));
      if (e.kind === 'start') progress.start(`[${e.index + 1}/${e.total}] ${e.job.def.id} ${e.job.shape.name} ... `);
      if (e.kind === 'result') progress.end(`${fmtNum(e.result.medianMs)} ms${e.result.verification.ok ? '' : ' (VERIFICATION FAILED)'}`);
      if (e.kind === 'error') progress.end(`not run: ${e.message}`);
    },
  }));
  const file = await suite.catch((e: unknown) => {
    // Interrupted in the roofline probe: there is nothing to keep yet.
    if ((e as Error)?.name !== 'AbortError') throw e;
    return undefined;
  });
  process.off('SIGINT', onSigint);
  if (!file) {
    if (progress.open) progress.end('interrupted');
    console.error('interrupted before any kernel was measured: nothing written');
    ctx.destroy();
    return 130;
  }
  if (progress.open) progress.end('interrupted');
  const studies = digestStudies(file);
  if (studies.length) file.studies = studies;
  console.log(renderResultFile(file));
  for (const d of studies) console.log(`\n${renderDigest(d)}`);
  console.log(`\n${file.results.length} measured, ${file.errors.length} not run, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (flags.json) {
    // Validate what we write against the schema we publish: a file we emit must be one we can import.
    ResultFileSchema.parse(file);
    writeFileAtomic(flags.json, JSON.stringify(file, null, 2));
    console.error(`wrote ${flags.json}`);
  }
  ctx.destroy();
  if (file.incomplete) {
    console.error(`interrupted: ${file.incomplete}`);
    return 130;
  }
  if (file.results.length === 0) {
    console.error('nothing was measured: every selected shape was refused (see "not run" above)');
    return 1;
  }
  const bad = file.results.filter((r) => !r.verification.ok || !r.outputsFinite);
  if (bad.length) {
    console.error(`${bad.length} kernel(s) failed verification: ${bad.map((r) => `${r.kernel} ${r.shape}`).join(', ')}`);
    return 1;
  }
  return 0;
});
