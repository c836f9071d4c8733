/**
 * The etcd v3 backend of the Datastore boundary, on our own gRPC client (./etcd/).
 *
 * Writes are single transactions: create compares createRevision == 0 (absent), update and
 * delete compare modRevision == the expected resourceVersion, so there is no read-modify-write
 * window. Lists page through a prefix at ONE revision (the first page's), so a large list is a
 * consistent snapshot that a watch can follow from `revision + 1` without a gap.
 */
import { randomUUID } from 'node:crypto';
import {
  CorruptValueError,
  decodeValue,
  findKind,
  UnknownKindError,
  encodeValue,
  keyFor,
  keyForRef,
  listPrefix,
  parseKey,
  CALICO_PREFIX,
  type Resource,
  type ResourceRef,
} from '@cattail/api';
import type {
  Datastore,
  DeleteOptions,
  ListOptions,
  ListResult,
  PrefixProbe,
  RawListResult,
  WatchEvent,
  WatchHandle,
  WatchSink,
  WriteOp,
} from './datastore.js';
import { AlreadyExistsError, CompactedError, ConflictError, DatastoreError, NotFoundError, UnavailableError, UnsupportedError } from './errors.js';
import {
  EtcdClient,
  EtcdCompactedError,
  EtcdError,
  compare,
  op,
  prefixEnd,
  type EtcdClientOptions,
  type KeyValue,
  type WatchEvent as EtcdWatchEvent,
} from './etcd/index.js';

/** Keys per range request when listing; big enough to be quick, small enough for gRPC limits. */
const LIST_PAGE = 2000;
/** How often update() without a resourceVersion retries after losing a race. */
const UPDATE_RETRIES = 5;

export type EtcdOptions = EtcdClientOptions;

export class EtcdDatastore implements Datastore {
  readonly #client: EtcdClient;

  constructor(options: EtcdOptions | EtcdClient) {
    this.#client = options instanceof EtcdClient ? options : new EtcdClient(options);
  }

  /** The underlying client, for leases (Typha registration) and status. */
  get client(): EtcdClient {
    return this.#client;
  }

