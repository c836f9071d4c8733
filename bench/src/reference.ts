/**
 * What every client should hold at the end, computed two independent ways:
 *
 *   datastoreDigest   list every key under /calico/ from etcd at one revision, decode it as
 *                     Typha's watcher does (`parseKey`, `decodeValue`), drop what fails
 *                     `validateResource` (Typha turns those into deletes), and project it with
 *                     Typha's own `projectUpdate` for the syncer: the expected digest.
 *   referenceDigest   a fresh reference SyncClient (@cattail/typha/client) that connects at
 *                     the end, takes a full snapshot and reports its digest.
 *
 * Both go through digest.ts, like the swarm's clients.
 */
import { decodeValue, parseKey, validateResource, CALICO_PREFIX } from '@cattail/api';
import { etcd } from '@cattail/datastore';
import { projectUpdate } from '@cattail/typha';
import { SyncClient, staticDiscovery, updateKey, type ProjectedValue, type SyncerType } from '@cattail/typha/client';
import { monoMs } from './clock.js';
import { digestEntries } from './digest.js';

export interface DatastoreDigest {
  digest: string;
  revision: number;
  keys: number;
  projected: number;
  invalid: number;
}

export async function datastoreDigest(client: etcd.EtcdClient, syncer: SyncerType, pageSize = 2000): Promise<DatastoreDigest> {
  const entries: Array<[string, ProjectedValue | undefined]> = [];
  const end = etcd.prefixEnd(CALICO_PREFIX);
  let from: Buffer | string = CALICO_PREFIX;
  let revision = 0;
  let keys = 0;
  let invalid = 0;
  for (;;) {
    const page: etcd.RangeResult = await client.range(from, { rangeEnd: end, limit: pageSize, revision: revision || undefined });
    if (revision === 0) revision = page.revision;
    for (const kv of page.kvs) {
      keys++;
      const key = kv.key.toString('utf8');
      const parsed = parseKey(key);
      if (parsed === undefined) continue;
      let resource;
      try {
        resource = decodeValue(key, kv.value, kv.modRevision);
      } catch {
        invalid++;
        continue;
      }
      if (validateResource(resource).length > 0) {
        invalid++;
        continue;
      }
      const u = projectUpdate(syncer, {
        key,
        kind: parsed.kind.kind,
        name: parsed.name,
        namespace: parsed.namespace,
        revision: kv.modRevision,
        resource,
      });
      if (u !== undefined) entries.push([updateKey(u), u.value]);
    }
    if (!page.more || page.kvs.length === 0) break;
    from = Buffer.concat([page.kvs[page.kvs.length - 1].key, Buffer.from([0])]);
  }
  return { digest: digestEntries(entries), revision, keys, projected: entries.length, invalid };
}

export interface ReferenceDigest {
  digest: string;
  revision: number;
  keys: number;
  inSyncMs: number;
}

/** Connects a fresh SyncClient, waits for in-sync at or past `minRevision`, returns its digest. */
export async function referenceDigest(hostPort: string, syncer: SyncerType, minRevision: number, timeoutMs: number): Promise<ReferenceDigest> {
  const start = monoMs();
  let inSyncAt = 0;
  let wake: (() => void) | undefined;
  const client = new SyncClient({
    syncer,
    node: 'bench-reference',
    discovery: staticDiscovery([hostPort]),
    clientId: 'cattail-bench-reference/0.1.0',
    callbacks: {
      onStatus: (status) => {
        if (status === 'in-sync' && inSyncAt === 0) inSyncAt = monoMs();
        wake?.();
      },
      onUpdates: () => wake?.(),
    },
  });
  client.start();
  try {
    const deadline = start + timeoutMs;
    while (!(client.state === 'in-sync' && client.revision >= minRevision)) {
      if (monoMs() > deadline)
        throw new Error(
          `reference client not in sync at revision >= ${minRevision} within ${timeoutMs} ms (state ${client.state}, revision ${client.revision})`,
        );
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    const snap = client.snapshot();
    return {
      digest: digestEntries(snap.map((u) => [updateKey(u), u.value] as const)),
      revision: client.revision,
      keys: snap.length,
      inSyncMs: inSyncAt - start,
    };
  } finally {
    await client.close();
  }
}
