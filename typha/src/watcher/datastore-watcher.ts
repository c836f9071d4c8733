/**
 * The ONE upstream watch of a Typha replica: list-then-watch on the `/calico/` prefix, feeding
 * the pipeline through SyncCallbacks<KVUpdate>. (Calico's Typha opens ~20 watches, one per
 * resource type per syncer; we open one and let projection split it.)
 *
 *   wait-for-datastore ─list─▶ resync ─(updates at list revision)─▶ in-sync ─watch rev+1─▶ …
 *        ▲                                                                      │
 *        └──────────── backoff ◀── error ◀─── compacted / watch stopped ◀───────┘
 *
 * Never a gap or a duplicate: the watch starts at the list revision + 1, the etcd client resumes
 * from the last event's revision + 1 across reconnects, and when the watch cannot continue
 * (compaction, a terminal error) we relist and DIFF against the mod revisions we already
 * passed on: only keys whose revision changed are re-sent, and keys that vanished become
 * deletes. Downstream never sees a change twice or misses one.
 *
 * Confirming the revision. The watch only reports revisions of changes under the prefix, while
 * etcd's revision also counts writes elsewhere (replica registrations, Felix status reports). A
 * replica that listed later therefore stands at a higher revision than one that has followed
 * the same data for longer, and a client moving from the first to the second would wait for
 * nothing. `confirmRevision()` reads (keys only) what changed under the prefix since our
 * revision E: if no key is newer than E and there are exactly as many keys as we hold, the
 * content at the store's revision H equals ours at E, and we move to H. Changes inside (E, H)
 * that cancelled out (a key created and deleted again) are still on their way on the watch:
 * they are dropped as already passed, and (E, H) is reported as a resync (status 'resync' at E,
 * 'in-sync' at H), so the cache treats it as a gap it resumes no client from. etcd's own watch
 * progress notification is not used: before 3.4.31/3.5.13 (Debian has 3.4.23) it can report a
 * revision ahead of events still queued for the watch, and trusting it loses those events.
 */
import type { SyncSource, WatchEvent, WatchHandle } from '@cattail/datastore';
import { CompactedError } from '@cattail/datastore';
import { backoffDelay, realDelay, type BackoffPolicy, type DelayFn } from '@cattail/datastore/backoff';
import { CALICO_PREFIX, parseKey } from '@cattail/api';
import type { KVUpdate, SyncCallbacks } from '../pipeline/sync-callbacks.js';
import { silentLogger, type Logger } from '../pipeline/logger.js';

export interface DatastoreWatcherOptions {
  /** The datastore itself (etcd), or the Kubernetes backend's merged stream. */
  datastore: SyncSource;
  sink: SyncCallbacks<KVUpdate>;
  prefix?: string;
  logger?: Logger;
  /** Delay before attempt n of a failed list (ms); the last entry repeats. */
  retryDelaysMs?: readonly number[];
  /** Injected wait, so tests need not sleep. */
  delay?: DelayFn;
}

export interface WatcherStats {
  lists: number;
  relists: number;
  events: number;
  corruptValues: number;
  /** Revisions moved forward by `confirmRevision` (nothing under the prefix had changed). */
  confirmations: number;
  revision: number;
  inSync: boolean;
}

const DEFAULT_RETRY_MS = [100, 500, 1000, 2000, 5000];
const CONFIRM_ATTEMPTS = 5;
const CONFIRM_RETRY_MS = 100;

export class DatastoreWatcher {
  readonly #ds: SyncSource;
  readonly #sink: SyncCallbacks<KVUpdate>;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #retry: BackoffPolicy;
  readonly #delay: DelayFn;
  readonly #abort = new AbortController();
  /** key → mod revision of what downstream holds: the basis of the relist diff. */
  readonly #known = new Map<string, number>();
  #watch: WatchHandle | undefined;
  #revision = 0;
  #inSync = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #probing = false;
  readonly #stats = { lists: 0, relists: 0, events: 0, corruptValues: 0, confirmations: 0 };

  constructor(opts: DatastoreWatcherOptions) {
    this.#ds = opts.datastore;
    this.#sink = opts.sink;
    this.#prefix = opts.prefix ?? CALICO_PREFIX;
    this.#log = opts.logger ?? silentLogger;
    this.#retry = { delaysMs: opts.retryDelaysMs ?? DEFAULT_RETRY_MS, jitter: 0 };
    this.#delay = opts.delay ?? realDelay;
  }

  get revision(): number {
    return this.#revision;
  }

  get inSync(): boolean {
    return this.#inSync;
  }

