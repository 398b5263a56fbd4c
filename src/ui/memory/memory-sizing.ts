// <kl-memory-sizing>: will a model fit? Weights (parameters x bytes per parameter) + the KV cache of each
// cache layout (DeepSeek-V3.2's rows with the indexer keys) against N GPUs of G GiB, and the largest batch at
// the context and the largest context at the batch that fit beside the weights. Analytic: no GPU needed.
import { LitElement, html, css, nothing } from 'lit';
import { bytes, int } from '../../memory/report.ts';
import { sizeDeployment, type SizingQuery } from '../../memory/sizing.ts';
import { paramCount, WEIGHT_DTYPE_BYTES } from '../../models/params.ts';
import type { ModelPreset } from '../../models/presets.ts';
import { sharedStyles } from '../shell/shared-styles.ts';

function context(n: number): string {
  return n === Infinity ? 'any (every layer windowed)' : n === 0 ? 'none' : int(n);
}

export class MemorySizing extends LitElement {
  static override properties = { preset: { attribute: false }, query: { attribute: false } };
  declare preset: ModelPreset | undefined;
  declare query: SizingQuery | undefined;

  override render() {
    const p = this.preset;
    const q = this.query;
    if (!p || !q) return nothing;
    const s = sizeDeployment(p, q);
    const c = paramCount(p);
    const weightsFit = s.weightsBytes <= s.capacityBytes;
    return html`<p class="small" data-sizing="weights">
        Weights: ${(s.params / 1e9).toFixed(1)}B parameters (embeddings ${(c.embeddings / 1e9).toFixed(1)}B, attention ${(c.attention / 1e9).toFixed(1)}B, FFN
        ${((c.denseFfn + c.moe) / 1e9).toFixed(1)}B) × ${WEIGHT_DTYPE_BYTES[q.weights]} B (${q.weights}) = <strong>${bytes(s.weightsBytes)}</strong> of
        ${q.gpus} × ${q.gpuGiB} GiB = ${bytes(s.capacityBytes)}${weightsFit ? html`, leaving ${bytes(s.capacityBytes - s.weightsBytes)} for the cache.` : html` — <strong class="error">the weights alone do not fit</strong>.`}
      </p>
      <div class="table-wrap">
        <table data-memory="sizing">
          <thead>
            <tr>
              <th>cache layout</th>
              <th class="num">KV cache at ${int(q.context)} tok × ${q.batch}</th>
              <th class="num">weights + cache</th>
              <th>fits</th>
              <th class="num">largest batch at ${int(q.context)} tok</th>
              <th class="num">largest context at batch ${q.batch}</th>
            </tr>
          </thead>
          <tbody>
            ${s.rows.map(
              (r) => html`<tr class=${r.row.native ? 'native' : ''} data-row=${r.row.name}>
                <td>${r.row.native ? '★ ' : ''}${r.row.name}</td>
                <td class="num">${bytes(r.cacheBytes)}</td>
                <td class="num">${bytes(r.totalBytes)}</td>
                <td>${r.fits ? html`<span class="badge ok">yes</span>` : html`<span class="badge bad">no</span>`}</td>
                <td class="num">${int(r.maxBatch)}</td>
                <td class="num">${context(r.maxContext)}${r.maxContext > p.arch.maxPositions ? html`<div class="small muted">model maximum ${int(p.arch.maxPositions)}</div>` : nothing}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <p class="small muted">
        Weights and cache only: activations, workspace and allocator slack need a share of the memory too, and a tensor-parallel split may replicate
        the MLA latent on every GPU.
      </p>`;
  }

  static override styles = [
    sharedStyles,
    css`
      tr.native td {
        font-weight: 600;
      }
    `,
  ];
}

customElements.define('kl-memory-sizing', MemorySizing);

declare global {
  interface HTMLElementTagNameMap {
    'kl-memory-sizing': MemorySizing;
  }
}
