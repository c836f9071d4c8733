/**
 * FelixAgent: the Typha client's callbacks on one side, the calculation graph and a dataplane
 * on the other; it decides nothing about policy, only what reaches whom and when.
 *
 *   SyncClient(felix) ─onStatus/onUpdates─▶ FelixAgent ─▶ CalcGraph ─▶ (ConfigUpdate tap) ─▶ Dataplane
 *
 * While Typha is unreachable nothing reaches the graph, so the dataplane keeps exactly what it
 * has (its own drift refresh re-applies the same desired state). After a reconnect the client
 * delivers only real changes (LocalState), the graph's EventSequencer sends the dataplane only
 * the dataplane objects that changed, and the dataplane applies only the difference from the
 * kernel: an unchanged world costs no command.
 *
 * The merged FelixConfiguration of each ConfigUpdate goes to `onConfig` (the daemon resolves it
 * against env and file, and logs what needs a restart); the copy the dataplane gets passes
 * through `dataplaneConfig`, which lays the env and file values of the dataplane's own settings
 * over it.
 */
import type { ClientCallbacks, ClientStatus, Logger, StatusDetail, SyncerUpdate } from '@cattail/typha/client';
import { silentLogger } from '@cattail/typha/common';
import { CalcGraph } from '../calc/calc-graph.js';
import type { DataplaneMessage, DataplaneSink } from '../proto/messages.js';

export interface FelixAgentOptions {
  nodeName: string;
  dataplane: DataplaneSink;
  onConfig?: (config: Record<string, unknown>) => void;
  /** Rewrites the ConfigUpdate spec on its way to the dataplane (env and file values laid over it). */
  dataplaneConfig?: (config: Record<string, unknown>) => Record<string, unknown>;
  logger?: Logger;
}

export interface FelixAgentStatus {
  node: string;
  typha: { status: ClientStatus | 'idle'; connected: boolean; revision: number; server?: string };
  /** The graph has had a complete snapshot (once true, stays true: the dataplane stays programmed). */
  inSync: boolean;
  /** The client is in sync with Typha right now. */
  currentlyInSync: boolean;
  batches: number;
  messages: number;
  updates: number;
  /** Times a (re)sync with Typha began: each connection's snapshot (Calico's felix_resyncs_started). */
  resyncsStarted: number;
}

export class FelixAgent implements ClientCallbacks<'felix'> {
  readonly #graph: CalcGraph;
  readonly #dataplane: DataplaneSink;
  readonly #onConfig: ((config: Record<string, unknown>) => void) | undefined;
  readonly #dataplaneConfig: ((config: Record<string, unknown>) => Record<string, unknown>) | undefined;
  readonly #nodeName: string;
  readonly #log: Logger;
  #typha: ClientStatus | 'idle' = 'idle';
  #revision = 0;
  #server: string | undefined;
  #inSync = false;
  #batches = 0;
  #messages = 0;
  #updates = 0;
  #resyncs = 0;

  constructor(opts: FelixAgentOptions) {
    this.#nodeName = opts.nodeName;
    this.#dataplane = opts.dataplane;
    this.#onConfig = opts.onConfig;
    this.#dataplaneConfig = opts.dataplaneConfig;
    this.#log = opts.logger ?? silentLogger;
    this.#graph = new CalcGraph(opts.nodeName, { onMessages: (msgs) => this.#deliver(msgs) }, { logger: this.#log });
  }

  onStatus(status: ClientStatus, detail: StatusDetail): void {
    const was = this.#typha;
    this.#typha = status;
    if (status === 'resync' && was !== 'resync') this.#resyncs++;
    this.#revision = detail.revision;
    if (detail.server !== undefined) this.#server = detail.server;
    if (status === 'disconnected' && (was === 'resync' || was === 'in-sync')) {
      this.#log.warn({ endpoint: detail.endpoint, reason: detail.reason, retryInMs: detail.retryInMs }, 'lost Typha; dataplane kept as it is');
    }
    if (status === 'in-sync') {
      if (!this.#inSync) this.#log.info({ revision: detail.revision }, 'in sync with Typha; programming the dataplane');
      this.#inSync = true;
      this.#graph.onInSync();
    }
  }

  onUpdates(updates: SyncerUpdate<'felix'>[], revision: number): void {
    this.#revision = revision;
    this.#updates += updates.length;
    this.#graph.onUpdates(updates);
  }

  get ready(): boolean {
    return this.#inSync;
  }

  status(): FelixAgentStatus {
    return {
      node: this.#nodeName,
      typha: {
        status: this.#typha,
        connected: this.#typha === 'resync' || this.#typha === 'in-sync',
        revision: this.#revision,
        ...(this.#server ? { server: this.#server } : {}),
      },
      inSync: this.#inSync,
      currentlyInSync: this.#typha === 'in-sync',
      batches: this.#batches,
      messages: this.#messages,
      updates: this.#updates,
      resyncsStarted: this.#resyncs,
    };
  }

  #deliver(msgs: DataplaneMessage[]): void {
    this.#batches++;
    this.#messages += msgs.length;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (m.kind !== 'ConfigUpdate') continue;
      this.#onConfig?.(m.config);
      if (this.#dataplaneConfig) msgs[i] = { ...m, config: this.#dataplaneConfig(m.config) };
    }
    this.#dataplane.onMessages(msgs);
  }
}