  async get(ref: ResourceRef): Promise<Resource> {
    const key = keyForRef(ref);
    if (key === undefined) {
      const { items } = await this.list(ref.kind, { namespace: ref.namespace });
      const found = items.find((r) => r.metadata.name === ref.name);
      if (!found) throw new NotFoundError(ref);
      return found;
    }
    const kv = await call(() => this.#client.get(key));
    if (!kv) throw new NotFoundError(ref);
    return decodeValue(key, kv.value, kv.modRevision);
  }

  async list(kind: string, opts: ListOptions = {}): Promise<ListResult> {
    const info = findKind(kind);
    if (!info) throw new UnknownKindError(kind);
    const { kvs, revision } = await this.#rangeAll(listPrefix(info.kind, opts.namespace));
    const items: Resource[] = [];
    const errors: CorruptValueError[] = [];
    for (const kv of kvs) {
      const key = kv.key.toString();
      const parsed = parseKey(key);
      if (parsed?.kind !== info) continue; // e.g. a foreign key sharing the prefix
      try {
        items.push(decodeValue(key, kv.value, kv.modRevision));
      } catch (err) {
        if (err instanceof CorruptValueError) errors.push(err);
        else throw err;
      }
    }
    return { items, revision, errors };
  }

  async create(res: Resource): Promise<Resource> {
    const stored: Resource = {
      ...res,
      metadata: {
        ...res.metadata,
        uid: res.metadata.uid ?? randomUUID(),
        creationTimestamp: res.metadata.creationTimestamp ?? kubeTimestamp(new Date()),
      },
    };
    delete stored.metadata.resourceVersion;
    const key = keyFor(stored);
    const txn = await call(() => this.#client.txn({ compare: [compare.createRevision(key, '=', 0)], success: [op.put(key, encodeValue(stored))] }));
    if (!txn.succeeded) throw new AlreadyExistsError(refOfRes(stored));
    return withVersion(stored, txn.revision);
  }

  async update(res: Resource): Promise<Resource> {
    const key = keyFor(res);
    const ref = refOfRes(res);
    for (let attempt = 0; ; attempt++) {
      const current = await call(() => this.#client.get(key));
      if (!current) throw new NotFoundError(ref);
      const expected = res.metadata.resourceVersion;
      if (expected !== undefined && String(current.modRevision) !== expected) {
        throw new ConflictError(ref, expected, String(current.modRevision));
      }
      const prev = safeDecode(key, current);
      const stored: Resource = {
        ...res,
        metadata: {
          ...res.metadata,
          uid: prev?.metadata.uid ?? res.metadata.uid ?? randomUUID(),
          creationTimestamp: prev?.metadata.creationTimestamp ?? res.metadata.creationTimestamp ?? kubeTimestamp(new Date()),
        },
      };
      delete stored.metadata.resourceVersion;
      if (stored.metadata.uid === undefined) delete stored.metadata.uid;
      if (stored.metadata.creationTimestamp === undefined) delete stored.metadata.creationTimestamp;
      const txn = await call(() =>
        this.#client.txn({
          compare: [compare.modRevision(key, '=', current.modRevision)],
          success: [op.put(key, encodeValue(stored))],
        }),
      );
      if (txn.succeeded) return withVersion(stored, txn.revision);
      // Lost a race. With an explicit resourceVersion that is a conflict; without one, retry.
      if (expected !== undefined || attempt >= UPDATE_RETRIES) {
        const now = await call(() => this.#client.get(key));
        if (!now) throw new NotFoundError(ref);
        throw new ConflictError(ref, expected ?? String(current.modRevision), String(now.modRevision));
      }
    }
  }

  async delete(ref: ResourceRef, opts: DeleteOptions = {}): Promise<Resource> {
    let key = keyForRef(ref);
    if (key === undefined) key = keyFor(await this.get(ref));
    const current = await call(() => this.#client.get(key));
    if (!current) throw new NotFoundError(ref);
    const expected = opts.resourceVersion ?? String(current.modRevision);
    const txn = await call(() => this.#client.txn({ compare: [compare.modRevision(key, '=', Number(expected))], success: [op.delete(key)] }));
    if (!txn.succeeded) {
      const now = await call(() => this.#client.get(key));
      if (!now) throw new NotFoundError(ref);
      throw new ConflictError(ref, expected, String(now.modRevision));
    }
    const prev = safeDecode(key, current);
    if (prev) return prev;
    return { apiVersion: 'projectcalico.org/v3', kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
  }

  /**
   * One etcd transaction: a compare per write (createRevision = 0 for a create, modRevision =
   * resourceVersion for an update or delete), the writes in the success branch, and a read of
   * every key in the failure branch, so a failed commit names the write that lost without
   * another round trip.
   */
  async commit(writes: readonly WriteOp[]): Promise<Resource[]> {
    const now = kubeTimestamp(new Date());
    const plan = writes.map((w) => {
      if (w.op === 'delete') {
        const key = keyForRef(w.ref);
        if (key === undefined) throw new UnsupportedError(`commit: ${w.ref.kind} ${w.ref.name} has no key of its own`);
        return { w, key, ref: w.ref, stored: undefined };
      }
      const stored: Resource = { ...w.resource, metadata: { ...w.resource.metadata } };
      if (w.op === 'create') {
        stored.metadata.uid ??= randomUUID();
        stored.metadata.creationTimestamp ??= now;
      }
      delete stored.metadata.resourceVersion;
      return { w, key: keyFor(stored), ref: refOfRes(stored), stored };
    });
    const compares = plan.map(({ w, key }) => {
      if (w.op === 'create') return compare.createRevision(key, '=', 0);
      const rv = w.op === 'update' ? w.resource.metadata.resourceVersion : w.resourceVersion;
      if (rv === undefined || !/^\d+$/.test(rv)) throw new UnsupportedError(`commit: the ${w.op} of ${key} needs the resourceVersion it read`);
      return compare.modRevision(key, '=', Number(rv));
    });
    const txn = await call(() =>
      this.#client.txn({
        compare: compares,
        success: plan.map(({ key, stored }) => (stored ? op.put(key, encodeValue(stored)) : op.delete(key))),
        failure: plan.map(({ key }) => op.range(key)),
      }),
    );
    if (txn.succeeded) return plan.flatMap(({ stored }) => (stored ? [withVersion(stored, txn.revision)] : []));
    for (const [i, { w, ref }] of plan.entries()) {
      const r = txn.responses[i];
      const kv = r?.type === 'range' ? r.range.kvs[0] : undefined;
      if (w.op === 'create') {
        if (kv) throw new AlreadyExistsError(ref);
        continue;
      }
      const expected = w.op === 'update' ? w.resource.metadata.resourceVersion : w.resourceVersion;
      if (!kv || String(kv.modRevision) !== expected) throw new ConflictError(ref, expected, kv ? String(kv.modRevision) : undefined);
    }
    // Every precondition holds now: another writer changed a key and changed it back in between.
    throw new ConflictError(plan[0].ref, undefined, undefined);
  }

  async listPrefix(prefix: string = CALICO_PREFIX): Promise<RawListResult> {
    const { kvs, revision } = await this.#rangeAll(prefix);
    const entries: WatchEvent[] = [];
    for (const kv of kvs) {
      entries.push(toEvent('put', kv));
    }
    return { entries, revision };
  }

  watchPrefix(prefix: string, fromRevision: number, sink: WatchSink): WatchHandle {
    const watch = this.#client.watch(
      { key: prefix, prefix: true, startRevision: fromRevision },
      {
        onEvents(events: EtcdWatchEvent[], revision: number) {
          const out: WatchEvent[] = [];
          for (const e of events) out.push(toEvent(e.type, e.kv));
          sink.onEvents(out, revision);
        },
        onError(err: EtcdError) {
          sink.onError(
            err instanceof EtcdCompactedError
              ? new CompactedError(err.compactRevision ?? 0, { cause: err })
              : new UnavailableError(`etcd watch on ${prefix} stopped: ${err.message}`, { cause: err }),
          );
        },
        onStatus(state) {
          sink.onStatus?.(state === 'connected' ? 'connected' : 'reconnecting');
        },
      },
    );
    return { close: () => watch.close() };
  }

  /**
   * One keys-only range with `min_mod_revision`: etcd returns only the keys modified at or after
   * it, and counts all keys of the range. (Not etcd's watch progress notification: before
   * 3.4.31/3.5.13 it can report a revision ahead of events still queued for the watch.)
   */
  async keysChangedSince(prefix: string, revision: number): Promise<PrefixProbe> {
    const r = await call(() => this.#client.range(prefix, { rangeEnd: prefixEnd(prefix), keysOnly: true, minModRevision: revision + 1 }));
    return { revision: r.revision, changed: r.kvs.length, keys: r.count };
  }

  /** The etcd cluster's identity: revisions are only comparable within one cluster. */
  async clusterId(): Promise<string> {
    return (await call(() => this.#client.status())).clusterId;
  }

  async close(): Promise<void> {
    this.#client.close();
  }

  /** Every key under a prefix, paged, all pages read at the first page's revision. */
  async #rangeAll(prefix: string): Promise<{ kvs: KeyValue[]; revision: number }> {
    const end = prefixEnd(prefix);
    const first = await call(() => this.#client.range(prefix, { rangeEnd: end, limit: LIST_PAGE }));
    const kvs = first.kvs;
    const revision = first.revision;
    let more = first.more;
    while (more) {
      const from = Buffer.concat([kvs[kvs.length - 1].key, Buffer.from([0])]);
      const page = await call(() => this.#client.range(from, { rangeEnd: end, limit: LIST_PAGE, revision }));
      kvs.push(...page.kvs);
      more = page.more;
    }
    return { kvs, revision };
  }
}

/**
 * Every key becomes an event: one outside Calico's layout (another program's key under
 * `/calico/`) with neither resource nor error, so that Typha's watcher, which compares the keys
 * it holds with the count under its prefix (`keysChangedSince`), counts it as etcd does.
 */
function toEvent(type: 'put' | 'delete', kv: KeyValue): WatchEvent {
  const key = kv.key.toString();
  const ev: WatchEvent = { type, key, revision: kv.modRevision };
  if (!parseKey(key)) return ev;
  if (type === 'put') {
    ev.raw = kv.value;
    try {
      ev.resource = decodeValue(key, kv.value, kv.modRevision);
    } catch (err) {
      if (!(err instanceof CorruptValueError)) throw err;
      ev.error = err;
    }
  }
  return ev;
}

function safeDecode(key: string, kv: KeyValue): Resource | undefined {
  try {
    return decodeValue(key, kv.value, kv.modRevision);
  } catch {
    return undefined;
  }
}

function withVersion(res: Resource, revision: number): Resource {
  return { ...res, metadata: { ...res.metadata, resourceVersion: String(revision) } };
}

function refOfRes(res: Resource): ResourceRef {
  return { kind: res.kind, name: res.metadata.name, namespace: res.metadata.namespace };
}

/** Kubernetes' timestamp format: RFC 3339 in UTC, whole seconds. */
function kubeTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Wrap low-level etcd failures at the boundary; our own errors pass through. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DatastoreError || !(err instanceof EtcdError)) throw err;
    if (err instanceof EtcdCompactedError) throw new CompactedError(err.compactRevision ?? 0, { cause: err });
    throw new UnavailableError(`etcd: ${err.message}`, { cause: err });
  }
}
