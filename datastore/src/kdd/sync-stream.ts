/**
 * Typha's one upstream stream in Kubernetes-datastore mode: one list+watch per collection
 * (./kind-watcher.ts over ./kube-source.ts), merged into ONE ordered stream of etcd-keyed events
 * that Typha's watcher consumes through `listPrefix`/`watchPrefix`, exactly as it consumes etcd.
 *
 *   CRD ippools ─────┐
 *   CRD …  (per kind)├─▶ KubeSyncStream: state (key → event), seq, recent-event log ─▶ listPrefix('/calico/')
 *   pods → WEPs ─────┤                                                              └▶ watchPrefix('/calico/', from)
 *   namespaces, serviceaccounts → Profiles, networkpolicies → knp.default.*, nodes → Nodes,
 *   services, endpointslices → KubernetesService, KubernetesEndpointSlice (only when a syncer
 *   carries them: felix and bgp do)
 *
 * Revisions. The API server gives each collection its own ordered watch, and no cross-type
 * order: an event of one type with resourceVersion 100 may reach us before one of another type
 * with 95, and an idle type's watch says nothing about how far it has got except through a
 * bookmark about once a minute. A single revision that means "the datastore at etcd revision R"
 * therefore cannot be had without holding every change back for up to a minute. So the merged
 * stream numbers what it delivers itself: `seq` goes up by one for every batch a collection
 * delivers (its initial list, one watch event, one relist diff), and every event carries the seq
 * of its batch. A seq means "this replica's merged state after that batch": each collection's
 * part of it is that collection at some resourceVersion, which is what every consumer of
 * Kubernetes watches (Calico's Typha included) works with. Seqs of two streams are not
 * comparable; the stream's `id` (random per instance) says which space a revision is in, and
 * Typha uses it as its datastore id, so a client resumes only on the replica (and process) it
 * came from and gets a snapshot and a client-side reconcile anywhere else, never a wrong delta.
 *
 * `listPrefix` waits until every collection has delivered its first list (a collection whose
 * list keeps failing, such as a CRD that is not installed, keeps the stream from being listed,
 * and says why through `stats()`); then it answers from the merged state at the current seq, with
 * no API call. `watchPrefix(prefix, from)` replays the recent events with seq >= from from a
 * bounded log, then follows live; a `from` older than the log ends with CompactedError and the
 * caller lists again (a diff against what it holds: only real changes).
 */
import { randomUUID } from 'node:crypto';
import { CALICO_CRDS, keyFor, type Resource } from '@cattail/api';
import type { RawListResult, WatchEvent, WatchHandle, WatchSink } from '../datastore.js';
import { CompactedError, UnsupportedError } from '../errors.js';
import type { KindWatcher } from './kind-watcher.js';
import type { KubeDatastore } from './kube-datastore.js';
import {
  crdSourceOf,
  endpointSliceSource,
  k8sPolicySource,
  namespaceSource,
  nodeSource,
  podSource,
  serviceAccountSource,
  serviceSource,
  type KubeSource,
} from './kube-source.js';

/** Events kept for `watchPrefix` replays (a lister re-attaches right after its list). */
const DEFAULT_LOG_EVENTS = 10_000;

export interface KubeSyncStreamOptions {
  /** Resources no collection holds but every reader sees (Calico's built-in default-allow Profile). */
  builtIn?: readonly Resource[];
  /** Bound of the recent-event log (events). */
  maxLogEvents?: number;
  /** An object a source could not convert: for a rate-limited log and a counter. */
  onProblem?: (source: string, message: string) => void;
  /** A list or watch of a source failed and is being retried: for a rate-limited log and a counter. */
  onRetry?: (source: string, err: Error) => void;
}

export interface SourceStats {
  name: string;
  /** Its first list has been delivered. */
  listed: boolean;
  /** Watch requests made, and relists after a 410. */
  watches: number;
  relists: number;
  /** Objects it could not convert. */
  problems: number;
  /** Failed list or watch requests (each retried), and the last failure. */
  retries: number;
  lastError?: string;
  connected: boolean;
}

/**
 * The collections that serve Calico kinds in KDD: each kind's CRD, or the Kubernetes objects it
 * is derived from (NetworkPolicy is both: Calico's CRD and Kubernetes' policies as knp.default.*).
 */
export function sourcesForKinds(kinds: Iterable<string>, opts: { interfacePrefix?: string } = {}): KubeSource[] {
  const out: KubeSource[] = [];
  for (const kind of new Set(kinds)) {
    if (kind in CALICO_CRDS) out.push(crdSourceOf(kind));
    if (kind === 'NetworkPolicy') out.push(k8sPolicySource());
    else if (kind === 'WorkloadEndpoint') out.push(podSource(opts.interfacePrefix));
    else if (kind === 'Profile') out.push(namespaceSource(), serviceAccountSource());
    else if (kind === 'Node') out.push(nodeSource());
    else if (kind === 'KubernetesService') out.push(serviceSource());
    else if (kind === 'KubernetesEndpointSlice') out.push(endpointSliceSource());
    else if (!(kind in CALICO_CRDS)) throw new UnsupportedError(`the Kubernetes datastore has no source for kind ${kind}`);
  }
  return out;
}

interface Subscriber {
  prefix: string;
  sink: WatchSink;
}

