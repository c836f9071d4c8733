/**
 * KubeDatastore watches against a real kube-apiserver: order, the etcd-key mapping of
 * watchPrefix, a connection reset and a frozen connection (through a TCP proxy that can cut or
 * freeze), and the 410 path: a watch whose resourceVersion was compacted while it was away
 * relists and delivers only what changed, with synthesised deletes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKey, type Resource } from '@cattail/api';
import { applyCalicoCrds, startKubeApiServer, startTcpProxy, until, type KubeApiServer, type TcpProxy } from '../../src/testing/index.js';
import { KubeDatastore } from '../../src/kdd/kube-datastore.js';
import { CompactedError } from '../../src/errors.js';
import type { WatchEvent, WatchSink } from '../../src/datastore.js';

const POOLS = '/calico/resources/v3/projectcalico.org/ippools/';

function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26, ...extra } };
}

function collector(): { events: WatchEvent[]; errors: Error[]; statuses: string[]; sink: WatchSink; summary(from?: number): string[] } {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const statuses: string[] = [];
  return {
    events,
    errors,
    statuses,
    sink: {
      onEvents: (evs) => events.push(...evs),
      onError: (err) => errors.push(err),
      onStatus: (s) => statuses.push(s),
    },
    /** `put pool-a natOutgoing=…` lines, from event index `from` on. */
    summary: (from = 0) =>
      events.slice(from).map((e) => {
        const name = (e.resource ?? e.previous)?.metadata.name ?? e.key;
        return e.type === 'put' ? `put ${name} nat=${String(e.resource?.spec?.natOutgoing ?? false)}` : `delete ${name}`;
      }),
  };
}

function viaProxy(kube: KubeApiServer, proxy: TcpProxy, heartbeatTimeoutMs = 90_000): KubeDatastore {
  return new KubeDatastore({
    config: { server: `https://127.0.0.1:${proxy.port}`, ca: kube.ca, cert: kube.clientCert, key: kube.clientKey },
    watch: { heartbeatTimeoutMs, backoff: { delaysMs: [50, 100, 200], jitter: 0 } },
  });
}

