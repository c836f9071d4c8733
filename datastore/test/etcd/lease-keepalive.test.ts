import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { LeaseKeepAlive } from '../../src/etcd/lease-keepalive.js';
import type { EtcdLeaseLostError } from '../../src/etcd/errors.js';
import { FakeTransport, header } from './fake-transport.js';

function keepaliveResponse(ttl: number): object {
  return { header: header(1), ID: '7', TTL: String(ttl) };
}

test('renews on open and on each interval; each answer is a keepalive with its TTL', async () => {
  const t = new FakeTransport();
  let done = 0;
  const h = new LeaseKeepAlive(t, '7', 30, { intervalMs: 20 }, () => done++);
  const call = await t.nextCall(0);
  assert.deepEqual(call.written, [{ ID: '7' }]);
  const got = once(h, 'keepalive');
  call.emit('data', keepaliveResponse(29));
  assert.deepEqual(await got, [29]);
  assert.equal(h.ttl, 29);
  const start = call.written.length;
  await new Promise<void>((resolve) => {
    const poll = (): void => (call.written.length > start ? resolve() : void setImmediate(poll));
    poll();
  });
  assert.deepEqual(call.written.at(-1), { ID: '7' });
  h.stop();
  assert.equal(done, 1);
  assert.equal(call.canceled, true);
});

test('TTL 0 from etcd means the lease is gone: lost, once, and stopped', async () => {
  const t = new FakeTransport();
  const h = new LeaseKeepAlive(t, '7', 30, {}, () => {});
  const call = await t.nextCall(0);
  const lost = once(h, 'lost');
  call.emit('data', keepaliveResponse(0));
  const [err] = (await lost) as [EtcdLeaseLostError];
  assert.equal(err.code, 'ETCD_LEASE_LOST');
  assert.equal(err.leaseId, '7');
  assert.equal(h.stopped, true);
  assert.equal(call.canceled, true);
});

test('a failed stream is reopened and renewal resumes on the new one', async () => {
  const t = new FakeTransport();
  const h = new LeaseKeepAlive(t, '7', 30, { intervalMs: 60_000 }, () => {});
  const first = await t.nextCall(0);
  first.fail();
  const second = await t.nextCall(1);
  assert.deepEqual(second.written, [{ ID: '7' }]);
  assert.deepEqual(t.unavailable, [0]);
  assert.deepEqual(t.delays, [10]);
  h.stop();
});

test('no confirmed renewal before the TTL runs out means lost', async () => {
  const t = new FakeTransport();
  const h = new LeaseKeepAlive(t, '7', 0.05, { intervalMs: 60_000 }, () => {});
  const [err] = (await once(h, 'lost')) as [EtcdLeaseLostError];
  assert.match(err.message, /no renewal confirmed/);
  assert.equal(h.stopped, true);
});