export class KubeSyncStream {
  /** Names the revision space of this stream (see the module comment). */
  readonly id = `kdd-${randomUUID()}`;
  readonly #ds: KubeDatastore;
  readonly #sources: readonly KubeSource[];
  readonly #opts: KubeSyncStreamOptions;
  readonly #maxLog: number;
  readonly #state = new Map<string, WatchEvent>();
  readonly #log: WatchEvent[] = [];
  readonly #subscribers = new Set<Subscriber>();
  readonly #watchers: KindWatcher[] = [];
  readonly #stats: SourceStats[];
  #seq = 0;
  /** Seq of the newest event no longer in the log (a replay from at or before it is impossible). */
  #dropped = 0;
  #started = false;
  #closed = false;
  #listed!: Promise<void>;
  #allListed: () => void = () => undefined;

  constructor(ds: KubeDatastore, sources: readonly KubeSource[], opts: KubeSyncStreamOptions = {}) {
    this.#ds = ds;
    this.#sources = sources;
    this.#opts = opts;
    this.#maxLog = opts.maxLogEvents ?? DEFAULT_LOG_EVENTS;
    this.#stats = sources.map((s) => ({ name: s.name, listed: false, watches: 0, relists: 0, problems: 0, retries: 0, connected: false }));
  }

  get revision(): number {
    return this.#seq;
  }

  stats(): SourceStats[] {
    return this.#stats.map((s, i) => ({ ...s, watches: this.#watchers[i]?.watches ?? 0, relists: this.#watchers[i]?.relists ?? 0 }));
  }

  /** Every event under `prefix` at the current seq, once every collection has been listed. */
  async listPrefix(prefix = '/calico/'): Promise<RawListResult> {
    this.#start();
    await this.#listed;
    if (this.#closed) throw new UnsupportedError('the Kubernetes sync stream is closed');
    const entries: WatchEvent[] = [];
    for (const [key, ev] of this.#state) if (key.startsWith(prefix)) entries.push(ev);
    return { entries, revision: this.#seq };
  }

  watchPrefix(prefix: string, fromRevision: number, sink: WatchSink): WatchHandle {
    this.#start();
    const sub: Subscriber = { prefix, sink };
    const close = () => void this.#subscribers.delete(sub);
    if (fromRevision - 1 < this.#dropped) {
      queueMicrotask(() => sink.onError(new CompactedError(this.#dropped)));
      return { close };
    }
    const replay = this.#log.filter((e) => e.revision >= fromRevision && e.key.startsWith(prefix));
    this.#subscribers.add(sub);
    if (replay.length > 0) sink.onEvents(replay, replay[replay.length - 1].revision);
    return { close };
  }

  close(): void {
    this.#closed = true;
    this.#allListed(); // a lister still waiting is let go (and fails)
    for (const w of this.#watchers) w.close();
    for (const { sink } of this.#subscribers) sink.onError(new UnsupportedError('the Kubernetes sync stream is closed'));
    this.#subscribers.clear();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    let unlisted = this.#sources.length;
    this.#listed = new Promise<void>((resolve) => (this.#allListed = resolve));
    const builtIn = this.#opts.builtIn ?? [];
    if (builtIn.length > 0) this.#onBatch(builtIn.map((resource) => ({ type: 'put', key: keyFor(resource), revision: 0, resource })));
    if (unlisted === 0) this.#allListed();
    this.#sources.forEach((source, i) => {
      const stats = this.#stats[i];
      const w = this.#ds.watchKind(
        source,
        {
          onEvents: (events) => {
            if (this.#closed) return;
            this.#onBatch(events);
            if (!stats.listed) {
              stats.listed = true;
              if (--unlisted === 0) this.#allListed();
            }
          },
          // Only a watch started from a revision ends; ours list first and follow for ever.
          onError: (err) => {
            for (const { sink } of this.#subscribers) sink.onError(err);
          },
          onStatus: (state) => {
            stats.connected = state === 'connected';
            for (const { sink } of this.#subscribers) sink.onStatus?.(state);
          },
        },
        {
          onProblem: (name, message) => {
            stats.problems++;
            this.#opts.onProblem?.(name, message);
          },
          onRetry: (name, err) => {
            stats.retries++;
            stats.lastError = err.message;
            this.#opts.onRetry?.(name, err);
          },
        },
      );
      this.#watchers.push(w);
    });
  }

  /** One collection's batch: stamp it with the next seq, apply it, log it, pass it on. */
  #onBatch(events: readonly WatchEvent[]): void {
    const seq = this.#seq + 1;
    const stamped: WatchEvent[] = [];
    for (const e of events) {
      const ev: WatchEvent = { ...e, revision: seq };
      if (ev.type === 'put') this.#state.set(ev.key, ev);
      else if (!this.#state.delete(ev.key)) continue; // a delete of a key never delivered
      stamped.push(ev);
    }
    if (stamped.length === 0) return;
    this.#seq = seq;
    this.#log.push(...stamped);
    if (this.#log.length > this.#maxLog) {
      const cut = this.#log.length - this.#maxLog;
      this.#dropped = this.#log[cut - 1].revision;
      this.#log.splice(0, cut);
    }
    for (const { prefix, sink } of this.#subscribers) {
      const mine = prefix === '/calico/' ? stamped : stamped.filter((e) => e.key.startsWith(prefix));
      if (mine.length > 0) sink.onEvents(mine, seq);
    }
  }
}
