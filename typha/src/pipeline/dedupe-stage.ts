/**
 * Drops updates that would not change what an agent holds: a value structurally equal to the
 * key's current projected value (the resource changed, but not in a field this syncer reads),
 * or a delete of a key the syncer does not have (e.g. a kind it carries but whose create it
 * never saw, or a repeated delete). Each dropped update counts as `skipped`, exported later as
 * `typha_updates_skipped` like Calico's counter of the same name.
 *
 * Per syncer, after projection: whether two values are "the same" depends on the projection.
 * The map holds references to the projected values the cache holds too, so it costs one map
 * entry per key, not a second copy of the data. A batch with nothing to drop is passed on as
 * the same array; an empty batch still goes on, to carry the revision.
 *
 * The guarantee it gives everything after it: only real changes on the wire. Each value the
 * syncer sends for a key differs from the one it sent before, and each delete is of a key it
 * sent; the cache's delta log and the fan-out rely on it and do not compare. (The client does
 * compare, because a resume, a catch-up or a snapshot can repeat a value it holds, and those
 * arrive looking like any other message: see client/local-state.ts.)
 */
import type { ProjectedValue, Update } from '../protocol/messages.js';
import { jsonEqual } from '../common/json-equal.js';
import type { SyncCallbacks, SyncStatus } from './sync-callbacks.js';
import { updateKey } from '../common/update-key.js';

export interface DedupeStats {
  /** Updates dropped because they changed nothing for this syncer. */
  skipped: number;
  /** Keys currently known. */
  keys: number;
}

export interface DedupeStage extends SyncCallbacks<Update> {
  stats(): DedupeStats;
}

export function createDedupeStage(next: SyncCallbacks<Update>): DedupeStage {
  const current = new Map<string, ProjectedValue>();
  let skipped = 0;

  /** Records the update; true when it changes nothing and is to be dropped. */
  function redundant(u: Update): boolean {
    const key = updateKey(u);
    if (u.value === undefined) {
      if (current.delete(key)) return false;
      skipped++;
      return true;
    }
    const prev = current.get(key);
    if (prev !== undefined && jsonEqual(prev, u.value)) {
      skipped++;
      return true;
    }
    current.set(key, u.value);
    return false;
  }

  return {
    onStatus(status: SyncStatus, revision: number): void {
      next.onStatus(status, revision);
    },
    onUpdates(updates: Update[], revision: number): void {
      let out: Update[] | undefined;
      for (let i = 0; i < updates.length; i++) {
        if (redundant(updates[i])) {
          out ??= updates.slice(0, i);
        } else if (out) {
          out.push(updates[i]);
        }
      }
      next.onUpdates(out ?? updates, revision);
    },
    stats(): DedupeStats {
      return { skipped, keys: current.size };
    },
  };
}
