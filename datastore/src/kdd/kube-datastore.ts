/**
 * The Kubernetes datastore (KDD) backend of the Datastore boundary, for Calico's own kinds kept
 * as `crd.projectcalico.org/v1` custom resources (the v3 spec as the CRD object's spec; the
 * mapping is ./crd-codec.ts), and get/list/create/update/delete of the kinds Calico derives from
 * Kubernetes' own objects (WorkloadEndpoint, Profile, Node, and the knp.default.* NetworkPolicies
 * next to the CRD ones: ./derived-kinds.ts, which says what is read-only). The watch side serves
 * the CRD kinds only.
 *
 * HTTP is ./kube-client.ts on `node:https` (why not `@kubernetes/client-node` is there); config
 * from a kubeconfig file, KUBECONFIG, or in-cluster.
 * Semantics are the etcd backend's, mapped onto the API server's:
 *   - `resourceVersion` is the object's own, passed through (the API server's are etcd mod
 *     revisions too, so they compare as the etcd backend's do; we still treat them as opaque
 *     except for the watch's revision numbers).
 *   - update with a resourceVersion is a PUT carrying it: the API server refuses a stale one
 *     with 409, which is ConflictError. Without one, get-then-PUT, retried on a lost race (the
 *     API server allows no unconditional update of a custom resource).
 *   - delete is a DELETE with a resourceVersion precondition (the given one, or the one just
 *     read, so the resource returned is the one deleted).
 *   - uid and creationTimestamp come from the API server on create (uid bit-reversed as Calico's
 *     `ConvertUID` does; see the codec), and are kept across updates.
 *   - every write is checked by `validateResource` of `@cattail/api` first (ValidationError),
 *     so nothing the agents would refuse reaches the API server. (The etcd backend leaves this
 *     to its callers; here the CRD's structural schema would otherwise be the only gate.)
 *
 * Watching is per kind (./kind-watcher.ts). `listPrefix`/`watchPrefix` accept a prefix of
 * Calico's etcd key layout that falls within ONE kind (`/calico/resources/v3/projectcalico.org/
 * ippools/`, a namespace under a namespaced kind, `/calico/ipam/v2/assignment/`), and hand out
 * events under the etcd keys, so a consumer that classifies keys with `parseKey` (Typha's
 * watcher) reads them unchanged. A prefix spanning several kinds (`/calico/`) is refused with
 * DATASTORE_UNSUPPORTED: each kind is a separate list and watch on the API server, and one
 * ordered stream across them is not built.
 */
import {
  ApiError,
  CorruptValueError,
  describeRef,
  findKind,
  listPrefix as kindListPrefix,
  ValidationError,
  validateResource,
  CALICO_CRDS,
  type Resource,
  type ResourceRef,
} from '@cattail/api';
import type { Datastore, DeleteOptions, ListOptions, ListResult, RawListResult, WatchEvent, WatchHandle, WatchSink } from '../datastore.js';
import { AlreadyExistsError, CompactedError, ConflictError, DatastoreError, NotFoundError, UnavailableError, UnsupportedError } from '../errors.js';
import { backendName, crdKind, fromCrdObject, refOfResource, toCrdObject, type CrdKind } from './crd-codec.js';
import { DerivedKinds, isDerived, listsDerived } from './derived-kinds.js';
import { KindWatcher, type KindWatcherOptions } from './kind-watcher.js';
import { crdSource, crdSourceOf, objectResourceVersion, type KubeSource } from './kube-source.js';
import {
  KubeClient,
  KubeHttpError,
  LIST_PAGE_SIZE,
  listPaged,
  loadKubeConfig,
  type KubeClientConfig,
  type WatchStream,
  type WatchStreamHandlers,
} from './kube-client.js';

/** How often update() without a resourceVersion retries after losing a race. */
const UPDATE_RETRIES = 5;

export interface KubeDatastoreOptions {
  /** A kubeconfig file; default: KUBECONFIG or ~/.kube/config, else in-cluster. */
  kubeconfigPath?: string;
  /** Server and credentials directly (tests through a proxy, or callers with their own loading). */
  config?: KubeClientConfig;
  /** Watch tuning (heartbeat timeout, reconnect backoff). */
  watch?: Partial<KindWatcherOptions>;
  /** Items per list request (`limit`, continued); default LIST_PAGE_SIZE (500), 0 for one request. */
  listPageSize?: number;
}

