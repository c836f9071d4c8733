/**
 * The one callbacks interface through the whole pipeline, as in Calico's Typha:
 *
 *   datastore watcher ─▶ validate ─▶ project (per syncer) ─▶ dedupe ─▶ cache ─▶ fan-out
 *
 * Every stage is a `SyncCallbacks` sink that wraps the next, so a stage is added by wrapping a
 * sink, and each is unit-testable with a recording sink.
 */
import type { Resource } from '@cattail/api';

/** Calico's sync states: waiting for the datastore, listing (resync), then in sync. */
export type SyncStatus = 'wait-for-datastore' | 'resync' | 'in-sync';

export interface SyncCallbacks<U> {
  onStatus(status: SyncStatus, revision: number): void;
  /** A batch in revision order; `revision` is the store revision after the batch. */
  onUpdates(updates: U[], revision: number): void;
}

/** What the watcher emits: one key's new state. `resource` undefined means deleted. */
export interface KVUpdate {
  key: string;
  kind: string;
  name: string;
  namespace?: string;
  revision: number;
  resource?: Resource;
  /**
   * Set when the stored value could not be decoded (`resource` is then undefined). The
   * validation stage turns such an update into a counted, logged delete of the key, so agents
   * drop what they held for it rather than keep stale data.
   */
  error?: Error;
}
