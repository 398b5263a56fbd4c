// The decode-geometry study: every dispatch of every decode kernel at DeepSeek-V3.2-scale decode shapes, from
// one encode of each (untimed; an indirect grid is resolved by running only the passes that size it), and
// whether each dispatch that streams the KV cache or weights fills a large GPU: >= 512 workgroups, or at
// most 64 KiB of the cache or weights per workgroup. Grids are exact on any adapter whose limits admit the
// shape; bytes streamed come from what the algorithm reads (a window, a top-k list, the routed experts).
import type { GpuContext } from '../../gpu/context.ts';
import { withDefaults, type AnyKernel, type BenchShape, type Config, type Cost } from '../../kernels/contract.ts';
import { createInstance, makeInputs, uploadInputs } from '../../kernels/execute.ts';
import { planLatentSplit } from '../../kernels/mla/latent-split.ts';
import { createRng } from '../../kernels/random.ts';
import { recordGeometry, type DispatchGeometry } from '../geometry.ts';
import type { StudyDigest } from '../result-schema.ts';
import { requireKernel, type Study } from './study.ts';

/** The rule: a streaming dispatch launches at least this many workgroups (~130 SMs, several resident each)... */
export const FILL_WORKGROUPS = 512;
/** ...or streams at most this many bytes of the cache or weights per workgroup, whichever needs fewer. */
export const FILL_BYTES_PER_WORKGROUP = 64 * 1024;

type Model = (c: Config, cost: Cost) => number;

export interface GeometryRun {
  kernel: string;
  shape: BenchShape;
  /** How the shape departs from the model's and by what factor, where memory forces it. */
  scaled?: string;
  /** Bindings holding the KV cache or weights: a dispatch whose entry point reads one streams them. */
  streamed: readonly string[];
  /**
   * Bytes an entry point streams where that is not all it binds: a window, a top-k list or the routed experts
   * of a bound cache or weight set, or 0 for a branch the shape does not take. Others stream what is bound.
   */
  bytes?: Readonly<Record<string, Model>>;
  /**
   * Entry points whose workgroups share streamed rows (head blocks over one latent row): how many workgroups
   * read each streamed byte, so a workgroup's bytes are its share times that.
   */
  sharedBy?: Readonly<Record<string, (c: Config) => number>>;
}

const el = (c: Config) => (c.dtype === 'f16' ? 2 : 4);
const kv: Model = (_c, cost) => cost.kvCacheBytes ?? NaN;

const GQA = { Hq: 32, Hkv: 8, D: 128 };
const S = 32768;
const V3_ROUTING = { dim: 7168, E: 256, topk: 8, n_groups: 8, topk_groups: 4, score_func: 'sigmoid', routing: 'deepseek', bias: true, route_scale: 2.5 };
/** DeepSeek-V3's 256 experts of 3 x 7168 x 2048 weights: 45 GB in f32; the FFN keeps top-8 of 8 (one token reads 8 either way). */
const FFN_EXPERTS = 8;
/** Head blocks of the latent-split core (shared by both MLA kernels): every block reads each latent row of a range. */
const latentBlocks = (H: number, keys: number, dc: number, dr: number, dtype: number) => planLatentSplit({ T: 1, H, keys, dc, dr, el: dtype }).blocks;