/** The raw list of one kind: objects and the list's resourceVersion. */
export interface KubeList {
  items: unknown[];
  resourceVersion: string;
}

export class KubeDatastore implements Datastore {
  readonly #client: KubeClient;
  readonly #watchOptions: Partial<KindWatcherOptions>;
  readonly #watchers = new Set<KindWatcher>();
  readonly #derived: DerivedKinds;
  readonly #listPageSize: number;

  constructor(options: KubeDatastoreOptions = {}) {
    this.#client = new KubeClient(options.config ?? loadKubeConfig(options.kubeconfigPath));
    this.#watchOptions = options.watch ?? {};
    this.#listPageSize = options.listPageSize ?? LIST_PAGE_SIZE;
    this.#derived = new DerivedKinds(this.#client, (ref, fn) => this.#call(ref, fn), this.#listPageSize);
  }

  async get(ref: ResourceRef): Promise<Resource> {
    if (isDerived(ref.kind, ref.name)) return this.#derived.get(ref);
    const k = crdKind(ref.kind);
    const obj = await this.#call(ref, () => this.#getObject(k, backendName(k.info.kind, ref.name), ref.namespace));
    return fromCrdObject(k, obj);
  }

  async list(kind: string, opts: ListOptions = {}): Promise<ListResult> {
    const derived = listsDerived(kind);
    if (derived === 'only') return this.#derived.list(kind, opts);
    const k = crdKind(kind);
    const { items, resourceVersion } = await this.listObjects(crdSource(k), { namespace: opts.namespace });
    const out: Resource[] = [];
    const errors: CorruptValueError[] = [];
    for (const obj of items) {
      try {
        out.push(fromCrdObject(k, obj));
      } catch (err) {
        if (err instanceof CorruptValueError) errors.push(err);
        else throw err;
      }
    }
    const crds: ListResult = { items: out, revision: Number(resourceVersion), errors };
    if (derived !== 'also') return crds;
    const more = await this.#derived.list(kind, opts);
    return { items: [...crds.items, ...more.items], revision: Math.max(crds.revision, more.revision), errors: [...crds.errors, ...more.errors] };
  }

  async create(res: Resource): Promise<Resource> {
    if (isDerived(res.kind, res.metadata.name)) return this.#derived.create(res);
    const k = crdKind(res.kind);
    checkValid(res);
    const body = toCrdObject({ ...res, metadata: { ...res.metadata, resourceVersion: undefined, uid: undefined } });
    const ref = refOfResource(res);
    const ns = namespaceOf(k, ref);
    // A 404 on a create can only mean the namespace is missing: say that, not "does not exist".
    const created = await this.#call(ns !== undefined ? { kind: 'Namespace', name: ns } : ref, () => this.#client.request('POST', crdSource(k).path(ns), body));
    return fromCrdObject(k, created);
  }

  async update(res: Resource): Promise<Resource> {
    if (isDerived(res.kind, res.metadata.name)) return this.#derived.update(res);
    const k = crdKind(res.kind);
    checkValid(res);
    const ref = refOfResource(res);
    const ns = namespaceOf(k, ref);
    const name = backendName(k.info.kind, ref.name);
    for (let attempt = 0; ; attempt++) {
      const current = fromCrdObject(k, await this.#call(ref, () => this.#getObject(k, name, ns)));
      const expected = res.metadata.resourceVersion;
      const next: Resource = {
        ...res,
        metadata: {
          ...res.metadata,
          resourceVersion: expected ?? current.metadata.resourceVersion,
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp ?? res.metadata.creationTimestamp,
        },
      };
      const body = toCrdObject(next);
      try {
        const written = await this.#call(ref, () => this.#client.request('PUT', crdSource(k).path(ns, name), body));
        return fromCrdObject(k, written);
      } catch (err) {
        // Lost a race: with an explicit resourceVersion that is the caller's conflict; without one, retry.
        if (!(err instanceof ConflictError)) throw err;
        if (expected !== undefined || attempt >= UPDATE_RETRIES) throw await this.#conflict(k, ref, expected ?? current.metadata.resourceVersion);
      }
    }
  }

  async delete(ref: ResourceRef, opts: DeleteOptions = {}): Promise<Resource> {
    if (isDerived(ref.kind, ref.name)) return this.#derived.delete(ref, opts.resourceVersion);
    const k = crdKind(ref.kind);
    const ns = namespaceOf(k, ref);
    const name = backendName(k.info.kind, ref.name);
    const current = fromCrdObject(k, await this.#call(ref, () => this.#getObject(k, name, ns)));
    const resourceVersion = opts.resourceVersion ?? current.metadata.resourceVersion;
    const body = { preconditions: { resourceVersion } };
    await this.#call(ref, async () => {
      try {
        return await this.#client.request('DELETE', crdSource(k).path(ns, name), body);
      } catch (err) {
        if (err instanceof KubeHttpError && err.statusCode === 409) throw await this.#conflict(k, ref, resourceVersion);
        throw err;
      }
    });
    return current;
  }

