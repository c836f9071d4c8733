// The fault the randomized test found first, played step by step with the same harness (real
// etcd, two `cattail typha` processes behind proxies, a real SyncClient):
//
//   1. replica B's etcd link is cut                     (B's cache stops at r0)
//   2. WorkloadEndpoint K is created at rK               (the client, on A, receives it)
//   3. A stops (SIGKILL)                                 (the client's resume point is ≥ rK)
//   4. K is deleted at rD; etcd is compacted             (no history of K is left in etcd)
//   5. B's link heals; B's watch is compacted, B relists (B never saw K, so no delete of K)
//   6. the client reaches B and asks to resume from ≥ rK
//
// B may answer with the changes since the client's revision only if it has seen every change
// after it; it has not (rK..relist is a gap for B), so it must send a snapshot (or otherwise
// make the client drop K). Expected: the client, in sync past the relist, does not hold K and
// equals etcd's projection. Rebalancing is off so that nothing but the steps moves the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import type { Resource } from '@cattail/api';
import { updateKey } from '../../src/pipeline/index.js';
import { expectedState } from '../fault/expected.js';
import { createRng } from '../fault/prng.js';
import { diffClient, formatDiffs } from '../fault/verify.js';
import { World } from '../fault/world.js';

const K: Resource = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name: 'node1-k8s-k-eth0', namespace: 'gap', labels: { app: 'k', 'projectcalico.org/namespace': 'gap', 'projectcalico.org/orchestrator': 'k8s' } },
  spec: { node: 'node1', orchestrator: 'k8s', pod: 'k', endpoint: 'eth0', interfaceName: 'cali0000000000k', ipNetworks: ['10.65.200.1/32'] },
};
const K_KEY = updateKey({ kind: K.kind, namespace: K.metadata.namespace, name: K.metadata.name });

test('a client that held K resumes on a replica that relisted across the gap where K was deleted: it must not keep K', async () => {
  const w = await World.start({
    rng: createRng(1),
    clients: 1,
    initialWrites: 10,
    readyMs: 40_000,
    typhaEnv: { TYPHA_CONNECTIONREBALANCINGMODE: 'none' },
    startClients: false,
  });
  try {
    const { A, B } = w.replicas;
    const [m] = w.fleet.members;
    const holdsK = () => m.client.snapshot().some((u) => updateKey(u) === K_KEY);
    B.front.cut(); // the client starts on A
    w.fleet.start();
    await until(() => m.client.state === 'in-sync' && w.fleet.replicaOf(m) === 'A', 'the client in sync on A');

    B.link.cut();
    const rK = Number((await w.ds.create(K)).metadata.resourceVersion);
    await until(() => holdsK() && m.client.revision >= rK, `the client holding K (created at ${rK})`);

    await A.stop('SIGKILL');
    await until(() => m.client.state !== 'in-sync', 'the client to notice A is gone');
    await w.ds.delete({ kind: K.kind, namespace: K.metadata.namespace, name: K.metadata.name });
    const rD = await w.etcdRevision();
    await w.etcd.etcdctl('compact', String(rD));

    B.link.heal();
    await until(async () => {
      const s = await B.status();
      return s !== undefined && s.watcher.relists >= 1 && s.revision >= rD;
    }, `B to relist past the compaction at ${rD}`);
    assert.ok(m.client.revision >= rK, `the client will ask B to resume from ${m.client.revision}, inside B's gap (after ${rK})`);
    B.front.heal();

    const fence = await w.writer.fence();
    await until(
      () => m.client.state === 'in-sync' && m.client.revision >= fence && w.fleet.replicaOf(m) === 'B',
      () => `the client in sync on B at r>=${fence}: ${m.client.state} r=${m.client.revision} on ${w.fleet.replicaOf(m)} | ${m.history.join(' | ')}`,
    );
    const diff = diffClient(m, 'B', await expectedState(w.ds, [m.syncer]));
    assert.equal(
      holdsK(),
      false,
      `the client kept K, deleted at r<=${rD} while B could not see it:\n${diff ? formatDiffs([diff]) : ''}\n${await B.describe()}`,
    );
    assert.equal(diff, undefined, diff && formatDiffs([diff]));
  } finally {
    await w.close();
  }
});