export const DECODE_GEOMETRY_RUNS: readonly GeometryRun[] = [
  ...[1, 4].map((T) => ({
    kernel: 'attention.flash_decode',
    shape: { name: `decode T=${T} S=${S} Hq=32 Hkv=8 D=128`, config: { T, S, ...GQA, causal: true } },
    streamed: ['k', 'v'],
  })),
  {
    kernel: 'sparse.sliding_window',
    shape: { name: `decode S=${S} W=4096 sinks=4 Hq=32 Hkv=8 D=128`, config: { T: 1, S, ...GQA, window: 4096, sinks: 4 } },
    streamed: ['k', 'v'],
    bytes: { attend_main: kv },
  },
  {
    kernel: 'sparse.block_select',
    shape: { name: `decode S=${S} B=64 top=32 (2048 keys) Hq=32 Hkv=8 D=128`, config: { T: 1, S, ...GQA, block: 64, topBlocks: 32 } },
    // pool_main mean-pools every key block (all of K); score_main reads the pooled keys; attend_main the selected blocks.
    streamed: ['k', 'v', 'pooled'],
    bytes: { attend_main: (c) => Number(c.topBlocks) * Number(c.block) * Number(c.Hkv) * Number(c.D) * el(c) * 2 },
  },
  {
    kernel: 'sparse.dsa_attention',
    shape: { name: `decode GQA S=${S} k=2048 Hq=32 Hkv=8 D=128`, config: { T: 1, S, ...GQA, mode: 'gqa', topk: 2048 } },
    streamed: ['k', 'v'],
    bytes: { attend_main: kv },
  },
  {
    kernel: 'sparse.dsa_attention',
    shape: { name: `decode MLA S=${S} k=2048 H=128 D=576 (512 + 64)`, config: { T: 1, S, Hq: 128, Hkv: 1, D: 576, Dr: 64, mode: 'mla', topk: 2048 } },
    // kv_latent and k_pe bind the same latent cache; split_main gathers the top-k rows of it.
    streamed: ['kv_latent', 'k_pe'],
    bytes: { split_main: kv },
    sharedBy: { split_main: (c) => latentBlocks(Number(c.Hq), Number(c.topk), Number(c.D) - Number(c.Dr), Number(c.Dr), el(c)) },
  },
  {
    kernel: 'sparse.indexer',
    shape: { name: `decode S=${S} Hi=64 Di=128 (V3.2 index heads)`, config: { T: 1, S, Hi: 64, Di: 128 } },
    streamed: ['k_index'],
  },
  {
    kernel: 'sparse.topk',
    shape: { name: `decode row S=${S} k=2048`, config: { rows: 1, S, k: 2048 } },
    // The indexer's scores for this step, not a cache.
    streamed: [],
  },
  {
    kernel: 'mla.decode_absorbed',
    shape: { name: `decode S=${S} H=128 dc=512 dr=64 dn=128 dv=128`, config: { T: 1, S, H: 128, dn: 128, dr: 64, dc: 512, dv: 128, causal: true } },
    streamed: ['kv_latent', 'k_pe', 'wkv_b'],
    // wkv_b holds W_UK and W_UV side by side: the absorb pass reads the first, the output pass the second.
    bytes: {
      absorb_main: (c) => Number(c.H) * Number(c.dn) * Number(c.dc) * el(c),
      uv_main: (c) => Number(c.H) * Number(c.dv) * Number(c.dc) * el(c),
    },
    sharedBy: { split_main: (c) => latentBlocks(Number(c.H), Number(c.S), Number(c.dc), Number(c.dr), el(c)) },
  },
  ...[1, 64].map((N) => ({
    kernel: 'moe.router',
    shape: { name: `decode N=${N} dim=7168 E=256 top-8 groups 8/4 sigmoid + bias`, config: { N, ...V3_ROUTING } },
    streamed: ['gate_weight'],
    // The selection reads the logits the GEMV wrote; its fused branch (gate rows in the same pass) is for tiny dims.
    bytes: { select_main: () => 0 },
  })),
  ...[1, 64].map((N) => ({
    kernel: 'moe.dispatch',
    shape: { name: `decode N=${N} E=256 top-8`, config: { N, E: 256, topk: 8 } },
    streamed: [],
  })),
  {
    kernel: 'moe.grouped_ffn',
    shape: { name: `decode N=1 E=${FFN_EXPERTS} top-8 dim=7168 inter=2048`, config: { N: 1, E: FFN_EXPERTS, topk: 8, dim: 7168, inter: 2048 } },
    scaled: `experts 256 -> ${FFN_EXPERTS} (1/${256 / FFN_EXPERTS}: 256 x 3 x 7168 x 2048 f32 weights are 45 GB; one token reads its 8 experts either way)`,
    streamed: ['w1', 'w3', 'w2'],
    // One token's top-k experts, each read once: w1 and w3 by the up pass, w2 by the down pass.
    bytes: {
      up_gemv: (c) => Math.min(Number(c.E), Number(c.N) * Number(c.topk)) * 2 * Number(c.dim) * Number(c.inter) * el(c),
      down_gemv: (c) => Math.min(Number(c.E), Number(c.N) * Number(c.topk)) * Number(c.dim) * Number(c.inter) * el(c),
    },
  },
  {
    kernel: 'moe.combine',
    shape: { name: 'decode N=1 top-8 dim=7168 + shared', config: { N: 1, E: 256, topk: 8, dim: 7168, shared: true } },
    // Expert outputs of this token, not weights.
    streamed: [],
  },
];