  stats(): WatcherStats {
    return { ...this.#stats, revision: this.#revision, inSync: this.#inSync };
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /**
   * Moves the revision to the store's when nothing under the prefix changed since ours (see the
   * module comment), for a client waiting for `target`. One probe at a time; while changes are
   * still arriving on the watch it probes again after them, a few times at most. A no-op while
   * not in sync, and when the datastore cannot be probed.
   */
  async confirmRevision(target: number): Promise<void> {
    if (this.#ds.keysChangedSince === undefined || this.#probing) return;
    this.#probing = true;
    try {
      for (let attempt = 0; attempt < CONFIRM_ATTEMPTS && this.#inSync && this.#revision < target; attempt++) {
        if (attempt > 0) await this.#delay(CONFIRM_RETRY_MS, this.#abort.signal);
        const from = this.#revision;
        const p = await this.#ds.keysChangedSince?.(this.#prefix, from);
        if (p === undefined) return;
        // Only if nothing moved meanwhile: events may have arrived, or a relist begun.
        if (!this.#inSync || this.#revision !== from || p.revision <= from) continue;
        if (p.changed > 0 || p.keys !== this.#known.size) continue; // changes on their way
        this.#stats.confirmations++;
        this.#sink.onStatus('resync', from);
        this.#revision = p.revision;
        this.#sink.onUpdates([], p.revision);
        this.#sink.onStatus('in-sync', p.revision);
      }
    } catch (err) {
      this.#log.debug({ err }, 'confirming the revision failed');
    } finally {
      this.#probing = false;
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#watch?.close();
    this.#wake?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    this.#sink.onStatus('wait-for-datastore', this.#revision);
    while (!signal.aborted) {
      try {
        await this.#listAndDiff();
        failures = 0;
        const err = await this.#watchUntilError();
        if (signal.aborted) break;
        if (err instanceof CompactedError) {
          this.#log.warn({ compactRevision: err.compactRevision, revision: this.#revision }, 'watch revision compacted: relisting');
        } else {
          this.#log.warn({ err, revision: this.#revision }, 'datastore watch stopped: relisting');
        }
        this.#inSync = false;
        this.#stats.relists++;
      } catch (err) {
        if (signal.aborted) break;
        const ms = backoffDelay(this.#retry, failures);
        failures++;
        this.#log.warn({ err, retryInMs: ms }, 'listing the datastore failed');
        if (this.#inSync) {
          this.#inSync = false;
          this.#sink.onStatus('wait-for-datastore', this.#revision);
        }
        await this.#delay(ms, signal);
      }
    }
  }

  /** List everything, send only what differs from what downstream holds, then in-sync. */
  async #listAndDiff(): Promise<void> {
    const { entries, revision } = await this.#ds.listPrefix(this.#prefix);
    this.#stats.lists++;
    this.#sink.onStatus('resync', this.#revision);
    const seen = new Set<string>();
    const updates: KVUpdate[] = [];
    for (const e of entries) {
      seen.add(e.key);
      if (this.#known.get(e.key) === e.revision) continue;
      const u = this.#toUpdate(e);
      if (u) updates.push(u);
    }
    for (const key of this.#known.keys()) {
      if (seen.has(key)) continue;
      const u = this.#toUpdate({ type: 'delete', key, revision });
      if (u) updates.push(u);
    }
    // The list revision can be below what we already passed on only if the datastore went
    // back in time (restored from backup); revisions downstream must never go backwards.
    this.#revision = Math.max(this.#revision, revision);
    this.#sink.onUpdates(updates, this.#revision);
    this.#inSync = true;
    this.#sink.onStatus('in-sync', this.#revision);
    this.#watchFrom = revision + 1;
  }

  #watchFrom = 0;

  /**
   * Runs the watch; resolves with the error that ended it. `finish` is scoped to this watch and
   * idempotent: a late error from an old watch must not close its successor.
   */
  #watchUntilError(): Promise<Error> {
    return new Promise<Error>((resolve) => {
      let done = false;
      let handle: WatchHandle | undefined;
      const finish = (err: Error) => {
        if (done) return;
        done = true;
        handle?.close();
        if (this.#watch === handle) this.#watch = undefined;
        if (this.#wake === wake) this.#wake = undefined;
        resolve(err);
      };
      const wake = () => finish(new Error('stopped'));
      if (this.#abort.signal.aborted) return wake();
      this.#wake = wake;
      handle = this.#ds.watchPrefix(this.#prefix, this.#watchFrom, {
        onEvents: (events, revision) => {
          if (!done) this.#onEvents(events, revision);
        },
        onError: finish,
        onStatus: (state) => this.#log.info({ state }, 'datastore watch connection'),
      });
      if (done) handle.close();
      else this.#watch = handle;
    });
  }

  #onEvents(events: WatchEvent[], revision: number): void {
    if (revision <= this.#revision) return; // already passed on (relisted past it)
    const updates: KVUpdate[] = [];
    for (const e of events) {
      if (e.revision <= this.#revision) continue;
      const u = this.#toUpdate(e);
      if (u) updates.push(u);
    }
    this.#stats.events += events.length;
    this.#revision = revision;
    this.#sink.onUpdates(updates, revision);
  }

  #toUpdate(e: WatchEvent): KVUpdate | undefined {
    // Every key under the prefix is known, parsed or not: `confirmRevision` compares counts.
    if (e.type === 'delete') {
      if (!this.#known.delete(e.key)) return undefined;
    } else {
      this.#known.set(e.key, e.revision);
    }
    const parsed = parseKey(e.key);
    if (!parsed) return undefined;
    const u: KVUpdate = { key: e.key, kind: parsed.kind.kind, name: parsed.name, revision: e.revision };
    if (parsed.namespace) u.namespace = parsed.namespace;
    if (e.type === 'put') {
      if (e.resource) u.resource = e.resource;
      else if (e.error) {
        u.error = e.error;
        this.#stats.corruptValues++;
      }
    }
    return u;
  }
}