  async listPrefix(prefix?: string): Promise<RawListResult> {
    const { k, namespace, within } = kindForPrefix(prefix);
    const source = crdSource(k);
    const { items, resourceVersion } = await this.listObjects(source, { namespace });
    const entries: WatchEvent[] = [];
    for (const obj of items) {
      const d = source.decode(obj);
      if (within !== undefined && 'key' in d && !d.key.startsWith(within)) continue;
      const revision = Number(objectResourceVersion(obj) ?? 0);
      if (d.outcome === 'resource') entries.push({ type: 'put', key: d.key, revision, resource: d.resource });
      else if (d.outcome === 'corrupt') entries.push({ type: 'put', key: d.key, revision, error: d.error });
    }
    return { entries, revision: Number(resourceVersion) };
  }

  /**
   * Follows one kind from `fromRevision` (inclusive, as the etcd backend's): the watcher first
   * reads the kind's state at `fromRevision - 1` (an exact-revision list) so that after a 410 it
   * can relist and deliver only what differs. If that revision is already gone, the watch ends
   * with CompactedError and the caller relists, as with etcd; later expiries are handled inside.
   */
  watchPrefix(prefix: string, fromRevision: number, sink: WatchSink): WatchHandle {
    const { k, namespace, within } = kindForPrefix(prefix);
    const narrowed: WatchSink =
      within === undefined
        ? sink
        : {
            onEvents: (events, revision) => {
              const mine = events.filter((e) => e.key.startsWith(within));
              if (mine.length > 0) sink.onEvents(mine, revision);
            },
            onError: (err) => sink.onError(err),
            onStatus: (state) => sink.onStatus?.(state),
          };
    return this.watchKind(k.info.kind, narrowed, { namespace, fromRevision });
  }

  /**
   * The per-collection watch underneath watchPrefix, of a Calico kind's CRD or of any
   * {@link KubeSource}; without `fromRevision` it lists first and delivers the list as one batch
   * of puts. The returned watcher is the handle (close()), and counts its watch requests and
   * relists.
   */
  watchKind(
    kind: string | KubeSource,
    sink: WatchSink,
    opts: { namespace?: string; fromRevision?: number; onProblem?: KindWatcherOptions['onProblem']; onRetry?: KindWatcherOptions['onRetry'] } = {},
  ): KindWatcher {
    const source = typeof kind === 'string' ? crdSourceOf(kind) : kind;
    const watcher = new KindWatcher(this, source, sink, { ...this.#watchOptions, ...opts });
    this.#watchers.add(watcher);
    watcher.onClose = () => this.#watchers.delete(watcher);
    watcher.start();
    return watcher;
  }

  /**
   * A plain call to the API server with this datastore's credentials, for what is not a Calico
   * resource (Typha's Lease registrations; PATCH is a JSON merge patch); failures are the client's KubeHttpError or
   * UnavailableError.
   */
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    return this.#client.request(method, path, body);
  }

  async close(): Promise<void> {
    for (const w of this.#watchers) w.close();
    this.#watchers.clear();
    this.#client.close();
  }

  /** For KindWatcher: one list of a collection, optionally at an exact resourceVersion. Errors are DatastoreErrors (410 → CompactedError). */
  async listObjects(source: KubeSource, opts: { namespace?: string; resourceVersion?: string }): Promise<KubeList> {
    return this.#call({ kind: source.name, name: '*', namespace: opts.namespace }, () =>
      listPaged((path) => this.#client.request('GET', path), source.path(opts.namespace), {
        pageSize: this.#listPageSize,
        ...(opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {}),
      }),
    );
  }