export type Verdict = 'yes' | 'no' | 'n.a.';

export interface DispatchRow {
  kernel: string;
  shape: string;
  /** Stage (if the kernel has stages) and entry point. */
  dispatch: string;
  grid: [number, number, number];
  workgroups: number;
  threads: number | null;
  workgroupBytes: number | null;
  /** Bytes of the cache or weights one workgroup streams; null for a dispatch that streams neither. */
  streamedPerWorkgroup: number | null;
  rule: Verdict;
}

const entryOf = (d: DispatchGeometry) => d.pipeline.slice(d.pipeline.lastIndexOf(':') + 1);

/** The rule for one dispatch of `run` at its config: what it streams per workgroup, and whether it fills a GPU. */
export function judge(run: GeometryRun, config: Config, cost: Cost, d: DispatchGeometry): Pick<DispatchRow, 'streamedPerWorkgroup' | 'rule'> {
  const entry = entryOf(d);
  if (!d.reads) throw new Error(`${run.kernel} ${d.pipeline}: its read bindings are unknown`);
  const bound = run.streamed.filter((b) => b in d.reads!);
  if (bound.length === 0) return { streamedPerWorkgroup: null, rule: 'n.a.' };
  const model = run.bytes?.[entry];
  const bytes = model ? model(config, cost) : bound.reduce((a, b) => a + d.reads![b]!, 0);
  if (!Number.isFinite(bytes)) throw new Error(`${run.kernel} ${entry}: no byte count for what it streams`);
  if (bytes === 0) return { streamedPerWorkgroup: null, rule: 'n.a.' };
  const shared = run.sharedBy?.[entry]?.(config) ?? 1;
  // Blocks that share rows tile the grid: a count that does not divide it is not this kernel's layout any more.
  if (d.workgroups % shared !== 0) throw new Error(`${run.kernel} ${entry}: ${d.workgroups} workgroups are not ${shared} blocks sharing rows`);
  const perWorkgroup = d.workgroups > 0 ? (bytes * shared) / d.workgroups : Infinity;
  return { streamedPerWorkgroup: perWorkgroup, rule: d.workgroups >= FILL_WORKGROUPS || perWorkgroup <= FILL_BYTES_PER_WORKGROUP ? 'yes' : 'no' };
}

/**
 * One run's dispatches: the instance is created and encoded once; nothing runs unless a grid is indirect, and
 * then only the passes before the first indirect one, with the inputs uploaded for them.
 */
export async function runGeometry(ctx: GpuContext, def: AnyKernel, run: GeometryRun, seed = 1): Promise<DispatchRow[]> {
  const config = withDefaults(def, run.shape.config);
  const instance = await createInstance(ctx, def, config);
  try {
    const g = await recordGeometry(ctx, instance, {
      bindings: true,
      prefix: true,
      beforeRun: () => uploadInputs(ctx, instance, def.inputs(config), makeInputs(def, config, createRng(seed))),
    });
    const cost = def.cost(config);
    return g.map((d) => ({
      kernel: def.id,
      shape: run.shape.name,
      dispatch: d.stage && d.stage !== entryOf(d) ? `${d.stage}: ${entryOf(d)}` : entryOf(d),
      grid: d.grid,
      workgroups: d.workgroups,
      threads: d.threads,
      workgroupBytes: d.workgroupBytes,
      ...judge(run, config, cost, d),
    }));
  } finally {
    instance.destroy();
  }
}

