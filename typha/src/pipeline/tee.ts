/**
 * One upstream, several syncers: the watcher's validated stream is handed to each syncer's
 * projection stage in turn. Every sink receives the same array, which is why no stage mutates
 * its input (each builds its own output, or passes the input on untouched).
 */
import type { SyncCallbacks, SyncStatus } from './sync-callbacks.js';

export function teeCallbacks<U>(sinks: readonly SyncCallbacks<U>[]): SyncCallbacks<U> {
  const list = [...sinks];
  return {
    onStatus(status: SyncStatus, revision: number): void {
      for (const s of list) s.onStatus(status, revision);
    },
    onUpdates(updates: U[], revision: number): void {
      for (const s of list) s.onUpdates(updates, revision);
    },
  };
}