  /** For KindWatcher: one watch request on a collection from `resourceVersion`, with bookmarks. */
  watchStream(
    source: KubeSource,
    opts: { namespace?: string; resourceVersion: string; timeoutSeconds: number; heartbeatMs: number },
    handlers: WatchStreamHandlers,
  ): WatchStream {
    const query = `?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(opts.resourceVersion)}&timeoutSeconds=${opts.timeoutSeconds}`;
    return this.#client.watch(`${source.path(opts.namespace)}${query}`, opts.heartbeatMs, handlers);
  }

  /** The error for a lost precondition: ConflictError naming the current resourceVersion, or NotFoundError if it is gone. */
  async #conflict(k: CrdKind, ref: ResourceRef, expected: string | undefined): Promise<DatastoreError> {
    try {
      const now = fromCrdObject(k, await this.#call(ref, () => this.#getObject(k, backendName(k.info.kind, ref.name), namespaceOf(k, ref))));
      return new ConflictError(ref, expected, now.metadata.resourceVersion);
    } catch (err) {
      if (err instanceof DatastoreError) return err;
      throw err;
    }
  }

  #getObject(k: CrdKind, name: string, namespace: string | undefined): Promise<unknown> {
    return this.#client.request('GET', crdSource(k).path(namespace, name));
  }

  /** Wraps client-node's errors at the boundary into ours, by HTTP status and Kubernetes' `reason`. */
  async #call<T>(ref: ResourceRef, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDatastoreError(err, ref);
    }
  }
}

/** Wraps the client's errors into ours, by HTTP status and Kubernetes' `reason`. */
export function toDatastoreError(err: unknown, ref: ResourceRef): unknown {
  if (!(err instanceof KubeHttpError)) return err; // ours already (UnavailableError for transport failures), or a bug
  const { statusCode, status } = err;
  switch (statusCode) {
    case 404:
      return new NotFoundError(ref, { cause: err });
    case 409:
      if (status.reason === 'AlreadyExists') return new AlreadyExistsError(ref);
      return new ConflictError(ref, undefined, undefined);
    case 410:
      return new CompactedError(0, { cause: err });
    case 422:
      return new ValidationError(describeRef(ref), [{ path: '', message: `kube-apiserver refused it: ${status.message ?? 'Invalid'}` }]);
    default:
      return new UnavailableError(`kube-apiserver answered ${statusCode} for ${describeRef(ref)}: ${status.message ?? status.reason ?? 'no message'}`, {
        cause: err,
      });
  }
}

function checkValid(res: Resource): void {
  const issues = validateResource(res);
  if (issues.length > 0) throw new ValidationError(describeRef(refOfResource(res)), issues);
}

function namespaceOf(k: CrdKind, ref: ResourceRef): string | undefined {
  if (!k.info.namespaced) return undefined;
  if (!ref.namespace) throw new ApiError('NAMESPACE_REQUIRED', `${k.info.kind} is namespaced: a namespace is required`);
  return ref.namespace;
}

/**
 * The one kind (and namespace) a prefix of Calico's etcd layout selects, or UnsupportedError.
 * A prefix deeper than a kind's (one node's block affinities, one key) selects that kind, with
 * `within` set: the kind is listed (narrowed to the namespace if the prefix names one) and only
 * keys under the prefix are kept, as etcd's range read would.
 */
export function kindForPrefix(prefix: string | undefined): { k: CrdKind; namespace?: string; within?: string } {
  const p = prefix ?? '/calico/';
  const matches: { k: CrdKind; namespace?: string; within?: string }[] = [];
  for (const kind of Object.keys(CALICO_CRDS)) {
    const info = findKind(kind);
    if (!info) continue;
    const base = kindListPrefix(info.kind);
    if (base.startsWith(p)) matches.push({ k: crdKind(info.kind) });
    else if (p.startsWith(base)) {
      const rest = p.slice(base.length);
      const [first, ...more] = rest.split('/');
      const namespace = info.namespaced && first !== '' && (more.length > 0 || rest.endsWith('/')) ? first : undefined;
      const exact = rest === '' || (namespace !== undefined && rest === `${namespace}/`);
      matches.push({ k: crdKind(info.kind), ...(namespace !== undefined ? { namespace } : {}), ...(exact ? {} : { within: p }) });
    }
  }
  if (matches.length !== 1) {
    throw new UnsupportedError(
      `the Kubernetes datastore lists and watches one kind at a time: prefix "${p}" selects ${matches.length === 0 ? 'no kind' : `${matches.length} kinds`}`,
    );
  }
  return matches[0];
}
