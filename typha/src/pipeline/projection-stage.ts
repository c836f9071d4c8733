/**
 * Per-syncer projection: turns the watcher's `KVUpdate`s into protocol `Update`s holding only
 * what that syncer's agents read (the typed views and their projections: protocol/views/), and
 * drops kinds the syncer does not carry. It relies on the validation stage before it: every
 * resource here is valid and of its update's kind, which is what the projections assume.
 *
 * A batch is always passed on, even when nothing in it concerns this syncer: the empty batch
 * carries the store revision forward, so the cache's revision (and with it what a resuming
 * client may ask for) keeps up with the datastore.
 *
 * The `Update` objects made here are never modified afterwards: the same object is held by the
 * dedupe map, the pending batch, the Deltas message, the delta log, the cache state and any
 * snapshot captured from it. That sharing is what keeps the per-update cost flat.
 */
import type { SyncerType, Update } from '../protocol/messages.js';
import { PROJECTIONS, type ProjectionTable, type SyncerUpdate } from '../protocol/views/index.js';
import type { KVUpdate, SyncCallbacks, SyncStatus } from './sync-callbacks.js';

/**
 * One (validated) update projected for a syncer; undefined when that syncer does not carry the
 * kind. With the default table the result is that syncer's typed update.
 */
export function projectUpdate<S extends SyncerType>(syncer: S, u: KVUpdate, projections: ProjectionTable = PROJECTIONS): SyncerUpdate<S> | undefined {
  const projection = projections[syncer].get(u.kind);
  if (projection === undefined) return undefined;
  const out: Update = { kind: u.kind, name: u.name, revision: u.revision };
  if (u.namespace) out.namespace = u.namespace;
  if (u.resource !== undefined) out.value = projection(u.resource);
  return out as SyncerUpdate<S>;
}

export function createProjectionStage(syncer: SyncerType, next: SyncCallbacks<Update>, projections: ProjectionTable = PROJECTIONS): SyncCallbacks<KVUpdate> {
  const kinds = projections[syncer];
  return {
    onStatus(status: SyncStatus, revision: number): void {
      next.onStatus(status, revision);
    },
    onUpdates(updates: KVUpdate[], revision: number): void {
      const out: Update[] = [];
      for (const u of updates) {
        if (!kinds.has(u.kind)) continue;
        const p = projectUpdate(syncer, u, projections);
        if (p) out.push(p);
      }
      next.onUpdates(out, revision);
    },
  };
}
