// <kl-memory-explorer>: the KV cache of a real model per cache layout — the formula, bytes per token, total
// at a context and batch, the ratio to MHA, a log-scale chart of bytes vs context — and, on a GPU, the bytes
// this project's kernels actually allocate for each layout beside the formula. The formulas need no GPU:
// this part works without WebGPU.
import { LitElement, html, css, nothing } from 'lit';
import { describeAdapter } from '../../gpu/context.ts';
import { describeError } from '../../gpu/errors.ts';
import { CACHE_DTYPES, CACHE_DTYPE_BYTES, modelCacheRows, type CacheDType } from '../../memory/kv-cache.ts';
import { measureModelCaches, type MeasuredCache, type StorageDType } from '../../memory/measured.ts';
import { bytes, describeModel, int, mlaHeadline, paperExplanation } from '../../memory/report.ts';
import { MODEL_PRESETS, findPreset, type ModelPreset } from '../../models/presets.ts';
import { sharedStyles } from '../shell/shared-styles.ts';
import type { GpuSession } from '../device/gpu-session.ts';
import type { ChartSpec } from '../charts/line-chart.ts';
import { kvBytesSeries } from './kv-series.ts';
import '../charts/line-chart.ts';
import { SessionWatcher } from '../device/session-watcher.ts';

const DEFAULTS = { model: 'deepseek-v3', cache: 'bf16' as CacheDType, context: 131072, batch: 1 };
const MAX_MEASURE_TOKENS = 1024;

/** bf16 has f16's size (the kernels' 16-bit storage); fp8 has no kernel storage here. */
function storageFor(dtype: CacheDType): StorageDType | undefined {
  return dtype === 'f32' ? 'f32' : dtype === 'fp8' ? undefined : 'f16';
}

export class MemoryExplorer extends LitElement {
  static override properties = {
    session: { attribute: false },
    model: { state: true },
    cache: { state: true },
    context: { state: true },
    batch: { state: true },
    buildKernels: { state: true },
    measured: { state: true },
    measuring: { state: true },
    error: { state: true },
  };
  declare session: GpuSession | undefined;
  declare model: string;
  declare cache: CacheDType;
  declare context: number;
  declare batch: number;
  declare buildKernels: boolean;
  declare measured: { adapter: string; results: MeasuredCache[]; notes: string[] } | undefined;
  declare measuring: boolean;
  declare error: string;

  constructor() {
    super();
    this.model = DEFAULTS.model;
    this.cache = DEFAULTS.cache;
    this.context = DEFAULTS.context;
    this.batch = DEFAULTS.batch;
    this.buildKernels = false;
    this.measuring = false;
    this.error = '';
  }

  // Re-render when the GPU session changes state.
  protected readonly sessionWatcher = new SessionWatcher(this);

  applyParams(p: URLSearchParams) {
    const model = p.get('model');
    if (model) this.model = model;
    const cache = p.get('cache');
    if (cache) this.cache = cache as CacheDType;
    const context = p.get('context');
    if (context) this.context = Number(context);
    const batch = p.get('batch');
    if (batch) this.batch = Number(batch);
  }

  writeParams(p: URLSearchParams) {
    if (this.model !== DEFAULTS.model) p.set('model', this.model);
    if (this.cache !== DEFAULTS.cache) p.set('cache', this.cache);
    if (this.context !== DEFAULTS.context) p.set('context', String(this.context));
    if (this.batch !== DEFAULTS.batch) p.set('batch', String(this.batch));
  }

