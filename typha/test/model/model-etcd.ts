/**
 * A model of etcd for the protocol model check: one keyspace with a global revision, the full
 * history (so the check can ask "what was the projection at revision R?"), compaction, and one
 * `Datastore` view per Typha replica whose link can be cut or frozen.
 *
 *   writer ─put/delete─▶ ModelEtcd (revision, history, compactRevision)
 *                          ├─ link "a" (up | cut | frozen) ─▶ replica A's DatastoreWatcher
 *                          └─ link "b" (up | cut | frozen) ─▶ replica B's DatastoreWatcher
 *
 * What a link does, as the real etcd client behaves (`datastore/src/etcd/watch.ts`):
 *  - up: a watch delivers every event from its next revision on, in order, one batch per
 *    revision, asynchronously (as the network would); a list answers at the current revision.
 *  - cut: the watch stays open but silent (the client reconnects inside); a list fails with
 *    UnavailableError.
 *  - frozen: the watch is silent and a list hangs until the link is up again.
 *  - back up: each watch resumes from its next revision, or ends with CompactedError when that
 *    revision was compacted away (the caller relists), exactly what etcd answers.
 *  - `keysChangedSince`: the keys under the prefix modified after a revision, and how many
 *    keys there are, read at the current revision (fails unless the link is up).
 *
 * Compaction at revision C forgets history below C: a watch from a revision < C fails. The
 * model keeps its own full history anyway; only the views obey compaction.
 */
import type { Resource } from '@cattail/api';
import {
  CompactedError,
  UnavailableError,
  type Datastore,
  type PrefixProbe,
  type RawListResult,
  type WatchEvent,
  type WatchHandle,
  type WatchSink,
} from '@cattail/datastore';

/** The real etcd client's request deadline (10 s), scaled to the model's pace. */
const FROZEN_REQUEST_TIMEOUT_MS = 50;

export type LinkMode = 'up' | 'cut' | 'frozen';

interface HistoryEntry {
  revision: number;
  key: string;
  /** Undefined: deleted at this revision. */
  value: Resource | undefined;
}

interface ModelWatch {
  readonly link: ModelLink;
  readonly prefix: string;
  readonly sink: WatchSink;
  /** The next revision this watch delivers. */
  next: number;
  closed: boolean;
}

export class ModelEtcd {
  readonly clusterId = 'model-etcd';
  #revision = 1;
  #compactRevision = 0;
  readonly #history: HistoryEntry[] = [];
  readonly #state = new Map<string, { value: Resource; modRevision: number }>();
  readonly #links = new Map<string, ModelLink>();

  get revision(): number {
    return this.#revision;
  }

  get compactRevision(): number {
    return this.#compactRevision;
  }

  link(name: string): ModelLink {
    let l = this.#links.get(name);
    if (l === undefined) {
      l = new ModelLink(this, name);
      this.#links.set(name, l);
    }
    return l;
  }

  put(key: string, value: Resource): number {
    const revision = ++this.#revision;
    this.#state.set(key, { value, modRevision: revision });
    this.#history.push({ revision, key, value });
    this.#notify();
    return revision;
  }

