// <kl-memory-explorer>: the KV cache of a real model per cache layout — the formula, bytes per token (each
// kind of layer and DeepSeek-V3.2's indexer keys on their own rows), total at a context and batch, the ratio
// to MHA drawn as bars on a linear scale, growth with context, sizing against N GPUs — and, on a GPU, the
// bytes this project's kernels actually allocate for each layout beside the formula. Its settings are a
// schema rendered by <kl-kernel-form> (the kernel forms' fields, messages and URL sync). The formulas need
// no GPU: this part works without WebGPU.
import { LitElement, html, css, nothing } from 'lit';
import { describeAdapter } from '../../gpu/context.ts';
import { describeError } from '../../gpu/errors.ts';
import { defaults, type Config } from '../../kernels/contract.ts';
import { DSA_INDEXER_SOURCE, FLASHMLA_FP8_SOURCE, MLA_LATENT_SOURCE, modelCacheRows, type CacheDType, type GroupSize, type ModelCacheRow } from '../../memory/kv-cache.ts';
import { fitTokens, measureModelCaches, type MeasuredCache, type StorageDType } from '../../memory/measured.ts';
import { bytes, describeModel, int, mlaHeadline, paperExplanation } from '../../memory/report.ts';
import { findPreset, type ModelPreset } from '../../models/presets.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import type { ConfigChange } from '../forms/kernel-form.ts';
import { configFromParams, configToParams } from '../forms/url-config.ts';
import { kvBytesSeries } from './kv-series.ts';
import { MEMORY_FORM, MEMORY_SCHEMA, sizingQuery, type MemorySettings } from './memory-settings.ts';
import '../charts/line-chart.ts';
import '../forms/kernel-form.ts';
import './memory-sizing.ts';
import { SessionWatcher } from '../device/session-watcher.ts';

const MAX_MEASURE_TOKENS = 1024;
const SCHEMA = { schema: MEMORY_SCHEMA };

/** bf16 has f16's size (the kernels' 16-bit storage); fp8 has no kernel storage here. */
function storageFor(dtype: CacheDType): StorageDType | undefined {
  return dtype === 'f32' ? 'f32' : dtype === 'fp8' ? undefined : 'f16';
}

function pct(r: number): string {
  return `${(r * 100).toFixed(r < 0.1 ? 2 : 1)}%`;
}

export class MemoryExplorer extends LitElement {
  static override properties = {
    session: { attribute: false },
    config: { state: true },
    buildKernels: { state: true },
    measured: { state: true },
    measuring: { state: true },
    error: { state: true },
  };
  declare session: GpuSession | undefined;
  declare config: Config;
  declare buildKernels: boolean;
  declare measured: { adapter: string; results: MeasuredCache[]; notes: string[] } | undefined;
  declare measuring: boolean;
  declare error: string;

  constructor() {
    super();
    this.config = defaults(MEMORY_SCHEMA);
    this.buildKernels = false;
    this.measuring = false;
    this.error = '';
  }

  // Re-render when the GPU session changes state.
  protected readonly sessionWatcher = new SessionWatcher(this);

  applyParams(p: URLSearchParams) {
    this.config = configFromParams(SCHEMA, p);
    this.measured = undefined;
  }

  writeParams(p: URLSearchParams) {
    configToParams(SCHEMA, this.config, p);
  }

  /** Show a model the page's preset picker chose (ignored for ids that are not model presets). */
  usePreset(id: string) {
    if (!findPreset(id) || this.config.model === id) return;
    this.config = { ...this.config, model: id, record: 'latent' };
    this.#changed();
  }

