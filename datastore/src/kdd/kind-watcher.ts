/**
 * Follows one Calico kind on the API server: list, then watch from the list's resourceVersion
 * with bookmarks, and keep following across everything a watch meets.
 *
 *   start ─▶ list (Exact at fromRevision-1, or latest) ─▶ watch ?resourceVersion=R&allowWatchBookmarks
 *                 ▲                                           │ ADDED/MODIFIED/DELETED → sink, R = event's
 *                 │  410 (in-stream ERROR code 410,           │ BOOKMARK → R = bookmark's (nothing to sink)
 *                 │   or HTTP 410): relist, diff against      │ stream ends / connection error / heartbeat
 *                 └── what the sink has, deliver the diff ◀───┘   timeout → re-watch from R (backoff)
 *
 * Guarantee to the sink ("only real changes"): it sees each change once, in the kind's order;
 * after a relist it sees only what differs from what it was told (puts for new or changed
 * objects, synthesised deletes, with `previous`, for vanished ones), never a replay. For that the
 * watcher keeps `known`: key → the resource last delivered. When started from a revision (the
 * `watchPrefix` contract), `known` is read with an exact-revision list at `fromRevision - 1`
 * without delivering it: the caller already has that state. If that revision is gone, the
 * watch ends with CompactedError and the caller relists, as the etcd backend's does.
 *
 * The heartbeat: the API server sends a BOOKMARK on an idle watch about once a minute, so
 * silence for `heartbeatTimeoutMs` (default 90 s) means the connection is dead (half-open), and
 * the watch is destroyed and re-made from R (the client's socket inactivity timer, reset by
 * every chunk).
 */
import type { Resource } from '@cattail/api';
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import type { WatchEvent, WatchHandle, WatchSink } from '../datastore.js';
import { CompactedError } from '../errors.js';
import type { CrdKind } from './crd-codec.js';
import type { KubeDatastore } from './kube-datastore.js';
import type { WatchStream } from './kube-client.js';
import { KubeHttpError } from './kube-client.js';
import { putEvent, toDatastoreError } from './kube-datastore.js';

export interface KindWatcherOptions {
  namespace?: string;
  /** Deliver changes from this revision on (inclusive); without it, list and deliver the list first. */
  fromRevision?: number;
  /** Silence longer than this aborts the watch and re-makes it. Default 90000 (bookmarks come about every 60 s). */
  heartbeatTimeoutMs: number;
  /** Asked of the server per watch request (it ends the stream then; we re-watch). Default 300. */
  timeoutSeconds: number;
  backoff: BackoffPolicy;
  /** Injected for tests. */
  setTimer: (fn: () => void, ms: number) => { unref?(): unknown };
}

const DEFAULTS: KindWatcherOptions = {
  heartbeatTimeoutMs: 90_000,
  timeoutSeconds: 300,
  backoff: { delaysMs: [100, 200, 500, 1000, 2000, 5000], jitter: 0.2 },
  setTimer: (fn, ms) => setTimeout(fn, ms),
};

interface KubeWatchEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; message?: string; metadata?: { resourceVersion?: string } };
}

export class KindWatcher implements WatchHandle {
  readonly #ds: KubeDatastore;
  readonly #k: CrdKind;
  readonly #sink: WatchSink;
  readonly #opts: KindWatcherOptions;
  /** What the sink has been told: etcd key → resource. */
  readonly #known = new Map<string, Resource>();
  #resourceVersion = '';
  #stream: WatchStream | undefined;
  #closed = false;
  #failures = 0;
  /** How many watch requests were made (for tests and status). */
  watches = 0;
  /** How many relists a 410 caused. */
  relists = 0;
  /** Set by the owner to forget the watcher when it is closed. */
  onClose: (() => void) | undefined;

  constructor(ds: KubeDatastore, k: CrdKind, sink: WatchSink, opts: Partial<KindWatcherOptions>) {
    this.#ds = ds;
    this.#k = k;
    this.#sink = sink;
    this.#opts = { ...DEFAULTS, ...withoutUndefined(opts) };
  }

