/**
 * calico/node's `allocate-tunnel-addrs` as a long-running loop (the chart's `tunnel-addrs`
 * container): the node's VXLAN tunnel addresses follow the IP pools after start-up, so a VXLAN
 * pool created, disabled, re-selected or deleted while the node runs gives the node a VTEP
 * address (or takes it back) without a restart.
 *
 *   IPPool watch ──event──▶ reconcile (debounced, one at a time) ◀── every resyncMs (Node labels,
 *                                   │                                  a handle released by hand)
 *                       reconcileTunnelAddresses (startup.ts): keep / reallocate / release
 *
 * The watch covers only the IPPool kind (few objects, rarely changed); the Node's labels (a
 * pool's nodeSelector) and the IPAM handle are re-read on the resync interval instead of
 * watched, because a watch of every Node by every node would cost the API server far more
 * (Calico feeds this from a Typha syncer, which Cattail does not have for it). A failed pass is
 * retried with backoff; a compacted or broken watch is re-established from a fresh list.
 */
import { listPrefix } from '@cattail/api';
import type { Datastore, WatchHandle } from '@cattail/datastore';
import { reconcileTunnelAddresses, type StartupLogger } from './startup.js';

export interface TunnelControllerOptions {
  ds: Datastore;
  nodeName: string;
  log: StartupLogger;
  /** Re-check without an event this often (default 5 min). */
  resyncMs?: number;
  /** Events closer than this are one pass (default 200 ms). */
  debounceMs?: number;
  /** After each pass, for tests and status. */
  onPass?: (result: { v4?: string; v6?: string } | Error) => void;
}

export class TunnelAddressController {
  readonly #o: Required<Omit<TunnelControllerOptions, 'onPass'>> & Pick<TunnelControllerOptions, 'onPass'>;
  #watch: WatchHandle | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #again = false;
  #stopped = false;
  #failures = 0;
  #idle: Promise<void> = Promise.resolve();

  constructor(o: TunnelControllerOptions) {
    this.#o = { resyncMs: 300_000, debounceMs: 200, ...o };
  }

  /** The first pass (its result), then the watch and the resync timer. */
  async start(): Promise<{ v4?: string; v6?: string }> {
    const first = await reconcileTunnelAddresses(this.#o.ds, this.#o.nodeName, this.#o.log);
    this.#o.onPass?.(first);
    await this.#startWatch();
    return first;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.close();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#idle;
  }

  async #startWatch(): Promise<void> {
    if (this.#stopped) return;
    const prefix = listPrefix('IPPool');
    let revision: number;
    try {
      revision = (await this.#o.ds.listPrefix(prefix)).revision;
    } catch (err) {
      this.#o.log.warn('listing IP pools failed; retrying', { error: (err as Error).message });
      this.#schedule(this.#backoff());
      return;
    }
    this.#watch = this.#o.ds.watchPrefix(prefix, revision + 1, {
      onEvents: () => this.#schedule(this.#o.debounceMs),
      onError: (err) => {
        this.#o.log.warn('IP pool watch ended; listing again', { error: err.message });
        this.#watch = undefined;
        // Something may have changed while the watch was down.
        this.#schedule(0);
        setTimeout(() => void this.#startWatch(), this.#backoff()).unref();
      },
    });
    // Changes between the first pass and the watch's start.
    this.#schedule(0);
  }

  #backoff(): number {
    return Math.min(30_000, 500 * 2 ** Math.min(this.#failures, 6));
  }

  /** The next pass in `ms` (sooner wins); the resync timer otherwise. */
  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#pass(), ms);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (this.#stopped) return;
    this.#running = true;
    this.#again = false;
    let done!: () => void;
    this.#idle = new Promise((r) => (done = r));
    try {
      const r = await reconcileTunnelAddresses(this.#o.ds, this.#o.nodeName, this.#o.log);
      this.#failures = 0;
      this.#o.onPass?.(r);
    } catch (err) {
      this.#failures++;
      this.#o.log.warn('tunnel address pass failed; retrying', { error: (err as Error).message, attempt: this.#failures });
      this.#o.onPass?.(err as Error);
    } finally {
      this.#running = false;
      done();
    }
    if (this.#stopped) return;
    this.#schedule(this.#again ? this.#o.debounceMs : this.#failures > 0 ? this.#backoff() : this.#o.resyncMs);
  }
}
