// <kl-step-controls>: first / back / play-pause / forward / last and a scrubber over `count` frames. It owns
// only the timer; the frame index lives with the step-through, which hears `frame` events (detail: index).
import { LitElement, html, css } from 'lit';
import { sharedStyles } from '../shell/shared-styles.ts';

/** Milliseconds per frame while playing. */
export const PLAY_INTERVAL_MS = 800;

export class StepControls extends LitElement {
  static override properties = { count: { type: Number }, index: { type: Number }, label: { type: String }, playing: { state: true } };
  declare count: number;
  declare index: number;
  declare label: string;
  declare playing: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.count = 0;
    this.index = 0;
    this.label = 'frame';
    this.playing = false;
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#stop();
  }

  #go(i: number) {
    const next = Math.max(0, Math.min(this.count - 1, i));
    if (next !== this.index) this.dispatchEvent(new CustomEvent<number>('frame', { detail: next, bubbles: true, composed: true }));
  }

  #stop() {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.playing = false;
  }

  #toggle() {
    if (this.playing) return this.#stop();
    // Play from the start when at the end.
    if (this.index >= this.count - 1) this.#go(0);
    this.playing = true;
    this.#timer = setInterval(() => {
      if (this.index >= this.count - 1) this.#stop();
      else this.#go(this.index + 1);
    }, PLAY_INTERVAL_MS);
  }

  override render() {
    const last = this.count - 1;
    return html`<div class="row" role="group" aria-label="${this.label} controls">
      <button data-step="first" ?disabled=${this.index <= 0} @click=${() => this.#go(0)} aria-label="first ${this.label}">First</button>
      <button data-step="back" ?disabled=${this.index <= 0} @click=${() => this.#go(this.index - 1)} aria-label="previous ${this.label}">Back</button>
      <button data-step="play" ?disabled=${this.count < 2} @click=${() => this.#toggle()} aria-label=${this.playing ? 'pause' : 'play'}>${this.playing ? 'Pause' : 'Play'}</button>
      <button data-step="forward" ?disabled=${this.index >= last} @click=${() => this.#go(this.index + 1)} aria-label="next ${this.label}">Next</button>
      <button data-step="last" ?disabled=${this.index >= last} @click=${() => this.#go(last)} aria-label="last ${this.label}">Last</button>
      <input
        type="range"
        min="0"
        max=${Math.max(0, last)}
        .value=${String(this.index)}
        aria-label="scrub ${this.label}s"
        @input=${(e: Event) => this.#go(Number((e.target as HTMLInputElement).value))}
      />
      <span class="small muted" data-step="position">${this.label} ${this.index + 1} of ${this.count}</span>
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      input[type='range'] {
        flex: 1 1 8rem;
      }
    `,
  ];
}

customElements.define('kl-step-controls', StepControls);

declare global {
  interface HTMLElementTagNameMap {
    'kl-step-controls': StepControls;
  }
}
