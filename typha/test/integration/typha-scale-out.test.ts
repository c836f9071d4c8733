// Two Typha replicas on one real etcd: they register under leases and see each other's load;
// the one holding every client sheds gradually toward the other with a reconnect hint; a
// shutdown hands its clients off to the survivor. No client is dropped without a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import { silentLogger } from '../../src/common/logger.js';
import type { Resource } from '@cattail/api';
import { TyphaDaemon } from '../../src/daemon/daemon.js';
import { loadTyphaConfig } from '../../src/config.js';
import { REPLICA_PREFIX } from '../../src/daemon/replica-registry.js';
import { SyncClient, staticDiscovery, type StatusDetail } from '../../src/client/index.js';

const fx = sharedEtcd();

async function replica(name: string): Promise<{ daemon: TyphaDaemon; port: number }> {
  const daemon = new TyphaDaemon(
    loadTyphaConfig({
      TYPHA_ETCDENDPOINTS: fx.etcd.endpoints.join(','),
      TYPHA_SERVERHOST: '127.0.0.1',
      TYPHA_SERVERPORT: '0',
      TYPHA_CONNECTIONREBALANCINGMODE: 'etcd',
      TYPHA_REBALANCEINTERVALSECS: '0.2',
      TYPHA_REBALANCEMAXSHEDPERINTERVAL: '3',
      TYPHA_REBALANCETOLERANCE: '0.1',
      TYPHA_REGISTRATIONTTLSECS: '5',
    }),
    { logger: silentLogger, serverId: name },
  );
  const { syncPort } = await daemon.start();
  return { daemon, port: syncPort };
}

const connections = (d: TyphaDaemon) => (d.status() as { total: number }).total;

test('replicas register, the loaded one sheds toward the idle one, shutdown hands off', async () => {
  const pool: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.9.0.0/16' } };
  await fx.ds.create(pool);
  const a = await replica('replica-a');
  const clients: SyncClient[] = [];
  const goodbyes: StatusDetail[] = [];
  let b: { daemon: TyphaDaemon; port: number } | undefined;
  try {
    // Every client knows only replica A: anything they learn about B comes from hints.
    for (let i = 0; i < 30; i++) {
      const c = new SyncClient({
        syncer: 'felix',
        node: `n${i}`,
        discovery: staticDiscovery(`127.0.0.1:${a.port}`),
        backoff: { delaysMs: [10, 20], jitter: 0, maxMs: 50 },
        maxGoodbyeDelayMs: 300,
        callbacks: {
          onStatus(status, detail) {
            if (status === 'disconnected' && detail.goodbye) goodbyes.push(detail);
          },
          onUpdates() {},
        },
      });
      clients.push(c);
      c.start();
    }
    await until(() => clients.every((c) => c.state === 'in-sync'), 'all clients in sync on A', 30_000);
    assert.equal(connections(a.daemon), 30);

    b = await replica('replica-b');
    const bb = b;
    await until(async () => (await fx.raw.range(REPLICA_PREFIX, { prefix: true })).kvs.length === 2, 'both registered', 30_000);
    // A sheds at most 3 per 0.2 s toward B until within 10% of the even split.
    await until(() => connections(bb.daemon) >= 12 && connections(a.daemon) <= 18, 'load balanced', 30_000);
    await until(() => clients.every((c) => c.state === 'in-sync'), 'everyone back in sync', 30_000);
    assert.ok(goodbyes.length >= 12);
    assert.ok(
      goodbyes.every((g) => g.goodbye?.reconnect?.includes(`:${bb.port}`)),
      'every shed client got a hint toward B',
    );
    assert.ok(
      goodbyes.every((g) => g.reason && g.code === 4007),
      'rebalance close code and a reason',
    );

    // Shutdown of A: its clients are handed off to B (staggered over 1 s), none left behind.
    const before = goodbyes.length;
    await a.daemon.stop({ handoffMs: 1000 });
    await until(() => connections(bb.daemon) === 30 && clients.every((c) => c.state === 'in-sync'), 'all on B after hand-off', 30_000).catch((e) => {
      throw new Error(
        `${e.message}: B has ${connections(bb.daemon)}; states ${clients.map((c) => c.state).join(',')}; goodbyes ${JSON.stringify(goodbyes.slice(before).map((g) => [g.code, g.goodbye?.reconnect]))}`,
      );
    });
    const handoffs = goodbyes.slice(before).filter((g) => g.code === 4008);
    assert.ok(handoffs.length >= 1);
    assert.ok(
      handoffs.every((g) => g.goodbye?.reconnect?.includes(`:${bb.port}`)),
      'shutdown goodbyes carry a hint toward B',
    );
    // Never a ping-pong: B, suddenly holding every client, does not shed any back toward A on
    // A's last report (stale, or saying it is leaving).
    assert.deepEqual(
      goodbyes.filter((g) => !g.goodbye?.reconnect?.includes(`:${bb.port}`)).map((g) => [g.code, g.goodbye?.reconnect]),
      [],
      'every goodbye, rebalancing or shutdown, pointed at B',
    );
    // A deregistered cleanly.
    const regs = (await fx.raw.range(REPLICA_PREFIX, { prefix: true })).kvs.map((kv) => kv.key.toString());
    assert.deepEqual(regs, [`${REPLICA_PREFIX}replica-b`]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await a.daemon.stop();
    await b?.daemon.stop();
  }
});
