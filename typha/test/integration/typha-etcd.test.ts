// A whole Typha in-process against a real etcd, with real sockets and real SyncClients:
// convergence under random churn, resume that sends only the changes, compaction while a
// client is away, a restart, a corrupt value, and readiness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import type { Resource } from '@cattail/api';
import { TyphaDaemon } from '../../src/daemon/daemon.js';
import { loadTyphaConfig, type TyphaConfig } from '../../src/config.js';
import { SyncClient, staticDiscovery, type Update } from '../../src/client/index.js';
import { PROJECTIONS, projectUpdate } from '../../src/pipeline/index.js';
import { rawSync } from '../../src/testing/index.js';
import type { SyncerType } from '../../src/protocol/messages.js';

const fx = sharedEtcd();

function config(extra: Record<string, string> = {}): TyphaConfig {
  return loadTyphaConfig({
    TYPHA_ETCDENDPOINTS: fx.etcd.endpoints.join(','),
    TYPHA_SERVERHOST: '127.0.0.1',
    TYPHA_SERVERPORT: '0',
    TYPHA_CONNECTIONREBALANCINGMODE: 'none',
    TYPHA_SERVERBATCHWINDOWMS: '5',
    ...extra,
  });
}

async function startTypha(extra: Record<string, string> = {}): Promise<{ daemon: TyphaDaemon; port: number }> {
  const daemon = new TyphaDaemon(config(extra), { logger: quietLogger });
  const { syncPort } = await daemon.start();
  await until(() => daemon.ready, 'typha ready');
  return { daemon, port: syncPort };
}

const quietLogger = { error() {}, warn() {}, info() {}, debug() {}, child: () => quietLogger };

const wep = (ns: string, pod: string, node: string, n: number): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: {
    name: `${node}-k8s-${pod}-eth0`,
    namespace: ns,
    labels: { app: `a${n % 7}`, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s' },
  },
  spec: {
    node,
    orchestrator: 'k8s',
    pod,
    endpoint: 'eth0',
    interfaceName: `cali${String(n).padStart(11, '0')}`,
    ipNetworks: [`10.65.${(n >> 8) & 255}.${n & 255}/32`],
  },
});
const bgpPeer = (name: string, asn: number): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'BGPPeer',
  metadata: { name },
  spec: { peerIP: '192.0.2.1', asNumber: asn },
});

/** What a syncer should hold: the datastore's current content, projected. */
async function expectedState(syncer: SyncerType): Promise<Map<string, string>> {
  const { entries } = await fx.ds.listPrefix();
  const out = new Map<string, string>();
  for (const e of entries) {
    if (!e.resource) continue;
    const u = projectUpdate(
      syncer,
      {
        key: e.key,
        kind: e.resource.kind,
        name: e.resource.metadata.name,
        namespace: e.resource.metadata.namespace,
        revision: e.revision,
        resource: e.resource,
      },
      PROJECTIONS,
    );
    if (u?.value) out.set(`${u.kind}/${u.namespace ?? ''}/${u.name}`, JSON.stringify(u.value));
  }
  return out;
}

function clientState(c: SyncClient): Map<string, string> {
  return new Map(
    c
      .snapshot()
      .filter((u: Update) => u.value)
      .map((u) => [`${u.kind}/${u.namespace ?? ''}/${u.name}`, JSON.stringify(u.value)]),
  );
}

function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

test('hundreds of clients of two syncers converge on the datastore under random churn', async () => {
  const { daemon, port } = await startTypha();
  const clients: SyncClient[] = [];
  const seen = new Map<SyncClient, Map<string, number>>();
  let duplicates = 0;
  try {
    for (let i = 0; i < 200; i++) await fx.ds.create(wep('conv', `p${i}`, `node${i % 10}`, i));
    for (let i = 0; i < 300; i++) {
      const syncer: SyncerType = i % 3 === 0 ? 'bgp' : 'felix';
      const revs = new Map<string, number>();
      const c: SyncClient = new SyncClient({
        syncer,
        node: `node${i}`,
        discovery: staticDiscovery(`127.0.0.1:${port}`),
        callbacks: {
          onStatus() {},
          onUpdates(updates) {
            for (const u of updates) {
              const k = `${u.kind}/${u.namespace ?? ''}/${u.name}`;
              if (revs.get(k) === u.revision) duplicates++;
              revs.set(k, u.revision);
            }
          },
        },
      });
      seen.set(c, revs);
      clients.push(c);
      c.start();
    }
    // Random creates, updates and deletes while clients connect.
    const live = new Set(Array.from({ length: 200 }, (_, i) => i));
    let next = 200;
    for (let op = 0; op < 400; op++) {
      const r = randomInt(10);
      if (r < 4) {
        await fx.ds.create(wep('conv', `p${next}`, `node${next % 10}`, next));
        live.add(next++);
      } else if (r < 7 && live.size) {
        const n = [...live][randomInt(live.size)];
        const cur = await fx.ds.get({ kind: 'WorkloadEndpoint', namespace: 'conv', name: `node${n % 10}-k8s-p${n}-eth0` });
        await fx.ds.update({ ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, app: `b${op}` } } });
      } else if (r < 9 && live.size) {
        const n = [...live][randomInt(live.size)];
        await fx.ds.delete({ kind: 'WorkloadEndpoint', namespace: 'conv', name: `node${n % 10}-k8s-p${n}-eth0` });
        live.delete(n);
      } else {
        await fx.ds.create(bgpPeer(`peer-${op}`, 64000 + op));
      }
    }
    const want = { felix: await expectedState('felix'), bgp: await expectedState('bgp') };
    await until(() => clients.every((c, i) => sameState(clientState(c), want[i % 3 === 0 ? 'bgp' : 'felix'])), 'all clients converged', 60_000);
    assert.equal(duplicates, 0, 'no update delivered twice');
    assert.ok(want.felix.size > 200 && want.bgp.size > 0);
    const status = daemon.status() as { connections: Record<string, number> };
    assert.equal(status.connections.felix, 200);
    assert.equal(status.connections.bgp, 100);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await daemon.stop();
    await fx.raw.deleteRange('/calico/', { prefix: true });
  }
});

