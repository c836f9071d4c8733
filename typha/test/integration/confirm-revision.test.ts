// A replica whose watch has seen no change for a while stands at the revision of the last
// change under /calico/, while etcd's revision keeps moving with writes elsewhere (replica
// registrations, Felix status). A client in sync on a replica that listed later is "ahead" of
// it by those revisions only. The replica confirms against etcd that nothing under /calico/
// changed since its revision, moves to etcd's, and serves the client at once, instead of
// waiting out its resume wait and handing it off as if it were behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import { silentLogger } from '../../src/common/logger.js';
import { TyphaDaemon } from '../../src/daemon/daemon.js';
import { loadTyphaConfig } from '../../src/config.js';
import { SyncClient, type StatusDetail } from '../../src/client/index.js';
import { SYNC_PATH } from '../../src/protocol/transport.js';

const fx = sharedEtcd();

async function replica(name: string): Promise<{ daemon: TyphaDaemon; url: string }> {
  const config = loadTyphaConfig({
    TYPHA_ETCDENDPOINTS: fx.etcd.endpoints.join(','),
    TYPHA_SERVERHOST: '127.0.0.1',
    TYPHA_SERVERPORT: '0',
    TYPHA_CONNECTIONREBALANCINGMODE: 'none',
  });
  // A minute of resume wait: only a progress answer can get the client in sync within the test.
  const daemon = new TyphaDaemon(config, { logger: silentLogger, serverId: name, tuning: { resumeWaitMs: 60_000 } });
  const { syncPort } = await daemon.start();
  await until(() => daemon.ready, `${name} ready`);
  return { daemon, url: `ws://127.0.0.1:${syncPort}${SYNC_PATH}` };
}

const revisionOf = (d: TyphaDaemon) => (d.status() as { revision: number }).revision;

test('a client ahead only by writes outside /calico/ is served at once, after the replica confirms its revision', async () => {
  await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.9.0.0/16' } });
  // A key under /calico/ that is no resource (Calico's Felix writes its status there): it counts
  // under the prefix in etcd's answer, so the replica must count it too, or never confirm.
  await fx.raw.put('/calico/felix/v2/no-region/host/n9/status', '{"time":"2026-12-04T00:00:00Z"}');
  const a = await replica('replica-a');
  // etcd moves on outside /calico/; A's watch sees nothing of it.
  for (let i = 0; i < 5; i++) await fx.raw.put(`/cattail/elsewhere/${i}`, 'x');
  const b = await replica('replica-b');
  const aRevision = revisionOf(a.daemon);
  assert.ok(revisionOf(b.daemon) > aRevision, `B listed at ${revisionOf(b.daemon)}, above A's ${aRevision}`);

  let target = b.url;
  const statuses: Array<{ status: string; detail: StatusDetail }> = [];
  const client = new SyncClient({
    syncer: 'felix',
    node: 'n1',
    discovery: { endpoints: async () => [{ url: target }] },
    backoff: { delaysMs: [0, 20], jitter: 0, maxMs: 20 },
    callbacks: {
      onStatus: (status, detail) => statuses.push({ status, detail }),
      onUpdates() {},
    },
    logger: silentLogger,
  });
  try {
    client.start();
    await until(() => client.state === 'in-sync' && client.connectedTo === b.url, 'in sync on B');
    const floor = client.revision;
    assert.ok(floor > aRevision);

    // Move it to A: its floor is above A's revision, by revisions A has nothing to learn from.
    target = a.url;
    b.daemon.server.shed(1, { reconnect: a.url });
    const started = Date.now();
    await until(() => client.state === 'in-sync' && client.connectedTo === a.url, 'in sync on A', 20_000);
    const waited = Date.now() - started;
    assert.ok(waited < 20_000, `served in ${waited} ms, far below the 60 s resume wait`);
    assert.ok(client.revision >= floor, 'never below where it was');
    assert.ok(revisionOf(a.daemon) >= floor, 'A moved its revision forward');
    assert.equal(statuses.filter((s) => s.detail.code === 4012).length, 0, 'no ReplicaBehind hand-off');
    assert.deepEqual(
      client.snapshot().map((u) => u.name),
      ['p'],
    );
    assert.equal((a.daemon.status() as { watcher: { confirmations: number } }).watcher.confirmations, 1);
  } finally {
    await client.close();
    await a.daemon.stop();
    await b.daemon.stop();
  }
});
