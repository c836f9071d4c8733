/**
 * An in-memory Datastore for the CLI's unit tests, faithful to the contract the commands rely
 * on: a global revision bumped per write, resourceVersion = the resource's mod revision, uid and
 * creationTimestamp set on create and kept on update, compare-and-swap on resourceVersion, and
 * the datastore package's own error classes. `writes` records every successful write so a test
 * can assert that nothing was written. `hang` / `failWith` simulate an unreachable etcd;
 * `beforeCall` lets a test act at a chosen call (send a signal) and hold it there.
 */
import type { Resource, ResourceRef } from '@cattail/api';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  type Datastore,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type RawListResult,
  type WatchHandle,
} from '@cattail/datastore';

export class FakeDatastore implements Datastore {
  readonly #items = new Map<string, Resource>();
  #revision = 100;
  #uid = 0;
  /** Every successful create/update/delete, in order. */
  readonly writes: { op: 'create' | 'update' | 'delete'; ref: ResourceRef }[] = [];
  /** Make every call pend forever (an etcd that accepts connections but never answers). */
  hang = false;
  /** Make every call fail with this error (e.g. one with code ETCD_UNAVAILABLE). */
  failWith: Error | undefined;
  /** Runs before every call; the call waits for what it returns (a test holds a call there). */
  beforeCall: ((op: 'get' | 'list' | 'create' | 'update' | 'delete', ref: ResourceRef | undefined) => Promise<void> | void) | undefined;
  closed = false;

  /** Puts a resource in place without going through create (no validation, no write record). */
  seed(res: Resource): Resource {
    const stored = structuredClone(res);
    stored.metadata.resourceVersion = String(++this.#revision);
    stored.metadata.uid ??= `uid-${++this.#uid}`;
    stored.metadata.creationTimestamp ??= '2024-05-01T10:00:00Z';
    this.#items.set(keyOf(stored), stored);
    return structuredClone(stored);
  }

  peek(ref: ResourceRef): Resource | undefined {
    const r = this.#items.get(keyOf(ref));
    return r && structuredClone(r);
  }

  get size(): number {
    return this.#items.size;
  }

  get revision(): number {
    return this.#revision;
  }

  async get(ref: ResourceRef): Promise<Resource> {
    await this.#gate('get', ref);
    const r = this.#items.get(keyOf(ref));
    if (!r) throw new NotFoundError(ref);
    return structuredClone(r);
  }

  async list(kind: string, opts?: ListOptions): Promise<ListResult> {
    await this.#gate('list', undefined);
    const items = [...this.#items.values()]
      .filter((r) => r.kind === kind && (opts?.namespace === undefined || r.metadata.namespace === opts.namespace))
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
      .map((r) => structuredClone(r));
    return { items, revision: this.#revision, errors: [] };
  }

  async create(res: Resource): Promise<Resource> {
    await this.#gate('create', refOf(res));
    const key = keyOf(res);
    if (this.#items.has(key)) throw new AlreadyExistsError(refOf(res));
    const stored = structuredClone(res);
    stored.metadata.uid = `uid-${++this.#uid}`;
    stored.metadata.creationTimestamp = '2024-05-01T10:00:00Z';
    stored.metadata.resourceVersion = String(++this.#revision);
    this.#items.set(key, stored);
    this.writes.push({ op: 'create', ref: refOf(res) });
    return structuredClone(stored);
  }

  async update(res: Resource): Promise<Resource> {
    await this.#gate('update', refOf(res));
    const key = keyOf(res);
    const current = this.#items.get(key);
    if (!current) throw new NotFoundError(refOf(res));
    const expected = res.metadata.resourceVersion;
    if (expected !== undefined && expected !== current.metadata.resourceVersion) {
      throw new ConflictError(refOf(res), expected, current.metadata.resourceVersion);
    }
    const stored = structuredClone(res);
    stored.metadata.uid = current.metadata.uid;
    stored.metadata.creationTimestamp = current.metadata.creationTimestamp;
    stored.metadata.resourceVersion = String(++this.#revision);
    this.#items.set(key, stored);
    this.writes.push({ op: 'update', ref: refOf(res) });
    return structuredClone(stored);
  }

  async delete(ref: ResourceRef, opts?: DeleteOptions): Promise<Resource> {
    await this.#gate('delete', ref);
    const key = keyOf(ref);
    const current = this.#items.get(key);
    if (!current) throw new NotFoundError(ref);
    if (opts?.resourceVersion !== undefined && opts.resourceVersion !== current.metadata.resourceVersion) {
      throw new ConflictError(ref, opts.resourceVersion, current.metadata.resourceVersion);
    }
    this.#items.delete(key);
    this.#revision++;
    this.writes.push({ op: 'delete', ref });
    return current;
  }

  async listPrefix(): Promise<RawListResult> {
    await this.#gate('list', undefined);
    return { entries: [], revision: this.#revision };
  }

  watchPrefix(): WatchHandle {
    return { close: () => undefined };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Interposes the test's hook and the simulated failures; otherwise answers asynchronously, like a real client. */
  async #gate(op: 'get' | 'list' | 'create' | 'update' | 'delete', ref: ResourceRef | undefined): Promise<void> {
    if (this.beforeCall) await this.beforeCall(op, ref);
    if (this.hang) return new Promise<void>(() => undefined);
    if (this.failWith) throw this.failWith;
  }
}

function refOf(res: Resource): ResourceRef {
  const ref: ResourceRef = { kind: res.kind, name: res.metadata.name };
  if (res.metadata.namespace) ref.namespace = res.metadata.namespace;
  return ref;
}

function keyOf(r: Resource | ResourceRef): string {
  const ref = 'metadata' in r ? refOf(r) : r;
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}
