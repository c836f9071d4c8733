// The Datastore boundary against a real etcd: CRUD with Calico's layout, compare-and-swap,
// consistent paged lists, corrupt values, watch resume across a cut connection, compaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { startTcpProxy } from '../../src/testing/index.js';
import { EtcdDatastore } from '../../src/etcd-datastore.js';
import { sharedEtcd } from '../../src/testing/index.js';
import { AlreadyExistsError, CompactedError, ConflictError, NotFoundError } from '../../src/errors.js';
import type { WatchEvent } from '../../src/datastore.js';

const fx = sharedEtcd();

function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26, ...extra } };
}

/** Resolves once `pred` holds over the events collected so far, or rejects after `ms`. */
function collector() {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  let waiter: (() => void) | undefined;
  return {
    events,
    errors,
    sink: {
      onEvents(evs: WatchEvent[]) {
        events.push(...evs);
        waiter?.();
      },
      onError(err: Error) {
        errors.push(err);
        waiter?.();
      },
    },
    until(pred: () => boolean, ms = 10_000): Promise<void> {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out; have ${events.length} events, ${errors.length} errors`)), ms);
        waiter = () => {
          if (pred()) {
            clearTimeout(t);
            waiter = undefined;
            resolve();
          }
        };
      });
    },
  };
}

test('create, get, update with CAS, delete — stored where and as Calico stores it', async () => {
  const created = await fx.ds.create(pool('crud-a', '10.10.0.0/16'));
  assert.ok(created.metadata.uid);
  assert.match(created.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const kv = await fx.raw.get('/calico/resources/v3/projectcalico.org/ippools/crud-a');
  assert.ok(kv);
  const stored = JSON.parse(kv.value.toString());
  assert.equal(stored.kind, 'IPPool');
  assert.equal(stored.metadata.resourceVersion, undefined);
  assert.equal(String(kv.modRevision), created.metadata.resourceVersion);

  await assert.rejects(fx.ds.create(pool('crud-a', '10.11.0.0/16')), AlreadyExistsError);

  const got = await fx.ds.get({ kind: 'IPPool', name: 'crud-a' });
  assert.deepEqual(got, created);

  const updated = await fx.ds.update({ ...got, spec: { ...got.spec, blockSize: 28 } });
  assert.equal(updated.metadata.uid, created.metadata.uid);
  assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));

  // A stale resourceVersion loses: compare-and-swap in one transaction.
  await assert.rejects(fx.ds.update({ ...got, spec: { ...got.spec, blockSize: 30 } }), ConflictError);
  await assert.rejects(fx.ds.delete({ kind: 'IPPool', name: 'crud-a' }, { resourceVersion: got.metadata.resourceVersion }), ConflictError);
  assert.equal(((await fx.ds.get({ kind: 'IPPool', name: 'crud-a' })).spec as { blockSize: number }).blockSize, 28);

  const deleted = await fx.ds.delete({ kind: 'IPPool', name: 'crud-a' }, { resourceVersion: updated.metadata.resourceVersion });
  assert.equal(deleted.metadata.name, 'crud-a');
  await assert.rejects(fx.ds.get({ kind: 'IPPool', name: 'crud-a' }), NotFoundError);
  await assert.rejects(fx.ds.update(updated), NotFoundError);
  await assert.rejects(fx.ds.delete({ kind: 'IPPool', name: 'crud-a' }), NotFoundError);
});

test('concurrent updates without a resourceVersion all land (retry), with one they conflict', async () => {
  await fx.ds.create(pool('race', '10.20.0.0/16'));
  const base = await fx.ds.get({ kind: 'IPPool', name: 'race' });
  const results = await Promise.allSettled([20, 21, 22, 23, 24].map((b) => fx.ds.update({ ...base, spec: { ...base.spec, blockSize: b } })));
  // All used the same resourceVersion: exactly one wins.
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof ConflictError));
  const unconditional = await Promise.all(
    [25, 26, 27].map((b) => {
      const { resourceVersion: _rv, ...meta } = base.metadata;
      return fx.ds.update({ ...base, metadata: meta, spec: { ...base.spec, blockSize: b } });
    }),
  );
  assert.equal(unconditional.length, 3);
});

test('namespaced kinds, list revision and paged lists at one revision', async () => {
  const np = (ns: string, name: string): Resource => ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec: { selector: 'all()' },
  });
  await fx.ds.create(np('ns-a', 'p1'));
  await fx.ds.create(np('ns-b', 'p2'));
  assert.deepEqual(
    (await fx.ds.list('NetworkPolicy', { namespace: 'ns-a' })).items.map((r) => r.metadata.name),
    ['p1'],
  );
  assert.equal((await fx.ds.list('networkpolicies')).items.length, 2);
  await assert.rejects(fx.ds.get({ kind: 'NetworkPolicy', name: 'p1', namespace: 'ns-b' }), NotFoundError);

  // More than one page (LIST_PAGE = 2000): 2,500 handles in one transaction batch of puts.
  const puts = [];
  for (let i = 0; i < 2500; i++) puts.push(fx.raw.put(`/calico/ipam/v2/handle/h-${String(i).padStart(5, '0')}`, '{"block":{},"deleted":false}'));
  await Promise.all(puts);
  const listed = await fx.ds.list('IPAMHandle');
  assert.equal(listed.items.length, 2500);
  const status = await fx.raw.status();
  assert.ok(listed.revision <= status.revision && listed.revision > 0);
  assert.equal(new Set(listed.items.map((h) => h.metadata.name)).size, 2500);
});

test('a corrupt value is reported for its key and does not stop a list or a watch', async () => {
  await fx.ds.create(pool('good-1', '10.30.0.0/16'));
  await fx.raw.put('/calico/resources/v3/projectcalico.org/ippools/bad-1', '{not json');
  await fx.ds.create(pool('good-2', '10.31.0.0/16'));
  const res = await fx.ds.list('IPPool');
  assert.ok(res.items.some((r) => r.metadata.name === 'good-1'));
  assert.ok(res.items.some((r) => r.metadata.name === 'good-2'));
  assert.deepEqual(
    res.errors.map((e) => e.key),
    ['/calico/resources/v3/projectcalico.org/ippools/bad-1'],
  );

  const c = collector();
  const w = fx.ds.watchPrefix('/calico/resources/v3/projectcalico.org/ippools/', res.revision + 1, c.sink);
  await fx.raw.put('/calico/resources/v3/projectcalico.org/ippools/bad-2', '[]');
  await fx.ds.create(pool('good-3', '10.32.0.0/16'));
  await c.until(() => c.events.some((e) => e.resource?.metadata.name === 'good-3'));
  w.close();
  const bad = c.events.find((e) => e.key.endsWith('/bad-2'));
  assert.ok(bad?.error);
  assert.equal(bad?.resource, undefined);
  assert.deepEqual(c.errors, []);
  await fx.raw.deleteRange('/calico/resources/v3/projectcalico.org/ippools/bad-', { prefix: true });
});

test('watch resumes after the connection is cut: every event once, in order', async () => {
  const proxy = await startTcpProxy('127.0.0.1', Number(new URL(fx.etcd.clientUrl).port));
  const viaProxy = new EtcdDatastore({ endpoints: [`http://127.0.0.1:${proxy.port}`], backoff: { delaysMs: [0, 10, 20], jitter: 0 } });
  try {
    const start = (await fx.ds.listPrefix('/calico/resources/v3/projectcalico.org/globalnetworksets/')).revision + 1;
    const c = collector();
    const w = viaProxy.watchPrefix('/calico/resources/v3/projectcalico.org/globalnetworksets/', start, c.sink);
    const N = 300;
    for (let i = 0; i < N; i++) {
      await fx.raw.put(
        `/calico/resources/v3/projectcalico.org/globalnetworksets/s${i}`,
        JSON.stringify({ kind: 'GlobalNetworkSet', apiVersion: 'projectcalico.org/v3', metadata: { name: `s${i}` }, spec: { nets: [] } }),
      );
      if (i % 60 === 30) proxy.cutAll();
    }
    await c.until(() => c.events.length >= N);
    w.close();
    assert.equal(c.events.length, N);
    assert.deepEqual(
      c.events.map((e) => e.resource?.metadata.name),
      Array.from({ length: N }, (_, i) => `s${i}`),
    );
    const revs = c.events.map((e) => e.revision);
    assert.ok(
      revs.every((r, i) => i === 0 || r > revs[i - 1]),
      'revisions strictly increase',
    );
    assert.deepEqual(c.errors, []);
  } finally {
    await viaProxy.close();
    await proxy.close();
  }
});

test('compaction while a watcher is behind surfaces as CompactedError', async () => {
  const first = await fx.ds.create(pool('compact-a', '10.40.0.0/16'));
  await fx.ds.update({ ...first, spec: { ...first.spec, blockSize: 27 } });
  const latest = await fx.ds.update({ ...(await fx.ds.get({ kind: 'IPPool', name: 'compact-a' })), spec: { cidr: '10.40.0.0/16', blockSize: 28 } });
  await fx.raw.compact(Number(latest.metadata.resourceVersion), true);
  const c = collector();
  fx.ds.watchPrefix('/calico/resources/v3/projectcalico.org/ippools/', Number(first.metadata.resourceVersion), c.sink);
  await c.until(() => c.errors.length > 0);
  assert.ok(c.errors[0] instanceof CompactedError);
  assert.equal(c.errors[0].compactRevision, Number(latest.metadata.resourceVersion));
  assert.equal(c.errors[0].code, 'DATASTORE_COMPACTED');
});

test('IPAM records: block affinity found by name, config singleton', async () => {
  const aff: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BlockAffinity',
    metadata: { name: 'node-1-10-50-0-0-26' },
    spec: { node: 'node-1', cidr: '10.50.0.0/26', state: 'confirmed', deleted: false },
  };
  await fx.ds.create(aff);
  const kv = await fx.raw.get('/calico/ipam/v2/host/node-1/ipv4/block/10.50.0.0-26');
  assert.deepEqual(JSON.parse(kv!.value.toString()), { state: 'confirmed', deleted: false });
  const got = await fx.ds.get({ kind: 'BlockAffinity', name: 'node-1-10-50-0-0-26' });
  assert.equal((got.spec as { node: string }).node, 'node-1');
  await fx.ds.delete({ kind: 'BlockAffinity', name: 'node-1-10-50-0-0-26' });
  assert.equal(await fx.raw.get('/calico/ipam/v2/host/node-1/ipv4/block/10.50.0.0-26'), undefined);
});
