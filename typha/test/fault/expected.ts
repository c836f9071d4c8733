/**
 * What a client of a syncer must hold: etcd's current content under /calico/, read directly
 * (never from a replica), put through Typha's own pipeline stages — the validation stage (an
 * invalid value is a delete) and the projection stage of that syncer — exactly as the watcher
 * feeds them. Expected and actual state so come from one definition of "what a syncer
 * carries"; the only code here turns a listed key into the watcher's KVUpdate shape, with the
 * same `parseKey`.
 */
import { CALICO_PREFIX, parseKey } from '@cattail/api';
import type { EtcdDatastore } from '@cattail/datastore';
import type { KVUpdate } from '../../src/pipeline/index.js';
import { createProjectionStage, createValidationStage, updateKey } from '../../src/pipeline/index.js';
import type { SyncerType, Update } from '../../src/protocol/messages.js';

export interface ExpectedState {
  /** The etcd revision the list was read at. */
  revision: number;
  /** updateKey → projected update (value present), per syncer. */
  bySyncer: ReadonlyMap<SyncerType, ReadonlyMap<string, Update>>;
}

export async function expectedState(ds: EtcdDatastore, syncers: readonly SyncerType[]): Promise<ExpectedState> {
  const { entries, revision } = await ds.listPrefix(CALICO_PREFIX);
  const updates: KVUpdate[] = [];
  for (const e of entries) {
    const parsed = parseKey(e.key);
    if (!parsed) continue;
    const u: KVUpdate = { key: e.key, kind: parsed.kind.kind, name: parsed.name, revision: e.revision };
    if (parsed.namespace) u.namespace = parsed.namespace;
    if (e.resource) u.resource = e.resource;
    else if (e.error) u.error = e.error;
    updates.push(u);
  }
  const bySyncer = new Map<SyncerType, Map<string, Update>>();
  for (const syncer of syncers) {
    const out = new Map<string, Update>();
    const sink = {
      onStatus(): void {},
      onUpdates(projected: Update[]): void {
        for (const p of projected) {
          if (p.value === undefined) out.delete(updateKey(p));
          else out.set(updateKey(p), p);
        }
      },
    };
    createValidationStage(createProjectionStage(syncer, sink)).onUpdates(updates, revision);
    bySyncer.set(syncer, out);
  }
  return { revision, bySyncer };
}
