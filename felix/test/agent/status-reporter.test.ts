import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { StatusReporter, lastStatusKey, statusKey, type StatusStore } from '../../src/agent/status-reporter.js';

class FakeStore implements StatusStore {
  next = 1;
  failing = false;
  readonly live = new Set<string>();
  readonly kv = new Map<string, { value: string; lease: string | undefined }>();
  async grant(): Promise<{ id: string }> {
    if (this.failing) throw new Error('etcd unreachable');
    const id = String(this.next++);
    this.live.add(id);
    return { id };
  }
  async put(key: string, value: string, o: { lease?: string }): Promise<void> {
    this.kv.set(key, { value, lease: o.lease });
  }
  async revoke(id: string): Promise<void> {
    this.live.delete(id);
    for (const [k, v] of this.kv) if (v.lease === id) this.kv.delete(k);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

test('each report is written under a fresh lease, and again without one as the last report; close removes the live one', async () => {
  const store = new FakeStore();
  const clock = new FakeClock();
  let inSync = false;
  const r = new StatusReporter({
    store,
    nodeName: 'n1',
    intervalMs: 1000,
    ttlSeconds: 90,
    clock,
    wallClock: () => 0,
    status: () => ({ inSync, typhaConnected: true, dataplaneErrors: 2 }),
  });
  r.start();
  await settle();
  assert.deepEqual(JSON.parse(store.kv.get(statusKey('n1'))!.value), {
    time: '1970-01-01T00:00:00.000Z',
    uptime: 0,
    first_update: true,
    inSync: false,
    typhaConnected: true,
    dataplaneErrors: 2,
  });
  assert.equal(clock.pending, 1);
  inSync = true;
  clock.advance(1000); // one interval
  await settle();
  const entry = store.kv.get(statusKey('n1'))!;
  assert.equal(JSON.parse(entry.value).inSync, true);
  assert.equal(JSON.parse(entry.value).uptime, 1, 'seconds since the reporter (Felix) started');
  assert.equal(JSON.parse(entry.value).first_update, false, 'only the first report says first_update');
  assert.equal(entry.lease, '2');
  assert.deepEqual([...store.live], ['2'], 'one lease alive at a time');
  const last = store.kv.get(lastStatusKey('n1'))!;
  assert.equal(last.lease, undefined, 'the last report has no lease');
  assert.equal(last.value, entry.value);
  await r.close();
  assert.deepEqual([...store.kv.keys()], [lastStatusKey('n1')], 'the live report goes with its lease; the last one stays');
  assert.equal(clock.pending, 0);
});

test('a failed report is retried on the next interval', async () => {
  const store = new FakeStore();
  store.failing = true;
  const clock = new FakeClock();
  const r = new StatusReporter({
    store,
    nodeName: 'n1',
    intervalMs: 1000,
    ttlSeconds: 90,
    clock,
    status: () => ({ inSync: true, typhaConnected: false, dataplaneErrors: 0 }),
  });
  r.start();
  await settle();
  assert.equal(store.kv.size, 0);
  assert.equal(clock.pending, 1, 'still scheduled');
  store.failing = false;
  clock.advance(1000); // one interval
  await settle();
  assert.equal(JSON.parse(store.kv.get(statusKey('n1'))!.value).typhaConnected, false);
  await r.close();
});