test('a resume receives only what changed (bytes ≪ snapshot); compaction while away still resumes from tombstones', async () => {
  const { daemon, port } = await startTypha();
  try {
    for (let i = 0; i < 500; i++) await fx.ds.create(wep('res', `p${i}`, `node${i % 5}`, i));
    // Wait for the felix cache itself (not just the watcher: the batcher may still hold the
    // last window), so the snapshot below has all 500 endpoints.
    const loaded = (await fx.raw.status()).revision;
    const cacheRevision = () => (daemon.status() as { cache: { felix: { revision: number } } }).cache.felix.revision;
    await until(() => cacheRevision() >= loaded, 'typha has the 500 endpoints');
    const first = await rawSync(port);
    assert.equal(first.hello.mode, 'snapshot');
    first.ws.close();
    // While away: 3 updates and 2 deletes.
    for (const i of [1, 2, 3]) {
      const cur = await fx.ds.get({ kind: 'WorkloadEndpoint', namespace: 'res', name: `node${i % 5}-k8s-p${i}-eth0` });
      await fx.ds.update({ ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, app: 'changed' } } });
    }
    for (const i of [10, 11]) await fx.ds.delete({ kind: 'WorkloadEndpoint', namespace: 'res', name: `node${i % 5}-k8s-p${i}-eth0` });
    // Compact etcd past everything: Typha keeps its own tombstones, so this does not force a snapshot.
    await fx.raw.compact((await fx.raw.status()).revision, true);
    const wantRev = (await fx.raw.status()).revision;
    await until(() => cacheRevision() >= wantRev, 'typha caught up');
    const resumed = await rawSync(port, { revision: first.revision, datastoreId: first.hello.datastoreId });
    resumed.ws.close();
    assert.equal(resumed.hello.mode, 'resume');
    const updates = resumed.messages.flatMap((m) => (m.type === 'deltas' || m.type === 'snapshot' ? m.updates : []));
    assert.equal(updates.length, 5, JSON.stringify(updates.map((u) => [u.name, u.revision, !!u.value]).concat([['first', first.revision, false]])));
    assert.equal(updates.filter((u) => !u.value).length, 2);
    assert.ok(resumed.bytes * 20 < first.bytes, `resume ${resumed.bytes} B vs snapshot ${first.bytes} B`);

    // A resume from another datastore (wrong id) gets a full snapshot.
    const other = await rawSync(port, { revision: first.revision, datastoreId: 'another-cluster' });
    other.ws.close();
    assert.equal(other.hello.mode, 'snapshot');
  } finally {
    await daemon.stop();
    await fx.raw.deleteRange('/calico/', { prefix: true });
  }
});