  #changed() {
    this.measured = undefined;
    this.dispatchEvent(new Event('settings-change', { bubbles: true, composed: true }));
  }

  async #measure(preset: ModelPreset, cache: CacheDType) {
    const session = this.session;
    const storage = storageFor(cache);
    if (!session || !storage) return;
    this.measuring = true;
    this.error = '';
    try {
      this.measured = await session.exclusive('measuring KV-cache allocations', async () => {
        const ctx = session.requireCtx();
        const a = preset.arch;
        const notes: string[] = [];
        if (cache === 'bf16') notes.push("bf16 is measured as this project's f16 storage: the same 2 bytes per element.");
        const context = Number(this.config.context);
        const tokens = Math.min(MAX_MEASURE_TOKENS, context, fitTokens(preset, storage, ctx.limits));
        if (tokens < Math.min(MAX_MEASURE_TOKENS, context)) notes.push(`scaled to ${int(tokens)} tokens (the most one storage binding of this device holds)`);
        if (a.slidingWindow) notes.push('windowed layers: the attention kernels here keep all S keys and mask, so the window rows are formula only.');
        if (a.dsa) notes.push('DSA: the FP8 record and the indexer keys have no 8-bit storage here; they are formula only.');
        if (storage === 'f16' && !ctx.features.f16) notes.push('this adapter has no shader-f16: the cache tensors are allocated, the f16 kernels not built.');
        const results = await measureModelCaches(ctx, preset, { tokens, storage, createInstances: this.buildKernels });
        return { adapter: describeAdapter(ctx.adapter), results, notes };
      });
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.measuring = false;
    }
  }

  #chart(preset: ModelPreset, s: MemorySettings): ChartSpec {
    const k = kvBytesSeries(preset, s.cache, s.batch, s.context, s.record);
    return {
      xs: k.xs,
      series: k.series.map((x) => ({ label: `${x.label}${x.native ? ' ★' : ''}`, values: x.values, dash: !x.native })),
      xLabel: 'context (tokens)',
      yLabel: 'KV cache',
      logX: true,
      logY: true,
      logBaseY: 2,
      formatX: (x) => (x >= 1 << 20 ? `${x / (1 << 20)}M` : x >= 1024 ? `${x / 1024}K` : String(x)),
      formatY: (y) => bytes(y),
    };
  }

  /** Each layout's total as a bar on a linear scale against MHA's, so a 57x gap looks like one. */
  #bars(rows: ModelCacheRow[], s: MemorySettings) {
    const max = Math.max(...rows.map((r) => r.totalBytes));
    const mha = rows[0]!;
    return html`<div class="bars" data-memory="bars" role="list" aria-label="KV cache per layout at ${int(s.context)} tokens, linear scale">
      ${rows.map((r) => {
        const width = (r.totalBytes / max) * 100;
        const vs = r === mha ? 'the baseline' : r.ratioToMha < 1 ? `${pct(r.ratioToMha)} of MHA, ${(1 / r.ratioToMha).toFixed(r.ratioToMha > 0.1 ? 1 : 0)}x smaller` : `${pct(r.ratioToMha)} of MHA`;
        // An SVG rect's width is an attribute, not a style: the site's CSP (style-src 'self') refuses inline styles.
        return html`<div class="bar-row ${r.native ? 'native' : ''}" role="listitem" data-bar=${r.name}>
          <span class="bar-label">${r.native ? '★ ' : ''}${r.name}</span>
          <svg class="bar-track" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true"><rect class="bar" width=${Math.max(width, 0.2)} height="1" data-width=${width}></rect></svg>
          <span class="bar-value small">${bytes(r.totalBytes)} · ${vs}</span>
        </div>`;
      })}
    </div>`;
  }

  /** DeepSeek-V3.2's three per-token figures, each with its formula and where the format is defined. */
  #dsa(preset: ModelPreset, rows: ModelCacheRow[], s: MemorySettings) {
    if (!preset.arch.dsa) return nothing;
    const groups = rows.flatMap((r) => r.groups);
    const item = (label: string, g: GroupSize, source: string) =>
      html`<li data-dsa=${g.layout.kind}>
        <strong>${label}</strong>: <code>${g.formula} = ${g.substituted}</code> = ${int(g.bytesPerTokenPerLayer)} B per layer, × ${g.layers} =
        <strong>${int(g.bytesPerTokenPerLayer * g.layers)} B per token</strong>, ${bytes(g.totalBytes)} at ${int(s.context)} tokens × ${s.batch}
        <div class="small muted">source: ${source}</div>
      </li>`;
    const find = (kind: string) => groups.find((g) => g.layout.kind === kind)!;
    return html`<h4>What ${preset.name} caches per token</h4>
      <ul class="dsa" data-memory="dsa">
        ${item(`MLA latent (${s.cache})`, find('mla'), MLA_LATENT_SOURCE)} ${item('MLA as FlashMLA FP8 record', find('mla-fp8'), FLASHMLA_FP8_SOURCE)}
        ${item('DSA indexer key (FP8 + scale)', find('indexer'), DSA_INDEXER_SOURCE)}
      </ul>
      <p class="small muted">Both V3.2 rows of the table count the indexer keys; the MLA record setting chooses which one is ★.</p>`;
  }

  override render() {
    const form = html`<kl-kernel-form
      .form=${MEMORY_FORM}
      .config=${this.config}
      @config-change=${(e: CustomEvent<ConfigChange>) => {
        e.stopPropagation();
        this.config = e.detail.config;
        this.#changed();
      }}
    ></kl-kernel-form>`;
    if (MEMORY_FORM.validate(this.config).length) return form;
    const s = this.config as MemorySettings;
    const preset = findPreset(s.model)!;
    const q = sizingQuery(this.config);
    const rows = modelCacheRows(preset, q, s.record);
    const headline = mlaHeadline(preset, q);
    const ready = this.session?.state.kind === 'ready';
    const storage = storageFor(s.cache);
    return html`${form}
      <p class="small muted">${describeModel(preset)} · <a href=${preset.configUrl} target="_blank" rel="noopener noreferrer">config.json</a></p>
      ${headline ? html`<p class="headline" data-memory="headline">${headline}</p>` : nothing}
      <div class="table-wrap">
        <table data-memory="formulas">
          <thead>
            <tr>
              <th>layout</th>
              <th>bytes per token and layer (formula) × layers</th>
              <th class="num">bytes / token</th>
              <th class="num">${int(s.context)} tok × ${s.batch}</th>
              <th class="num">vs MHA</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (r) => html`<tr class=${r.native ? 'native' : ''}>
                  <td>${r.native ? '★ ' : ''}${r.name}${r.note ? html`<div class="small muted">${r.note}</div>` : nothing}</td>
                  <td>${r.groups.length === 1 ? html`<code>${r.groups[0]!.formula} = ${r.groups[0]!.substituted}</code> × ${r.layers}` : `sum of the ${r.groups.length} below`}</td>
                  <td class="num">${int(r.bytesPerToken)}</td>
                  <td class="num">${bytes(r.totalBytes)}</td>
                  <td class="num">${pct(r.ratioToMha)}</td>
                </tr>
                ${r.groups.length > 1
                  ? r.groups.map(
                      (g) => html`<tr class="group" data-group=${g.name}>
                        <td>+ ${g.name}</td>
                        <td><code>${g.formula} = ${g.substituted}</code> × ${g.layers}${g.window ? `, last ${int(g.tokensKept)} tokens` : ''}</td>
                        <td class="num">${int(g.bytesPerTokenPerLayer * g.layers)}</td>
                        <td class="num">${bytes(g.totalBytes)}</td>
                        <td class="num"></td>
                      </tr>`,
                    )
                  : nothing}`,
            )}
          </tbody>
        </table>
      </div>
      <p class="small muted">★ the cache this model uses; rows with several parts count each kind of layer (or each cached tensor) separately. Windowed layers keep the last w tokens.</p>
      ${this.#dsa(preset, rows, s)}
      <h4>At ${int(s.context)} tokens × ${s.batch}, to scale</h4>
      ${this.#bars(rows, s)}
      <h4>Growth with context</h4>
      <p class="small muted">Log scales: a constant ratio between two layouts is a constant gap, so MLA and MHA run parallel; the bars above show the ratio itself.</p>
      <kl-line-chart .spec=${this.#chart(preset, s)} .height=${260} label="KV-cache bytes against context length, log scale"></kl-line-chart>
      ${preset.arch.mla
        ? html`<details class="small">
            <summary>Why the DeepSeek-V2 paper says 93.3%</summary>
            <pre>${paperExplanation().join('\n')}</pre>
          </details>`
        : nothing}
      <h4>Sizing: ${q.gpus} × ${q.gpuGiB} GiB, ${q.weights} weights</h4>
      <kl-memory-sizing .preset=${preset} .query=${q}></kl-memory-sizing>
      <h4>Measured on this device</h4>
      ${!ready
        ? html`<p class="muted small">Needs WebGPU: the formulas above are analytic; the allocation is read back from the device's buffer tracker.</p>`
        : !storage
          ? html`<p class="muted small">fp8: this project's kernels have no 8-bit storage, so there is nothing to allocate.</p>`
          : html`<div class="row">
              <button ?disabled=${this.measuring} @click=${() => this.#measure(preset, s.cache)}>Measure allocation on this GPU</button>
              <label class="small"
                ><input type="checkbox" .checked=${this.buildKernels} @change=${(e: Event) => (this.buildKernels = (e.target as HTMLInputElement).checked)} /> also build the
                kernels (compiles their shaders)</label
              >
            </div>`}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.measured ? this.#measuredTable(this.measured) : nothing}`;
  }

  #measuredTable(m: NonNullable<MemoryExplorer['measured']>) {
    const r0 = m.results[0];
    return html`<p class="small muted">
        ${m.adapter}: one layer${r0 ? `, ${int(r0.tokens)} tokens, ${r0.storage} storage` : ''}; bytes read back from the buffer tracker (live bytes before and after).
      </p>
      <div class="table-wrap">
        <table data-memory="measured">
          <thead>
            <tr>
              <th>layout</th>
              <th>kernel</th>
              <th>cache tensors</th>
              <th class="num">formula B</th>
              <th class="num">allocated B</th>
              <th>equal</th>
              <th>whole instance</th>
            </tr>
          </thead>
          <tbody>
            ${m.results.map(
              (r) => html`<tr>
                <td>${r.name}</td>
                <td><code>${r.kernel}</code></td>
                <td>${r.cacheTensors.join(' + ')}</td>
                <td class="num">${int(r.formulaBytes)}</td>
                <td class="num">${int(r.allocatedBytes)}</td>
                <td>${r.allocatedBytes === r.formulaBytes ? html`<span class="badge ok">yes</span>` : html`<span class="badge bad">no</span>`}</td>
                <td>${r.instance ? `${bytes(r.instance.liveBytes)} (cache ${int(r.instance.cacheBuffersBytes)} B)` : 'not built'}${r.note ? html`<div class="small muted">${r.note}</div>` : nothing}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${m.notes.map((n) => html`<p class="small muted">${n}</p>`)}`;
  }

  static override styles = [
    sharedStyles,
    css`
      .bars {
        display: flex;
        flex-direction: column;
        gap: 4px;
        margin: 6px 0 12px;
      }
      .bar-row {
        display: grid;
        grid-template-columns: minmax(120px, 2fr) minmax(80px, 3fr) minmax(120px, 2fr);
        gap: 8px;
        align-items: center;
      }
      .bar-row.native .bar-label {
        font-weight: 600;
      }
      .bar-track {
        background: var(--kl-surface-2, rgba(127, 127, 127, 0.12));
        width: 100%;
        height: 14px;
        border-radius: 3px;
      }
      .bar {
        fill: var(--kl-accent, #3366cc);
      }
      .dsa li {
        margin-bottom: 6px;
      }
      .headline {
        font-weight: 600;
      }
      tr.native td {
        font-weight: 600;
      }
      pre {
        white-space: pre-wrap;
        font-family: var(--kl-mono);
        font-size: 0.8rem;
      }
      h4 {
        margin-top: 16px;
      }
    `,
  ];
}

customElements.define('kl-memory-explorer', MemoryExplorer);

declare global {
  interface HTMLElementTagNameMap {
    'kl-memory-explorer': MemoryExplorer;
  }
}