  #changed() {
    this.measured = undefined;
    this.dispatchEvent(new Event('settings-change', { bubbles: true, composed: true }));
  }

  #issues(): Record<string, string> {
    const out: Record<string, string> = {};
    if (!findPreset(this.model)) out.model = `unknown model ${JSON.stringify(this.model)} (one of ${MODEL_PRESETS.map((p) => p.id).join(', ')})`;
    if (!CACHE_DTYPES.includes(this.cache)) out.cache = `must be one of ${CACHE_DTYPES.join(', ')}, got ${JSON.stringify(this.cache)}`;
    const intIssue = (v: number, max: number) =>
      !Number.isInteger(v) ? `must be an integer, got ${String(v)}` : v < 1 ? `${v} is below the minimum 1` : v > max ? `${v} is above the maximum ${max}` : undefined;
    const ci = intIssue(this.context, 1 << 24);
    if (ci) out.context = ci;
    const bi = intIssue(this.batch, 1 << 20);
    if (bi) out.batch = bi;
    return out;
  }

  async #measure(preset: ModelPreset) {
    const session = this.session;
    const storage = storageFor(this.cache);
    if (!session || !storage) return;
    this.measuring = true;
    this.error = '';
    try {
      this.measured = await session.exclusive('measuring KV-cache allocations', async () => {
        const ctx = session.requireCtx();
        const a = preset.arch;
        const notes: string[] = [];
        if (this.cache === 'bf16') notes.push("bf16 is measured as this project's f16 storage: the same 2 bytes per element.");
        // The largest per-token buffer among the layouts: MHA's k (or v), or the naive MLA's expanded K/V.
        const perToken = Math.max(a.heads * a.headDim * (storage === 'f32' ? 4 : 2), a.mla ? a.heads * (a.mla.qkNopeHeadDim + a.mla.vHeadDim) * 4 : 0);
        const fit = Math.floor(Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize) / perToken);
        const tokens = Math.max(1, Math.min(MAX_MEASURE_TOKENS, this.context, fit));
        if (tokens < Math.min(MAX_MEASURE_TOKENS, this.context)) notes.push(`scaled to ${int(tokens)} tokens (the most one storage binding of this device holds)`);
        if (a.slidingWindow) notes.push('sliding window: the attention kernels here keep all S keys and mask, so the window row is formula only.');
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

  #chart(preset: ModelPreset): ChartSpec {
    const s = kvBytesSeries(preset, this.cache, this.batch, this.context);
    return {
      xs: s.xs,
      series: s.series.map((x) => ({ label: `${x.label}${x.native ? ' ★' : ''}`, values: x.values, dash: !x.native })),
      xLabel: 'context (tokens)',
      yLabel: 'KV cache',
      logX: true,
      logY: true,
      logBaseY: 2,
      formatX: (x) => (x >= 1 << 20 ? `${x / (1 << 20)}M` : x >= 1024 ? `${x / 1024}K` : String(x)),
      formatY: (y) => bytes(y),
    };
  }

  #control(name: string, label: string, issue: string | undefined, control: unknown) {
    return html`<div class="field">
      <label for="m-${name}">${label}</label>
      ${control} ${issue ? html`<span class="small error" role="alert">${issue}</span>` : nothing}
    </div>`;
  }

  override render() {
    const issues = this.#issues();
    const preset = findPreset(this.model);
    const numberInput = (name: 'context' | 'batch', max: number) =>
      html`<input
        id="m-${name}"
        type="number"
        min="1"
        max=${max}
        step="1"
        .value=${Number.isFinite(this[name]) ? String(this[name]) : ''}
        aria-invalid=${issues[name] ? 'true' : 'false'}
        @input=${(e: Event) => {
          const raw = (e.target as HTMLInputElement).value;
          this[name] = raw === '' ? NaN : Number(raw);
          this.#changed();
        }}
      />`;
    const controls = html`<div class="controls">
      ${this.#control(
        'model',
        'model',
        issues.model,
        html`<select id="m-model" @change=${(e: Event) => ((this.model = (e.target as HTMLSelectElement).value), this.#changed())}>
          ${MODEL_PRESETS.map((p) => html`<option value=${p.id} ?selected=${p.id === this.model}>${p.name}</option>`)}
        </select>`,
      )}
      ${this.#control(
        'cache',
        'cache element type',
        issues.cache,
        html`<select id="m-cache" @change=${(e: Event) => ((this.cache = (e.target as HTMLSelectElement).value as CacheDType), this.#changed())}>
          ${CACHE_DTYPES.map((d) => html`<option value=${d} ?selected=${d === this.cache}>${d} (${CACHE_DTYPE_BYTES[d]} B)</option>`)}
        </select>`,
      )}
      ${this.#control('context', 'context (tokens)', issues.context, numberInput('context', 1 << 24))}
      ${this.#control('batch', 'batch (sequences)', issues.batch, numberInput('batch', 1 << 20))}
    </div>`;
    if (!preset || Object.keys(issues).length) return controls;
    const rows = modelCacheRows(preset, { dtype: this.cache, context: this.context, batch: this.batch });
    const headline = mlaHeadline(preset, { dtype: this.cache, context: this.context, batch: this.batch });
    const ready = this.session?.state.kind === 'ready';
    const storage = storageFor(this.cache);
    return html`${controls}
      <p class="small muted">${describeModel(preset)} · <a href=${preset.configUrl} target="_blank" rel="noopener noreferrer">config.json</a></p>
      ${headline ? html`<p class="headline" data-memory="headline">${headline}</p>` : nothing}
      <div class="table-wrap">
        <table data-memory="formulas">
          <thead>
            <tr>
              <th>layout</th>
              <th>bytes per token and layer (formula) × layers</th>
              <th class="num">bytes / token</th>
              <th class="num">${int(this.context)} tok × ${this.batch}</th>
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
                  <td class="num">${(r.ratioToMha * 100).toFixed(r.ratioToMha < 0.1 ? 2 : 1)}%</td>
                </tr>
                ${r.groups.length > 1
                  ? r.groups.map(
                      (g) => html`<tr class="group" data-group=${g.name}>
                        <td>+ ${g.name}</td>
                        <td><code>${g.formula} = ${g.substituted}</code> × ${g.layers}</td>
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
      <p class="small muted">★ the cache this model uses; dashed lines in the chart are the layouts it does not use. Totals keep the last w tokens for a sliding window.</p>
      <kl-line-chart .spec=${this.#chart(preset)} .height=${280} label="KV-cache bytes against context length, log scale"></kl-line-chart>
      ${preset.arch.mla
        ? html`<details class="small">
            <summary>Why the DeepSeek-V2 paper says 93.3%</summary>
            <pre>${paperExplanation().join('\n')}</pre>
          </details>`
        : nothing}
      <h4>Measured on this device</h4>
      ${!ready
        ? html`<p class="muted small">Needs WebGPU: the formulas above are analytic; the allocation is read back from the device's buffer tracker.</p>`
        : !storage
          ? html`<p class="muted small">fp8: this project's kernels have no 8-bit storage, so there is nothing to allocate.</p>`
          : html`<div class="row">
              <button ?disabled=${this.measuring} @click=${() => this.#measure(preset)}>Measure allocation on this GPU</button>
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
      .controls {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
        gap: 10px 16px;
        margin-bottom: 8px;
      }
      .field {
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .field label {
        font-weight: 600;
        font-size: 0.9rem;
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
