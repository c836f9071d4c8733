/**
 * The Datastore boundary: everything above it (CLI, Typha, CNI IPAM) speaks resources and
 * revisions, never etcd. Backends: etcd v3 (`EtcdDatastore`); the Kubernetes datastore
 * (`kdd.KubeDatastore`: Calico's CRD kinds, one kind per listPrefix/watchPrefix, and get/list of
 * the kinds derived from Kubernetes objects, which are read-only but for a Node update).
 *
 * Revisions are the datastore's global revision (etcd's), so they mean the same on every Typha
 * replica. `resourceVersion` on a resource is its own mod revision as a decimal string.
 *
 * Watch contract (what Typha builds on): `watch(prefix, fromRevision)` delivers every change
 * with revision >= fromRevision, each exactly once and in order, across reconnects; a revision
 * that was compacted away ends the watch with {@link CompactedError} so the caller relists.
 */
import type { CorruptValueError, Resource, ResourceRef } from '@cattail/api';

export interface ListResult {
  items: Resource[];
  /** The store revision the list was read at: watch from `revision + 1` to follow it. */
  revision: number;
  /** Values that could not be decoded; reported, never fatal to the list. */
  errors: CorruptValueError[];
}

export interface RawListResult {
  entries: WatchEvent[];
  revision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** The mod revision of this change. */
  revision: number;
  /**
   * The decoded resource for puts (undefined when it failed to decode: see `error`; and for a
   * key outside Calico's layout, e.g. another program's status under `/calico/`, which is passed
   * on with neither, so a follower counting the keys under a prefix counts it too).
   */
  resource?: Resource;
  /** For deletes, what the key held before when the backend knows it. */
  previous?: Resource;
  /** Set when the value is corrupt; `resource` is then undefined. */
  error?: CorruptValueError;
  /** The raw value for puts (UTF-8 JSON), for consumers that re-validate. */
  raw?: Uint8Array;
}

export interface WatchSink {
  /** A batch of events in revision order; `revision` is the last event's revision. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** Terminal: the watch has stopped (e.g. {@link CompactedError}). */
  onError(err: Error): void;
  /** Connection state changes, for health reporting. */
  onStatus?(state: 'connected' | 'reconnecting'): void;
}

export interface WatchHandle {
  close(): void;
}

/** What `keysChangedSince` found, read at one revision. */
export interface PrefixProbe {
  /** The store revision the read was served at. */
  revision: number;
  /** Keys under the prefix last modified after the given revision. */
  changed: number;
  /** Keys under the prefix. */
  keys: number;
}

export interface ListOptions {
  namespace?: string;
}

export interface DeleteOptions {
  /** Only delete if the stored mod revision still equals this. */
  resourceVersion?: string;
}

/**
 * One write of a {@link Datastore.commit}. Unlike update() and delete(), a commit never reads
 * first: an update writes `resource` exactly as given, so its metadata must be what get()
 * returned (uid and creationTimestamp included) with `resourceVersion` the precondition.
 */
export type WriteOp =
  | { readonly op: 'create'; readonly resource: Resource }
  | { readonly op: 'update'; readonly resource: Resource }
  | { readonly op: 'delete'; readonly ref: ResourceRef; readonly resourceVersion: string };

export interface Datastore {
  get(ref: ResourceRef): Promise<Resource>;
  list(kind: string, opts?: ListOptions): Promise<ListResult>;
  /** Fails with AlreadyExistsError if it exists. Sets uid and creationTimestamp. */
  create(res: Resource): Promise<Resource>;
  /**
   * Replaces an existing resource. With `metadata.resourceVersion` set, the write happens only
   * if the stored revision still equals it (compare-and-swap in one transaction), else
   * ConflictError. Without it, the current uid/creationTimestamp are kept.
   */
  update(res: Resource): Promise<Resource>;
  delete(ref: ResourceRef, opts?: DeleteOptions): Promise<Resource>;
  /** Every key under a prefix (default: all of Calico's), decoded where possible. */
  listPrefix(prefix?: string): Promise<RawListResult>;
  /** One watch on a prefix from a revision (inclusive). */
  watchPrefix(prefix: string, fromRevision: number, sink: WatchSink): WatchHandle;
  /**
   * At the current revision: how many keys under `prefix` there are, and how many were
   * modified after `revision` (without reading their values). A watcher uses it to prove that
   * nothing under its prefix changed since: no key newer, and as many keys as it holds.
   */
  keysChangedSince?(prefix: string, revision: number): Promise<PrefixProbe>;
  /**
   * Several writes as one round trip, all or none: each create requires the resource to be
   * absent, each update and delete that the record is still at its resourceVersion. When any
   * precondition fails nothing is written and the error is the first failing write's:
   * AlreadyExistsError for a create, ConflictError for an update or delete (also when the
   * record is gone: re-read and decide). Returns the written resources with their new
   * resourceVersion (creates and updates, in order). Only backends with multi-key transactions
   * have it (etcd); callers fall back to one write at a time (the Kubernetes API).
   */
  commit?(writes: readonly WriteOp[]): Promise<Resource[]>;
  close(): Promise<void>;
}

/**
 * What a follower of a prefix needs (Typha's watcher): a Datastore, or the Kubernetes backend's
 * merged stream of every collection (`kdd.KubeSyncStream`), whose revisions are its own.
 */
export type SyncSource = Pick<Datastore, 'listPrefix' | 'watchPrefix' | 'keysChangedSince'>;