test('Typha restart: clients reconnect to the new replica and converge without seeing unchanged keys again', async () => {
  let { daemon, port } = await startTypha();
  const delivered: Update[][] = [];
  const c = new SyncClient({
    syncer: 'felix',
    node: 'restart-node',
    discovery: staticDiscovery(`127.0.0.1:${port}`),
    backoff: { delaysMs: [10, 20, 50], jitter: 0, maxMs: 100 },
    callbacks: { onStatus() {}, onUpdates: (u) => delivered.push(u) },
  });
  try {
    for (let i = 0; i < 50; i++) await fx.ds.create(wep('rst', `p${i}`, 'n1', i));
    c.start();
    await until(() => c.state === 'in-sync' && clientState(c).size >= 50, 'first sync');
    const before = delivered.flat().length;
    await daemon.stop();
    // While Typha is down: one change and one deletion.
    const cur = await fx.ds.get({ kind: 'WorkloadEndpoint', namespace: 'rst', name: 'n1-k8s-p0-eth0' });
    await fx.ds.update({ ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, app: 'after-restart' } } });
    await fx.ds.delete({ kind: 'WorkloadEndpoint', namespace: 'rst', name: 'n1-k8s-p1-eth0' });
    ({ daemon } = await startTypha({ TYPHA_SERVERPORT: String(port) }));
    const want = await expectedState('felix');
    await until(() => c.state === 'in-sync' && sameState(clientState(c), want), 'converged after restart');
    // The new replica had to send a snapshot (its history starts at its own list), but the
    // client reconciled: its consumer saw only the two real changes.
    const after = delivered.flat().slice(before);
    assert.deepEqual(after.map((u) => `${u.name}:${u.value ? 'put' : 'del'}`).sort(), ['n1-k8s-p0-eth0:put', 'n1-k8s-p1-eth0:del']);
  } finally {
    await c.close();
    await daemon.stop();
    await fx.raw.deleteRange('/calico/', { prefix: true });
  }
});

test('a corrupt or invalid value in fx.etcd is served as a deletion and counted; everything else flows', async () => {
  const { daemon, port } = await startTypha();
  const c = new SyncClient({ syncer: 'bgp', node: 'n', discovery: staticDiscovery(`127.0.0.1:${port}`), callbacks: { onStatus() {}, onUpdates() {} } });
  try {
    await fx.ds.create(bgpPeer('good', 64512));
    c.start();
    await until(() => clientState(c).has('BGPPeer//good'), 'good peer');
    await fx.raw.put('/calico/resources/v3/projectcalico.org/bgppeers/good', '{broken');
    await fx.ds.create(bgpPeer('later', 64513));
    await until(() => clientState(c).has('BGPPeer//later') && !clientState(c).has('BGPPeer//good'), 'corrupt value dropped');
    await fx.raw.put(
      '/calico/resources/v3/projectcalico.org/bgppeers/invalid',
      JSON.stringify({ kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'invalid' }, spec: { peerIP: 'not-an-ip', asNumber: 1 } }),
    );
    await fx.ds.create(bgpPeer('last', 64514));
    await until(() => clientState(c).has('BGPPeer//last'), 'later writes flow');
    assert.equal(clientState(c).has('BGPPeer//invalid'), false);
    const v = (daemon.status() as { validation: { invalidUpdates: number; decodeErrors: number } }).validation;
    assert.ok(v.invalidUpdates + v.decodeErrors >= 2, JSON.stringify(v));
  } finally {
    await c.close();
    await daemon.stop();
    await fx.raw.deleteRange('/calico/', { prefix: true });
  }
});

test('away longer than the tombstone window: a full resync, and the consumer sees exactly the real changes', async () => {
  const { daemon, port } = await startTypha({ TYPHA_MAXTOMBSTONES: '0', TYPHA_DELTALOGMAXBATCHES: '0' });
  const delivered: Update[] = [];
  const modes: string[] = [];
  const c = new SyncClient({
    syncer: 'felix',
    node: 'away-node',
    discovery: staticDiscovery(`127.0.0.1:${port}`),
    backoff: { delaysMs: [10], jitter: 0, maxMs: 20 },
    callbacks: {
      onStatus(status, detail) {
        if (status === 'resync' && detail.mode) modes.push(detail.mode);
      },
      onUpdates: (u) => delivered.push(...u),
    },
  });
  try {
    for (let i = 0; i < 40; i++) await fx.ds.create(wep('away', `p${i}`, 'n2', i));
    c.start();
    await until(() => c.state === 'in-sync' && clientState(c).size >= 40, 'first sync');
    const seen = delivered.length;
    // Send the client away for a while (Goodbye with a delay), and change things meanwhile.
    daemon.server.shed(1, { delayMs: 1500 });
    await until(() => c.state !== 'in-sync', 'client away');
    for (const i of [5, 6, 7]) await fx.ds.delete({ kind: 'WorkloadEndpoint', namespace: 'away', name: `n2-k8s-p${i}-eth0` });
    await fx.ds.create(wep('away', 'p100', 'n2', 100));
    await fx.raw.compact((await fx.raw.status()).revision, true);
    const want = await expectedState('felix');
    await until(() => modes.length >= 2 && c.state === 'in-sync' && sameState(clientState(c), want), 'resynced');
    assert.equal(modes[1], 'snapshot', 'deletions were forgotten, so a resume is impossible');
    const after = delivered
      .slice(seen)
      .map((u) => `${u.name}:${u.value ? 'put' : 'del'}`)
      .sort();
    assert.deepEqual(after, ['n2-k8s-p100-eth0:put', 'n2-k8s-p5-eth0:del', 'n2-k8s-p6-eth0:del', 'n2-k8s-p7-eth0:del']);
  } finally {
    await c.close();
    await daemon.stop();
    await fx.raw.deleteRange('/calico/', { prefix: true });
  }
});
