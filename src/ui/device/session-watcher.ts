// Re-render a component whenever its GPU session changes state (ready, lost, re-initialised). A Lit
// reactive controller, so each component only writes `new SessionWatcher(this)`: it follows the host's
// `session` property even when that is set after connecting, and unsubscribes on disconnect.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { GpuSession } from './gpu-session.ts';

export class SessionWatcher implements ReactiveController {
  #watched: GpuSession | undefined;
  readonly #host: ReactiveControllerHost & { session?: GpuSession };

  constructor(host: ReactiveControllerHost & { session?: GpuSession }) {
    this.#host = host;
    host.addController(this);
  }

  #onChange = () => this.#host.requestUpdate();

  #follow(session: GpuSession | undefined) {
    if (session === this.#watched) return;
    this.#watched?.removeEventListener('change', this.#onChange);
    session?.addEventListener('change', this.#onChange);
    this.#watched = session;
  }

  hostConnected() {
    this.#follow(this.#host.session);
  }

  /** Before each update: picks up a session handed in as a property after connecting. */
  hostUpdate() {
    // Not after disconnecting: a late update must not subscribe again.
    if ((this.#host as unknown as Element).isConnected) this.#follow(this.#host.session);
  }

  hostDisconnected() {
    this.#follow(undefined);
  }
}