  /** Deletes `key` if present; a delete of an absent key writes nothing (as etcd's DeleteRange). */
  delete(key: string): number | undefined {
    if (!this.#state.has(key)) return undefined;
    const revision = ++this.#revision;
    this.#state.delete(key);
    this.#history.push({ revision, key, value: undefined });
    this.#notify();
    return revision;
  }

  /** The revision of the last change under `prefix`: all a watch of it has to deliver. */
  lastRevisionUnder(prefix: string): number {
    for (let i = this.#history.length - 1; i >= 0; i--) if (this.#history[i].key.startsWith(prefix)) return this.#history[i].revision;
    return 1;
  }

  has(key: string): boolean {
    return this.#state.has(key);
  }

  /** Compacts at the current revision. */
  compact(): void {
    this.#compactRevision = this.#revision;
  }

  /** The keyspace as it was at `revision` (from the model's full history). */
  stateAt(revision: number): Map<string, { value: Resource; modRevision: number }> {
    const out = new Map<string, { value: Resource; modRevision: number }>();
    for (const h of this.#history) {
      if (h.revision > revision) break;
      if (h.value === undefined) out.delete(h.key);
      else out.set(h.key, { value: h.value, modRevision: h.revision });
    }
    return out;
  }

  /** What a list sees now. */
  list(prefix: string): RawListResult {
    const entries: WatchEvent[] = [];
    for (const [key, e] of [...this.#state].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (key.startsWith(prefix)) entries.push({ type: 'put', key, revision: e.modRevision, resource: e.value });
    }
    return { entries, revision: this.#revision };
  }

  /** Events with revision >= `from` under `prefix`. */
  eventsFrom(from: number, prefix: string): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const h of this.#history) {
      if (h.revision < from || !h.key.startsWith(prefix)) continue;
      out.push(
        h.value === undefined ? { type: 'delete', key: h.key, revision: h.revision } : { type: 'put', key: h.key, revision: h.revision, resource: h.value },
      );
    }
    return out;
  }

  #notify(): void {
    for (const l of this.#links.values()) l.pump();
  }
}

/** One replica's view of the model: the `Datastore` its watcher uses. */
export class ModelLink implements Pick<Datastore, 'listPrefix' | 'watchPrefix' | 'keysChangedSince' | 'close'> {
  readonly name: string;
  readonly #etcd: ModelEtcd;
  #mode: LinkMode = 'up';
  readonly #watches = new Set<ModelWatch>();
  readonly #frozenLists: (() => void)[] = [];
  #scheduled = false;

  constructor(etcd: ModelEtcd, name: string) {
    this.#etcd = etcd;
    this.name = name;
  }

  get mode(): LinkMode {
    return this.#mode;
  }

  setMode(mode: LinkMode): void {
    this.#mode = mode;
    if (mode !== 'up') return;
    for (const resume of this.#frozenLists.splice(0)) resume();
    this.pump();
  }

  async clusterId(): Promise<string> {
    return this.#etcd.clusterId;
  }

  async listPrefix(prefix = '/calico/'): Promise<RawListResult> {
    await Promise.resolve();
    if (this.#mode === 'frozen') {
      // A frozen link answers nothing; the real client's request deadline ends the wait.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FROZEN_REQUEST_TIMEOUT_MS);
        this.#frozenLists.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (this.#mode === 'frozen') throw new UnavailableError(`model link ${this.name} is frozen: request timed out`);
    }
    if (this.#mode === 'cut') throw new UnavailableError(`model link ${this.name} is cut`);
    return this.#etcd.list(prefix);
  }

  watchPrefix(prefix: string, fromRevision: number, sink: WatchSink): WatchHandle {
    const w: ModelWatch = { link: this, prefix, sink, next: fromRevision, closed: false };
    this.#watches.add(w);
    this.pump();
    return {
      close: () => {
        w.closed = true;
        this.#watches.delete(w);
      },
    };
  }

  async keysChangedSince(prefix: string, revision: number): Promise<PrefixProbe> {
    await Promise.resolve();
    if (this.#mode !== 'up') throw new UnavailableError(`model link ${this.name} is ${this.#mode}`);
    const { entries } = this.#etcd.list(prefix);
    return { revision: this.#etcd.revision, changed: entries.filter((e) => e.revision > revision).length, keys: entries.length };
  }

  async close(): Promise<void> {
    for (const w of this.#watches) w.closed = true;
    this.#watches.clear();
  }

  /** Delivers what each open watch has not seen, later (as the network would), if the link is up. */
  pump(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#mode !== 'up') return;
      for (const w of [...this.#watches]) this.#deliver(w);
    });
  }

  #deliver(w: ModelWatch): void {
    if (w.closed) return;
    if (w.next < this.#etcd.compactRevision) {
      w.closed = true;
      this.#watches.delete(w);
      w.sink.onError(new CompactedError(this.#etcd.compactRevision));
      return;
    }
    for (const e of this.#etcd.eventsFrom(w.next, w.prefix)) {
      if (w.closed || this.#mode !== 'up') return;
      w.next = e.revision + 1;
      w.sink.onEvents([e], e.revision);
    }
    // Revisions outside the prefix advance the watch too (etcd reports them only in headers).
    if (!w.closed && this.#etcd.revision >= w.next) w.next = this.#etcd.revision + 1;
  }
}