const kib = (b: number | null) => (b === null ? null : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`);

export function geometryDigest(rows: readonly DispatchRow[], refused: readonly { kernel: string; shape: string; message: string }[] = []): StudyDigest {
  const failing = rows.filter((r) => r.rule === 'no');
  const scaled = DECODE_GEOMETRY_RUNS.filter((r) => r.scaled && rows.some((x) => x.kernel === r.kernel && x.shape === r.shape.name));
  return {
    id: 'decode-geometry',
    title: `dispatch geometry at V3.2-scale decode shapes; rule: a dispatch streaming the KV cache or weights launches >= ${FILL_WORKGROUPS} workgroups or streams <= ${FILL_BYTES_PER_WORKGROUP / 1024} KiB of them per workgroup`,
    columns: ['kernel', 'shape', 'dispatch', 'workgroups (x·y·z)', 'threads/wg', 'wg memory B', 'streamed / wg', 'rule met'],
    rows: rows.map((r) => [r.kernel, r.shape, r.dispatch, `${r.workgroups} (${r.grid.join('·')})`, r.threads, r.workgroupBytes, kib(r.streamedPerWorkgroup), r.rule]),
    notes: [
      failing.length
        ? `${failing.length} streaming dispatch(es) fail the rule: ${failing.map((r) => `${r.kernel} ${r.shape} ${r.dispatch} (${r.workgroups} workgroups, ${kib(r.streamedPerWorkgroup)} each)`).join('; ')}`
        : `every streaming dispatch meets the rule (${rows.filter((r) => r.rule === 'yes').length} of ${rows.length} dispatches stream the cache or weights)`,
      ...scaled.map((r) => `${r.kernel} ${r.shape.name}: scaled, ${r.scaled}`),
      ...refused.map((r) => `${r.kernel} ${r.shape}: not recorded: ${r.message}`),
      'streamed / wg: the cache or weight bytes the dispatch reads by the algorithm (its window, top-k rows, routed experts) over its workgroups, times the workgroups that read each row where head blocks share latent rows; n.a.: the dispatch streams neither (merges, selection, routing tables)',
    ],
  };
}

export const decodeGeometry: Study = {
  id: 'decode-geometry',
  question: `Dispatch geometry of every decode kernel at V3.2-scale shapes (S = 32K, 128 heads, V3 MoE dims): does each cache- or weight-streaming dispatch launch >= ${FILL_WORKGROUPS} workgroups or stream <= 64 KiB per workgroup? (untimed)`,
  repeats: 1,
  warmup: 0,
  jobs: (registry) => DECODE_GEOMETRY_RUNS.map((r) => ({ def: requireKernel(registry, r.kernel, 'decode-geometry'), shape: r.shape })),
  async measure(ctx, registry, onRun) {
    const rows: DispatchRow[] = [];
    const refused: { kernel: string; shape: string; message: string }[] = [];
    for (const run of DECODE_GEOMETRY_RUNS) {
      const def = requireKernel(registry, run.kernel, 'decode-geometry');
      onRun?.(`${run.kernel} ${run.shape.name}`);
      try {
        rows.push(...(await runGeometry(ctx, def, run)));
      } catch (e) {
        ctx.assertAlive();
        refused.push({ kernel: run.kernel, shape: run.shape.name, message: (e as Error).message });
      }
    }
    return geometryDigest(rows, refused);
  },
  // The answer is the geometry recorded when the study ran: a result file keeps it as written.
  digest: (file) => file.studies?.find((s) => s.id === 'decode-geometry'),
};