describe('KubeDatastore watch on a real kube-apiserver (watch cache on)', () => {
  let kube: KubeApiServer;
  let ds: KubeDatastore;
  let proxy: TcpProxy;

  before(async () => {
    kube = await startKubeApiServer();
    await applyCalicoCrds(kube);
    ds = new KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(kube.url).port));
  });

  after(async () => {
    await ds?.close();
    await proxy?.close();
    await kube?.stop();
  });

  test('watchKind delivers the list, then create, update and delete in order, each once', async (t) => {
    await ds.create(pool('w-existing', '10.90.0.0/24'));
    const c = collector();
    const w = ds.watchKind('IPPool', c.sink);
    t.after(() => w.close());
    await until(() => c.events.length >= 1, 'the initial list');
    const created = await ds.create(pool('w-new', '10.91.0.0/24'));
    const updated = await ds.update({ ...created, spec: { ...created.spec, natOutgoing: true } });
    await ds.delete({ kind: 'IPPool', name: 'w-new' });
    await until(
      () => c.events.length >= 4,
      () => `4 events, have ${c.summary().join(', ')}`,
    );
    assert.deepEqual(c.summary(), ['put w-existing nat=false', 'put w-new nat=false', 'put w-new nat=true', 'delete w-new']);
    assert.equal(c.events[2].revision, Number(updated.metadata.resourceVersion));
    assert.equal(c.events[3].previous?.spec?.natOutgoing, true, 'a delete carries what was deleted');
    const revs = c.events.slice(1).map((e) => e.revision);
    assert.deepEqual(
      revs,
      [...revs].sort((a, b) => a - b),
    );
    assert.deepEqual(c.errors, []);
    assert.equal(w.watches, 1, 'one watch request, never re-made');
    await ds.delete({ kind: 'IPPool', name: 'w-existing' });
  });

  test('watchPrefix from listPrefix revision + 1 sees only later changes, under etcd keys parseKey reads', async (t) => {
    await ds.create(pool('p-before', '10.92.0.0/24'));
    const listed = await ds.listPrefix(POOLS);
    assert.ok(listed.entries.some((e) => e.key === `${POOLS}p-before`));
    await ds.create(pool('p-after', '10.93.0.0/24'));
    const c = collector();
    const w = ds.watchPrefix(POOLS, listed.revision + 1, c.sink);
    t.after(() => w.close());
    await until(() => c.events.length >= 1, 'the change after the list');
    await ds.delete({ kind: 'IPPool', name: 'p-before' });
    await until(
      () => c.events.length >= 2,
      () => `2 events, have ${c.summary().join(', ')}`,
    );
    assert.deepEqual(c.summary(), ['put p-after nat=false', 'delete p-before']);
    assert.equal(c.events[0].key, `${POOLS}p-after`);
    assert.equal(parseKey(c.events[0].key)?.kind.kind, 'IPPool');
    await ds.delete({ kind: 'IPPool', name: 'p-after' });
  });

  test('a reset connection is re-watched from the last resourceVersion: nothing lost, nothing replayed', async (t) => {
    const pds = viaProxy(kube, proxy);
    t.after(() => pds.close());
    const c = collector();
    const w = pds.watchKind('IPPool', c.sink);
    t.after(() => w.close());
    await until(() => w.watches === 1 && c.statuses.includes('connected'), 'connected');
    await ds.create(pool('r-one', '10.94.0.0/24'));
    await until(() => c.events.length >= 1, 'r-one');
    proxy.cutAll();
    await ds.create(pool('r-two', '10.95.0.0/24'));
    await until(
      () => c.events.length >= 2,
      () => `r-two after the reset, have ${c.summary().join(', ')}`,
    );
    assert.deepEqual(c.summary(), ['put r-one nat=false', 'put r-two nat=false']);
    assert.ok(w.watches >= 2, 'the watch was re-made');
    assert.equal(w.relists, 0);
    await ds.delete({ kind: 'IPPool', name: 'r-one' });
    await ds.delete({ kind: 'IPPool', name: 'r-two' });
    await until(() => c.events.length >= 4, 'the deletes');
  });

  test('a frozen (half-open) connection is noticed by the heartbeat timeout and re-made; a live one is not', async (t) => {
    const pds = viaProxy(kube, proxy, 2000);
    t.after(() => pds.close());
    const c = collector();
    const w = pds.watchKind('IPPool', c.sink);
    t.after(() => w.close());
    await until(() => c.statuses.includes('connected'), 'connected');
    // Traffic every 250 ms for 3 s (past the 2 s heartbeat): the watch stays the same one.
    const beat = await ds.create(pool('f-beat', '10.97.0.0/24'));
    for (let i = 0, cur = beat; i < 12; i++) {
      cur = await ds.update({ ...cur, spec: { ...cur.spec, natOutgoing: i % 2 === 0 } });
      await until(() => c.events.some((e) => e.revision === Number(cur.metadata.resourceVersion)), 'the beat', 5000, 10);
      await new Promise((r) => setTimeout(r, 250)); // pacing the traffic, not synchronisation
    }
    assert.equal(w.watches, 1, 'a watch that receives data is never timed out');
    proxy.freeze();
    t.after(() => proxy.thaw());
    const frozenAt = Date.now();
    await until(() => c.statuses.includes('reconnecting'), 'the heartbeat to fire', 10_000);
    const noticedMs = Date.now() - frozenAt;
    assert.ok(noticedMs >= 1500 && noticedMs < 6000, `noticed after ${noticedMs} ms with a 2000 ms heartbeat`);
    proxy.thaw();
    await ds.create(pool('f-one', '10.96.0.0/24'));
    await until(
      () => c.events.some((e) => e.resource?.metadata.name === 'f-one'),
      () => `f-one after the thaw, have ${c.summary().join(', ')}`,
    );
    assert.equal(c.summary().filter((s) => s.includes('f-one')).length, 1);
    assert.ok(w.watches >= 2);
    await ds.delete({ kind: 'IPPool', name: 'f-one' });
    await ds.delete({ kind: 'IPPool', name: 'f-beat' });
  });
});

