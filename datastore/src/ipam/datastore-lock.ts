/**
 * The datastore migrate lock, as Calico's IPAM users honour it: `calicoctl datastore migrate
 * lock` sets ClusterInformation `default` `datastoreReady: false` while it copies the datastore,
 * and the CNI plugin refuses to allocate until `unlock` sets it back ("Calico is currently not
 * ready to process requests"). Here the check sits in IPAM itself, so every allocator (the CNI
 * plugin, the lab's tunnel addresses) honours it.
 *
 * Only an explicit `false` locks. Calico's CNI plugin also fails when there is no
 * ClusterInformation at all (calico/node creates it at start); nothing in Cattail plays
 * calico/node's start yet, so a datastore without one is taken as unlocked.
 */
import type { Datastore } from '../datastore.js';
import { NotFoundError } from '../errors.js';
import { DatastoreLockedError } from './errors.js';

export async function assertDatastoreReady(ds: Datastore): Promise<void> {
  let ready: unknown;
  try {
    ready = (await ds.get({ kind: 'ClusterInformation', name: 'default' })).spec?.datastoreReady;
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
  if (ready === false) throw new DatastoreLockedError();
}
