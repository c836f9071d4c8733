/**
 * Follows one collection on the API server (a {@link KubeSource}: a Calico CRD kind, or the
 * Kubernetes objects a Calico kind is derived from): list, then watch from the list's
 * resourceVersion with bookmarks, and keep following across everything a watch meets.
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
 * watcher keeps `known`: Kubernetes object (namespace/name) → the key and resource last
 * delivered for it. An object whose conversion yields nothing (a pod that lost its IP) or fails
 * (malformed) becomes a delete of the key it had; a failure is reported through `onProblem`. When started from a revision (the
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
import type { KubeDatastore } from './kube-datastore.js';
import type { WatchStream } from './kube-client.js';
import { KubeHttpError } from './kube-client.js';
import { toDatastoreError } from './kube-datastore.js';
import { objectId, objectResourceVersion, type Decoded, type KubeSource } from './kube-source.js';

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
  /** An object the source could not convert (malformed): for a rate-limited log and a counter. */
  onProblem?: (source: string, message: string) => void;
  /**
   * A list or watch request that failed and will be retried (the API server unreachable, a 401
   * or 403, a CRD not installed): for a rate-limited log and a counter. A cleanly ended stream
   * (the server's timeout) is not an error.
   */
  onRetry?: (source: string, err: Error) => void;
}

/** What the sink was told for one Kubernetes object. */
interface Known {
  key: string;
  /** The object's resourceVersion when it was delivered (a relist skips unchanged objects). */
  objectVersion: string | undefined;
  /** Undefined when the object's value was corrupt (delivered as an error). */
  resource: Resource | undefined;
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
  readonly #source: KubeSource;
  readonly #sink: WatchSink;
  readonly #opts: KindWatcherOptions;
  /** What the sink has been told: object id → key and resource. */
  readonly #known = new Map<string, Known>();
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

  constructor(ds: KubeDatastore, source: KubeSource, sink: WatchSink, opts: Partial<KindWatcherOptions>) {
    this.#ds = ds;
    this.#source = source;
    this.#sink = sink;
    this.#opts = { ...DEFAULTS, ...withoutUndefined(opts) };
  }

  start(): void {
    void this.#initialList().then(
      () => this.#watch(),
      (err: unknown) => {
        const e = toDatastoreError(err, { kind: this.#source.name, name: '*', namespace: this.#opts.namespace });
        // A start revision that is gone ends the watch (the caller relists); anything else is retried.
        if (e instanceof CompactedError) this.#fail(e);
        else if (!this.#closed) {
          this.#opts.onRetry?.(this.#source.name, e instanceof Error ? e : new Error(String(e)));
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
    const list = await this.#ds.listObjects(this.#source, {
      namespace: this.#opts.namespace,
      resourceVersion: from !== undefined ? String(from - 1) : undefined,
    });
    const events: WatchEvent[] = [];
    for (const obj of list.items) events.push(...this.#apply('put', obj));
    this.#resourceVersion = list.resourceVersion;
    if (from === undefined && !this.#closed) this.#sink.onEvents(events, Number(list.resourceVersion));
  }

  #watch(): void {
    if (this.#closed) return;
    this.watches++;
    let expired = false;
    const stream = this.#ds.watchStream(
      this.#source,
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
            else {
              this.#opts.onRetry?.(this.#source.name, new Error(`watch error ${obj.code ?? ''} ${obj.reason ?? ''}: ${obj.message ?? ''}`.trim()));
              this.#rewatch();
            }
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
          else {
            if (err) this.#opts.onRetry?.(this.#source.name, err);
            this.#rewatch();
          }
        },
      },
    );
    this.#stream = stream;
  }

  #deliver(type: string, object: unknown, rv: string | undefined): void {
    if (rv) this.#resourceVersion = rv;
    const events = this.#apply(type === 'DELETED' ? 'delete' : 'put', object);
    if (events.length > 0) this.#sink.onEvents(events, events[events.length - 1].revision);
  }

  /**
   * Records one object's new state in `known` and returns the events that tell the sink: a put
   * (or corrupt value) at its key, a delete of the key it had when it now maps to nothing or to
   * another key, nothing when nothing changed for the sink.
   */
  #apply(type: 'put' | 'delete', object: unknown): WatchEvent[] {
    const id = objectId(object);
    if (id === undefined) {
      this.#opts.onProblem?.(this.#source.name, 'an object without metadata.name');
      return [];
    }
    const objectVersion = objectResourceVersion(object);
    const revision = Number(objectVersion ?? 0);
    const before = this.#known.get(id);
    const decoded: Decoded = type === 'delete' ? { outcome: 'none', reason: 'deleted' } : this.#source.decode(object);
    if (decoded.outcome === 'failed') this.#opts.onProblem?.(this.#source.name, decoded.message);
    const events: WatchEvent[] = [];
    const gone = (key: string, previous: Resource | undefined) => {
      const del: WatchEvent = { type: 'delete', key, revision };
      if (previous) del.previous = previous;
      events.push(del);
    };
    if (decoded.outcome === 'none' || decoded.outcome === 'failed') {
      if (before) gone(before.key, before.resource);
      this.#known.delete(id);
      return events;
    }
    if (before && before.key !== decoded.key) gone(before.key, before.resource);
    if (decoded.outcome === 'resource') {
      this.#known.set(id, { key: decoded.key, objectVersion, resource: decoded.resource });
      events.push({ type: 'put', key: decoded.key, revision, resource: decoded.resource });
    } else {
      this.#known.set(id, { key: decoded.key, objectVersion, resource: undefined });
      events.push({ type: 'put', key: decoded.key, revision, error: decoded.error });
    }
    return events;
  }

  /** After a 410: list at the latest revision and deliver only the difference from `known`. */
  async #relist(): Promise<void> {
    this.relists++;
    try {
      const list = await this.#ds.listObjects(this.#source, { namespace: this.#opts.namespace });
      if (this.#closed) return;
      const revision = Number(list.resourceVersion);
      const seen = new Set<string>();
      const events: WatchEvent[] = [];
      for (const obj of list.items) {
        const id = objectId(obj);
        if (id === undefined) continue;
        seen.add(id);
        const before = this.#known.get(id);
        if (before !== undefined && before.objectVersion === objectResourceVersion(obj)) continue;
        events.push(...this.#apply('put', obj));
      }
      for (const [id, before] of this.#known) {
        if (seen.has(id)) continue;
        this.#known.delete(id);
        const del: WatchEvent = { type: 'delete', key: before.key, revision };
        if (before.resource) del.previous = before.resource;
        events.push(del);
      }
      events.sort((a, b) => a.revision - b.revision);
      this.#resourceVersion = list.resourceVersion;
      if (events.length > 0) this.#sink.onEvents(events, revision);
      this.#watch();
    } catch (err) {
      if (!this.#closed) this.#opts.onRetry?.(this.#source.name, err instanceof Error ? err : new Error(String(err)));
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
