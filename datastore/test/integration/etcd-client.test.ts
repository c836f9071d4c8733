/**
 * EtcdClient against a real etcd (KV, txn, leases, compaction, status, endpoint failover).
 * Watches are in etcd-watch.test.ts, auth and TLS in etcd-security.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { EtcdClient, compare, op, EtcdCompactedError, EtcdLeaseNotFoundError, type EtcdError } from '../../src/etcd/index.js';
import { startEtcd, until, type EtcdServer } from '../../src/testing/index.js';
import { withTimeout } from '../etcd/collector.js';

let server: EtcdServer;
let client: EtcdClient;

before(async () => {
  server = await startEtcd();
  client = new EtcdClient({ endpoints: server.endpoints });
});

after(async () => {
  client?.close();
  await server?.stop();
});

test('status reports the member and the current revision', async () => {
  const s = await client.status();
  assert.match(s.version, /^3\./);
  assert.equal(s.leader, s.memberId);
  assert.ok(s.revision >= 1);
});

test('put then range returns the value with revisions, and the header revision', async () => {
  const put = await client.put('/t/kv/a', 'alpha');
  const res = await client.range('/t/kv/a');
  assert.equal(res.kvs.length, 1);
  const kv = res.kvs[0];
  assert.deepEqual(kv.key, Buffer.from('/t/kv/a'));
  assert.equal(kv.value.toString(), 'alpha');
  assert.equal(kv.createRevision, put.revision);
  assert.equal(kv.modRevision, put.revision);
  assert.equal(kv.version, 1);
  assert.equal(kv.lease, '0');
  assert.ok(res.revision >= put.revision);

  const again = await client.put('/t/kv/a', Buffer.from([0, 1, 2, 255]), { prevKv: true });
  assert.equal(again.prevKv?.value.toString(), 'alpha');
  const kv2 = await client.get('/t/kv/a');
  assert.deepEqual(kv2?.value, Buffer.from([0, 1, 2, 255]));
  assert.equal(kv2?.version, 2);
  assert.equal(kv2?.createRevision, put.revision);
  assert.equal(kv2?.modRevision, again.revision);
  assert.equal(await client.get('/t/kv/missing'), undefined);
});

test('prefix range is ordered by key and honours limit, count, keysOnly and countOnly', async () => {
  for (const k of ['c', 'a', 'b', 'd']) await client.put(`/t/pre/${k}`, `v-${k}`);
  await client.put('/t/pre0', 'outside the prefix');
  const all = await client.range('/t/pre/', { prefix: true });
  assert.deepEqual(
    all.kvs.map((kv) => kv.key.toString()),
    ['/t/pre/a', '/t/pre/b', '/t/pre/c', '/t/pre/d'],
  );
  assert.equal(all.count, 4);
  assert.equal(all.more, false);

  const limited = await client.range('/t/pre/', { prefix: true, limit: 2 });
  assert.equal(limited.kvs.length, 2);
  assert.equal(limited.more, true);
  assert.equal(limited.count, 4);

  const keysOnly = await client.range('/t/pre/', { prefix: true, keysOnly: true });
  assert.equal(keysOnly.kvs[0].value.length, 0);

  const countOnly = await client.range('/t/pre/', { prefix: true, countOnly: true });
  assert.equal(countOnly.kvs.length, 0);
  assert.equal(countOnly.count, 4);

  const between = await client.range('/t/pre/b', { rangeEnd: '/t/pre/d' });
  assert.deepEqual(
    between.kvs.map((kv) => kv.key.toString()),
    ['/t/pre/b', '/t/pre/c'],
  );
});

test('range at an older revision sees the old value', async () => {
  const first = await client.put('/t/rev', 'one');
  await client.put('/t/rev', 'two');
  const old = await client.range('/t/rev', { revision: first.revision });
  assert.equal(old.kvs[0].value.toString(), 'one');
});

test('deleteRange removes one key or a prefix and returns previous values', async () => {
  await client.put('/t/del/a', '1');
  await client.put('/t/del/b', '2');
  await client.put('/t/del/c', '3');
  const one = await client.deleteRange('/t/del/a', { prevKv: true });
  assert.equal(one.deleted, 1);
  assert.equal(one.prevKvs[0].value.toString(), '1');
  const rest = await client.deleteRange('/t/del/', { prefix: true });
  assert.equal(rest.deleted, 2);
  assert.equal((await client.range('/t/del/', { prefix: true })).count, 0);
  const none = await client.deleteRange('/t/del/a');
  assert.equal(none.deleted, 0);
});

test('txn compare-and-swap succeeds on the expected modRevision and fails on a stale one', async () => {
  const created = await client.txn({
    compare: [compare.createRevision('/t/cas', '=', 0)],
    success: [op.put('/t/cas', 'v1')],
    failure: [op.range('/t/cas')],
  });
  assert.equal(created.succeeded, true);
  assert.equal(created.responses[0].type, 'put');

  const createAgain = await client.txn({
    compare: [compare.createRevision('/t/cas', '=', 0)],
    success: [op.put('/t/cas', 'clobbered')],
    failure: [op.range('/t/cas')],
  });
  assert.equal(createAgain.succeeded, false);
  const seen = createAgain.responses[0];
  assert.equal(seen.type, 'range');
  assert.equal(seen.type === 'range' ? seen.range.kvs[0].value.toString() : '', 'v1');

  const swapped = await client.txn({
    compare: [compare.modRevision('/t/cas', '=', created.revision)],
    success: [op.put('/t/cas', 'v2'), op.range('/t/cas')],
  });
  assert.equal(swapped.succeeded, true);
  assert.equal(swapped.responses.length, 2);
  const after2 = swapped.responses[1];
  assert.equal(after2.type === 'range' ? after2.range.kvs[0].value.toString() : '', 'v2');

  const stale = await client.txn({
    compare: [compare.modRevision('/t/cas', '=', created.revision)],
    success: [op.put('/t/cas', 'lost update')],
    failure: [op.delete('/t/cas-never')],
  });
  assert.equal(stale.succeeded, false);
  assert.equal(stale.responses[0].type, 'delete');
  assert.equal((await client.get('/t/cas'))?.value.toString(), 'v2');

  const byValue = await client.txn({ compare: [compare.value('/t/cas', '=', 'v2'), compare.version('/t/cas', '=', 2)] });
  assert.equal(byValue.succeeded, true);
});

test('lease: keys attached to a lease vanish when it is revoked', async () => {
  const lease = await client.grant(30);
  assert.ok(lease.ttl >= 30);
  assert.notEqual(lease.id, '0');
  await client.put('/t/lease/a', 'x', { lease: lease.id });
  await client.put('/t/lease/b', 'y', { lease: lease.id });
  const kv = await client.get('/t/lease/a');
  assert.equal(kv?.lease, lease.id);
  const ttl = await client.timeToLive(lease.id, true);
  assert.ok(ttl.ttl > 0 && ttl.ttl <= 30);
  assert.deepEqual(ttl.keys.map((k) => k.toString()).sort(), ['/t/lease/a', '/t/lease/b']);

  await client.revoke(lease.id);
  assert.equal((await client.range('/t/lease/', { prefix: true })).count, 0);
  assert.equal((await client.timeToLive(lease.id)).ttl, -1);
  await assert.rejects(client.revoke(lease.id), (e: EtcdError) => e instanceof EtcdLeaseNotFoundError);
  await assert.rejects(client.keepAlive(lease.id), (e: EtcdError) => e.code === 'ETCD_LEASE_NOT_FOUND');
});

test('lease keepalive renews, and reports the lease lost once it is revoked', async () => {
  const lease = await client.grant(3);
  const handle = await client.keepAlive(lease.id, { intervalMs: 100 });
  const [ttl] = (await withTimeout(once(handle, 'keepalive'), 5000, 'a keepalive')) as [number];
  assert.ok(ttl >= 2 && ttl <= 3, `ttl ${ttl}`);
  const lost = withTimeout(once(handle, 'lost'), 5000, 'lease lost');
  await client.revoke(lease.id);
  const [err] = (await lost) as [EtcdError];
  assert.equal(err.code, 'ETCD_LEASE_LOST');
  assert.match(err.message, /expired or was revoked/);
  assert.equal(handle.stopped, true);
});

test('a stopped keepalive stops renewing', async () => {
  const lease = await client.grant(5);
  const handle = await client.keepAlive(lease.id, { intervalMs: 100 });
  await withTimeout(once(handle, 'keepalive'), 5000, 'a keepalive');
  handle.stop();
  let renewed = false;
  handle.on('keepalive', () => (renewed = true));
  // TTL counts down without renewals: observe it drop by at least a second.
  const start = (await client.timeToLive(lease.id)).ttl;
  await until(async () => (await client.timeToLive(lease.id)).ttl < start, 'the lease TTL to count down', 5_000, 50);
  assert.ok((await client.timeToLive(lease.id)).ttl < start);
  assert.equal(renewed, false);
  await client.revoke(lease.id);
});

test('range at a compacted revision fails with EtcdCompactedError', async () => {
  const first = await client.put('/t/compact', 'a');
  const second = await client.put('/t/compact', 'b');
  await client.compact(second.revision, true);
  await assert.rejects(
    client.range('/t/compact', { revision: first.revision }),
    (e: EtcdError) => e instanceof EtcdCompactedError && e.code === 'ETCD_COMPACTED',
  );
});

test('a dead first endpoint is skipped in favour of the next one', async () => {
  const deadPort = await closedPort();
  const failover = new EtcdClient({ endpoints: [`http://127.0.0.1:${deadPort}`, ...server.endpoints], dialTimeoutMs: 1000 });
  try {
    const put = await failover.put('/t/failover', 'ok');
    assert.equal((await failover.get('/t/failover'))?.modRevision, put.revision);
  } finally {
    failover.close();
  }
});

test('no reachable endpoint gives ETCD_UNAVAILABLE, and a closed client ETCD_CLOSED', async () => {
  const deadPort = await closedPort();
  const nowhere = new EtcdClient({ endpoints: [`http://127.0.0.1:${deadPort}`], dialTimeoutMs: 300 });
  await assert.rejects(nowhere.status(), (e: EtcdError) => e.code === 'ETCD_UNAVAILABLE' && /no endpoint reachable/.test(e.message));
  nowhere.close();
  await assert.rejects(nowhere.status(), (e: EtcdError) => e.code === 'ETCD_CLOSED');
});

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}
