// Test-only counter of what a test file makes the GPU compile (setup file of the node and browser projects).
// On SwiftShader compiling a pipeline, not running it, is most of a GPU test's time, so a file that compiles
// the same module twice, or one pipeline per variant that does not change it, shows up here first. It wraps
// GPUDevice's createShaderModule / createComputePipeline(Async) once per realm and, with
// KERNEL_LAB_COMPILE_LOG=1, prints one line per file after its tests: modules and pipelines created, the
// distinct sources among them, and the slowest pipelines (time from the call until the pipeline resolved).
import { afterAll, expect } from 'vitest';

interface CompileLog {
  modules: number;
  moduleSources: Set<string>;
  pipelines: { label: string; ms: number; key: string }[];
}

const KEY = Symbol.for('llm-kernel-lab.compile-log');
type Holder = { [KEY]?: CompileLog };

function log(): CompileLog {
  const g = globalThis as Holder;
  return (g[KEY] ??= { modules: 0, moduleSources: new Set(), pipelines: [] });
}

const MODULE_IDS = new WeakMap<object, number>();

/** 32-bit FNV-1a of a module's text: the same source compiled in two files gets the same key. */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

function install(device: { prototype: GPUDevice } | undefined): void {
  const proto = device?.prototype;
  if (!proto || (proto as unknown as Record<symbol, boolean>)[KEY]) return;
  (proto as unknown as Record<symbol, boolean>)[KEY] = true;
  const sources: string[] = [];
  const hashes: string[] = [];
  const createShaderModule = proto.createShaderModule;
  proto.createShaderModule = function (this: GPUDevice, desc: GPUShaderModuleDescriptor) {
    const m = createShaderModule.call(this, desc);
    let id = sources.indexOf(desc.code);
    if (id < 0) {
      id = sources.push(desc.code) - 1;
      hashes[id] = fnv(desc.code);
    }
    MODULE_IDS.set(m, id);
    const l = log();
    l.modules++;
    l.moduleSources.add(desc.code);
    return m;
  };
  const keyOf = (desc: GPUComputePipelineDescriptor) =>
    `${hashes[MODULE_IDS.get(desc.compute.module) ?? -1] ?? '?'}:${desc.compute.entryPoint}:${JSON.stringify(desc.compute.constants ?? {})}`;
  const createComputePipelineAsync = proto.createComputePipelineAsync;
  proto.createComputePipelineAsync = function (this: GPUDevice, desc: GPUComputePipelineDescriptor) {
    const t0 = performance.now();
    const p = createComputePipelineAsync.call(this, desc);
    void p.then(
      () => log().pipelines.push({ label: desc.label ?? '?', ms: performance.now() - t0, key: keyOf(desc) }),
      () => {},
    );
    return p;
  };
  const createComputePipeline = proto.createComputePipeline;
  proto.createComputePipeline = function (this: GPUDevice, desc: GPUComputePipelineDescriptor) {
    const t0 = performance.now();
    const p = createComputePipeline.call(this, desc);
    log().pipelines.push({ label: desc.label ?? '?', ms: performance.now() - t0, key: keyOf(desc) });
    return p;
  };
}


const nodeEnv = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
const level = (import.meta as { env?: Record<string, string | undefined> }).env?.KERNEL_LAB_COMPILE_LOG || nodeEnv?.KERNEL_LAB_COMPILE_LOG || '';
const enabled = level === '1' || level === '2';

// In Node, GPUDevice reaches globalThis only once a device is acquired: take it from Dawn's binding (a
// specifier in a variable, so the browser build never resolves it).
const dawn = 'webgpu';
const gpuDevice = !enabled
  ? undefined
  : typeof window === 'undefined'
    ? ((await import(/* @vite-ignore */ dawn)) as { globals: { GPUDevice: { prototype: GPUDevice } } }).globals.GPUDevice
    : (globalThis as { GPUDevice?: { prototype: GPUDevice } }).GPUDevice;

if (enabled) {
  install(gpuDevice);
  // Per file: the counts since the previous file ended (files share the realm where isolation is off).
  const g = globalThis as Holder;
  g[KEY] = { modules: 0, moduleSources: new Set(), pipelines: [] };
  afterAll(() => {
    const l = log();
    const ms = l.pipelines.reduce((s, p) => s + p.ms, 0);
    const distinct = new Set(l.pipelines.map((p) => p.key)).size;
    const slow = [...l.pipelines]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 6)
      .map((p) => `${p.label} ${(p.ms / 1000).toFixed(1)}s`)
      .join(', ');
    const file = (expect.getState().testPath ?? '').replace(/^.*?\/(src|test|bench)\//, '$1/');
    console.log(
      `compile-log ${file}: modules ${l.modules} (${l.moduleSources.size} distinct), pipelines ${l.pipelines.length} (${distinct} distinct), ` +
        `pipeline time ${(ms / 1000).toFixed(1)}s; slowest: ${slow}`,
    );
    // Level 2: every pipeline's key (module hash:entry point:constants) and time, to compare files.
    if (level === '2') console.log(`compile-keys ${file}: ${l.pipelines.map((p) => `${p.key}=${Math.round(p.ms)}`).join(' ')}`);
  });
}
