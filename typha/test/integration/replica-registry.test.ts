// The replica registry on a real etcd: when a peer's report counts as fresh (seen to change at
// this refresh or the one before), so rebalancing never acts on a stalled replica's numbers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcd as etcdApi } from '@cattail/datastore';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';
import { ReplicaRegistry, type ReplicaInfo, type ReplicaView } from '../../src/daemon/replica-registry.js';

let etcd: EtcdServer;
let clientA: etcdApi.EtcdClient;
let clientB: etcdApi.EtcdClient;

before(async () => {
  etcd = await startEtcd();
  clientA = new etcdApi.EtcdClient(etcd.clientOptions());
  clientB = new etcdApi.EtcdClient(etcd.clientOptions());
});
after(async () => {
  clientA?.close();
  clientB?.close();
  await etcd?.stop();
});

const info = (serverId: string, connections: number): ReplicaInfo => ({
  serverId,
  url: `ws://${serverId}:5473/sync`,
  node: serverId,
  connections,
  maxConnections: 100,
  inSync: true,
  revision: 7,
  updatedAt: new Date().toISOString(),
});
const view = (rs: readonly ReplicaView[], id: string) => rs.find((r) => r.serverId === id);

test('a peer report is fresh only once seen to change, and goes stale two refreshes after it stops', async () => {
  const a = new ReplicaRegistry(clientA, 10);
  const b = new ReplicaRegistry(clientB, 10);
  try {
    await b.refresh(info('b', 5));
    let seen = await a.refresh(info('a', 9));
    assert.equal(view(seen, 'a')?.fresh, true, 'our own report is always fresh');
    assert.equal(view(seen, 'b')?.fresh, false, 'first sighting: it may be a dead replica waiting for its lease');
    assert.equal(view(seen, 'b')?.revision, 7);

    await b.refresh(info('b', 6));
    seen = await a.refresh(info('a', 9));
    assert.equal(view(seen, 'b')?.fresh, true, 'changed since our last look');
    assert.equal(view(seen, 'b')?.connections, 6);

    // B stops reporting (stalled): still fresh one refresh later, stale after that.
    seen = await a.refresh(info('a', 9));
    assert.equal(view(seen, 'b')?.fresh, true);
    seen = await a.refresh(info('a', 9));
    assert.equal(view(seen, 'b')?.fresh, false);

    await b.refresh(info('b', 7));
    seen = await a.refresh(info('a', 9));
    assert.equal(view(seen, 'b')?.fresh, true, 'fresh again as soon as it reports');
  } finally {
    await a.deregister('a');
    await b.deregister('b');
  }
  const left = await clientA.range('/cattail/typha/replicas/', { prefix: true });
  assert.equal(left.kvs.length, 0, 'both deregistered');
});