  start(): void {
    void this.#initialList().then(
      () => this.#watch(),
      (err: unknown) => {
        const e = toDatastoreError(err, { kind: this.#k.info.kind, name: '*', namespace: this.#opts.namespace });
        // A start revision that is gone ends the watch (the caller relists); anything else is retried.
        if (e instanceof CompactedError) this.#fail(e);
        else if (!this.#closed) {
          this.#sink.onStatus?.('reconnecting');
          this.#opts.setTimer(() => this.start(), backoffDelay(this.#opts.backoff, this.#failures++)).unref?.();
        }
      },
    );
  }

  close(): void {
    this.#closed = true;
    this.#stream?.close();
    this.onClose?.();
  }

  async #initialList(): Promise<void> {
    const from = this.#opts.fromRevision;
    const list = await this.#ds.listObjects(this.#k, { namespace: this.#opts.namespace, resourceVersion: from !== undefined ? String(from - 1) : undefined });
    const events: WatchEvent[] = [];
    for (const obj of list.items) {
      const ev = putEvent(this.#k, obj);
      if (!ev) continue;
      if (ev.resource) this.#known.set(ev.key, ev.resource);
      events.push(ev);
    }
    this.#resourceVersion = list.resourceVersion;
    if (from === undefined && !this.#closed) this.#sink.onEvents(events, Number(list.resourceVersion));
  }

  #watch(): void {
    if (this.#closed) return;
    this.watches++;
    let expired = false;
    const stream = this.#ds.watchStream(
      this.#k,
      {
        namespace: this.#opts.namespace,
        resourceVersion: this.#resourceVersion,
        timeoutSeconds: this.#opts.timeoutSeconds,
        heartbeatMs: this.#opts.heartbeatTimeoutMs,
      },
      {
        onOpen: () => {
          if (this.#closed) return;
          this.#failures = 0;
          this.#sink.onStatus?.('connected');
        },
        onEvent: (type, object) => {
          if (this.#closed || expired) return;
          const obj = (object ?? {}) as KubeWatchEvent['object'];
          if (type === 'ERROR') {
            // 410 Expired/Gone: our resourceVersion is older than the server keeps. Anything else: re-watch.
            expired = obj.code === 410;
            stream.close();
            if (expired) void this.#relist();
            else this.#rewatch();
            return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (type === 'BOOKMARK') {
            if (rv) this.#resourceVersion = rv;
            return;
          }
          this.#deliver(type, object, rv);
        },
        onEnd: (err) => {
          if (this.#closed || expired) return;
          if (err instanceof KubeHttpError && err.statusCode === 410) void this.#relist();
          else this.#rewatch();
        },
      },
    );
    this.#stream = stream;
  }

  #deliver(type: string, object: unknown, rv: string | undefined): void {
    if (rv) this.#resourceVersion = rv;
    const ev = putEvent(this.#k, object);
    if (!ev) return;
    if (type === 'DELETED') {
      const previous = ev.resource ?? this.#known.get(ev.key);
      this.#known.delete(ev.key);
      const del: WatchEvent = { type: 'delete', key: ev.key, revision: ev.revision };
      if (previous) del.previous = previous;
      this.#sink.onEvents([del], del.revision);
      return;
    }
    if (ev.resource) this.#known.set(ev.key, ev.resource);
    this.#sink.onEvents([ev], ev.revision);
  }

  /** After a 410: list at the latest revision and deliver only the difference from `known`. */
  async #relist(): Promise<void> {
    this.relists++;
    try {
      const list = await this.#ds.listObjects(this.#k, { namespace: this.#opts.namespace });
      if (this.#closed) return;
      const revision = Number(list.resourceVersion);
      const seen = new Set<string>();
      const events: WatchEvent[] = [];
      for (const obj of list.items) {
        const ev = putEvent(this.#k, obj);
        if (!ev) continue;
        seen.add(ev.key);
        const before = this.#known.get(ev.key);
        if (ev.resource && before?.metadata.resourceVersion === ev.resource.metadata.resourceVersion) continue;
        if (ev.resource) this.#known.set(ev.key, ev.resource);
        events.push(ev);
      }
      for (const [key, previous] of this.#known) {
        if (seen.has(key)) continue;
        this.#known.delete(key);
        events.push({ type: 'delete', key, revision, previous });
      }
      events.sort((a, b) => a.revision - b.revision);
      this.#resourceVersion = list.resourceVersion;
      if (events.length > 0) this.#sink.onEvents(events, revision);
      this.#watch();
    } catch (err) {
      void err; // retried: a relist fails only while the API server is unreachable
      this.#rewatch(true);
    }
  }

  /** Re-make the watch from the last resourceVersion after a backoff (or relist, when that is what failed). */
  #rewatch(relist = false): void {
    if (this.#closed) return;
    this.#sink.onStatus?.('reconnecting');
    const delay = backoffDelay(this.#opts.backoff, this.#failures++);
    const timer = this.#opts.setTimer(() => {
      if (relist) void this.#relist();
      else this.#watch();
    }, delay);
    timer.unref?.();
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.onError(err);
    this.onClose?.();
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
