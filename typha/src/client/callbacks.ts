/**
 * What the agent implements: the client's side of the one-callbacks-interface rule
 * (SyncCallbacks-style). Statuses follow Calico's syncer states plus an explicit disconnect:
 *
 *   connecting ──▶ resync ──▶ in-sync ──▶ disconnected ──▶ connecting …
 *        └──────────────────────────────────▶ disconnected (attempt failed)
 *
 * `onUpdates` only ever carries real changes (see LocalState): after a reconnect the agent sees
 * what changed while it was away, including synthesised deletions, and nothing else: every
 * update either deletes a key the agent holds or gives a key a value different from the one it
 * holds. An agent relies on that and does not compare values again. Updates are typed by the
 * syncer (`SyncerUpdate<S>`: `value` is the view protocol/views/ declares for its kind). Both
 * callbacks run synchronously on the socket's event; an exception thrown by one is logged and
 * does not break the connection. Updates are shared with the client's map: treat them as
 * read-only.
 */
import type { Goodbye, SyncerType } from '../protocol/messages.js';
import type { SyncerUpdate } from '../protocol/views/index.js';

export type ClientStatus = 'connecting' | 'resync' | 'in-sync' | 'disconnected';

export interface StatusDetail {
  /** The endpoint URL this status is about. */
  endpoint?: string;
  /** ServerHello.server: the replica's name. */
  server?: string;
  /** resync: whether a full snapshot or only the changes since our revision follow. */
  mode?: 'snapshot' | 'resume';
  /** The client's revision (0 before the first in-sync). */
  revision: number;
  /** disconnected: the close code and reason (ours when we closed, else the server's). */
  code?: number;
  reason?: string;
  error?: Error;
  /** disconnected: the goodbye the server sent before closing, if any. */
  goodbye?: Goodbye;
  /**
   * disconnected: the server refused this client in a way quick retries will not fix
   * (UnsupportedVersion, Unauthorized, UnknownSyncer, HTTP 401/403); the next attempt waits
   * fatalDelayMs.
   */
  fatal?: boolean;
  /** disconnected: how long until the next attempt; 0 when the next endpoint is tried at once. */
  retryInMs?: number;
}

export interface ClientCallbacks<S extends SyncerType = SyncerType> {
  onStatus(status: ClientStatus, detail: StatusDetail): void;
  /** A batch of real changes, in order; `revision` is the datastore revision after the batch. */
  onUpdates(updates: SyncerUpdate<S>[], revision: number): void;
}