/**
 * Without the watch cache a CRD watch is served from etcd, so a compaction past the watcher's
 * resourceVersion is what makes it too old: the re-watch gets the in-stream ERROR 410.
 */
describe('KubeDatastore watch after a 410 (watch cache off, etcd compacted)', () => {
  let kube: KubeApiServer;
  let ds: KubeDatastore;
  let proxy: TcpProxy;

  before(async () => {
    kube = await startKubeApiServer({ extraArgs: ['--watch-cache=false'] });
    await applyCalicoCrds(kube);
    ds = new KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(kube.url).port));
  });

  after(async () => {
    await ds?.close();
    await proxy?.close();
    await kube?.stop();
  });

  test('cut while objects change, compacted past it: the relist delivers only the real changes and synthesised deletes', async (t) => {
    const a = await ds.create(pool('c-a', '10.100.0.0/24'));
    const b = await ds.create(pool('c-b', '10.101.0.0/24'));
    await ds.create(pool('c-same', '10.102.0.0/24'));
    const pds = viaProxy(kube, proxy);
    t.after(() => pds.close());
    const c = collector();
    const w = pds.watchKind('IPPool', c.sink);
    t.after(() => w.close());
    await until(() => c.events.length >= 3 && c.statuses.includes('connected'), 'the initial list');
    const initial = c.events.length;

    proxy.cut(); // the watcher keeps retrying until heal()
    t.after(() => proxy.heal());
    await ds.delete({ kind: 'IPPool', name: 'c-a' }, { resourceVersion: a.metadata.resourceVersion });
    const b2 = await ds.update({ ...b, spec: { ...b.spec, natOutgoing: true } });
    const d = await ds.create(pool('c-d', '10.103.0.0/24'));
    await kube.etcd.etcdctl('compact', d.metadata.resourceVersion ?? '');
    proxy.heal();

    await until(
      () => w.relists >= 1 && c.events.length >= initial + 3,
      () => `relist and 3 changes, have ${c.summary(initial).join(', ')}`,
    );
    assert.deepEqual([...c.summary(initial)].sort(), ['delete c-a', 'put c-b nat=true', 'put c-d nat=false']);
    const del = c.events.slice(initial).find((e) => e.type === 'delete');
    assert.equal(del?.previous?.metadata.name, 'c-a', 'the synthesised delete carries what the sink had');
    assert.equal(c.events.slice(initial).find((e) => e.resource?.metadata.name === 'c-b')?.revision, Number(b2.metadata.resourceVersion));
    assert.equal(w.relists, 1);

    // And the watch goes on from the relist.
    await ds.delete({ kind: 'IPPool', name: 'c-same' });
    await until(() => c.summary(initial).includes('delete c-same'), 'a change after the relist');
    assert.equal(c.events.length, initial + 4, 'nothing replayed');
    assert.deepEqual(c.errors, []);
  });

  test('watchPrefix from a compacted revision ends with CompactedError, as with etcd', async (t) => {
    const latest = await ds.create(pool('z-latest', '10.104.0.0/24'));
    await kube.etcd.etcdctl('compact', latest.metadata.resourceVersion ?? '');
    const c = collector();
    const w = ds.watchPrefix(POOLS, 2, c.sink);
    t.after(() => w.close());
    await until(() => c.errors.length > 0, 'the error');
    assert.ok(c.errors[0] instanceof CompactedError, String(c.errors[0]));
    assert.deepEqual(c.events, []);
  });
});
