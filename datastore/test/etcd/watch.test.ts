import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdWatch, type WatchSink } from '../../src/etcd/watch.js';
import { EtcdCompactedError, EtcdPermissionDeniedError, EtcdConfigError, type EtcdError } from '../../src/etcd/errors.js';
import type { WatchEvent } from '../../src/etcd/types.js';
import { FakeTransport, event, header, type FakeCall } from './fake-transport.js';

interface Recorded {
  batches: Array<{ events: WatchEvent[]; revision: number }>;
  progress: number[];
  errors: EtcdError[];
  statuses: string[];
}

function recorder(): WatchSink & Recorded {
  const r: Recorded = { batches: [], progress: [], errors: [], statuses: [] };
  return {
    ...r,
    onEvents: (events, revision) => r.batches.push({ events, revision }),
    onProgress: (rev) => r.progress.push(rev),
    onError: (err) => r.errors.push(err),
    onStatus: (s) => r.statuses.push(s),
  };
}

function startRevisionOf(call: FakeCall): number {
  const create = (call.written[0] as { create_request: { start_revision: number } }).create_request;
  return create.start_revision;
}

function revisions(r: Recorded): number[] {
  return r.batches.flatMap((b) => b.events.map((e) => e.kv.modRevision));
}

test('asks for one revision before the start (a compaction at the start must refuse the watch) and delivers events from the start on', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/p/', prefix: true, startRevision: 5 }, sink, () => {});
  const call = await t.nextCall(0);
  const create = (call.written[0] as { create_request: { key: Buffer; range_end: Buffer; start_revision: number; fragment: boolean } }).create_request;
  assert.deepEqual(create.key, Buffer.from('/p/'));
  assert.deepEqual(create.range_end, Buffer.from('/p0'));
  assert.equal(create.start_revision, 4);
  assert.equal(create.fragment, false);
  call.respond({ created: true, header: header(9) });
  // Revision 4 is the caller's (its list's): not delivered again.
  call.respond({ header: header(9), events: [event('PUT', '/p/z', 4)] });
  assert.equal(sink.batches.length, 0);
  call.respond({ header: header(9), events: [event('PUT', '/p/a', 6), event('PUT', '/p/b', 7), event('DELETE', '/p/a', 7)] });
  assert.deepEqual(sink.statuses, ['connected']);
  assert.equal(sink.batches.length, 1);
  assert.equal(sink.batches[0].revision, 7);
  assert.deepEqual(
    sink.batches[0].events.map((e) => e.type),
    ['put', 'put', 'delete'],
  );
  assert.equal(w.lastRevision, 7);
  w.close();
  assert.equal(call.canceled, true);
});

test('resumes from the last event revision after a stream failure (delivering from +1), never from a header revision', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', startRevision: 3 }, sink, () => {});
  const first = await t.nextCall(0);
  first.respond({ created: true, header: header(100) });
  first.respond({ header: header(100), events: [event('PUT', '/k', 10)] });
  first.fail();
  const second = await t.nextCall(1);
  assert.equal(startRevisionOf(second), 10);
  second.respond({ created: true, header: header(100) });
  second.respond({ header: header(100), events: [event('PUT', '/k', 10)] });
  second.respond({ header: header(100), events: [event('PUT', '/k', 11)] });
  assert.deepEqual(revisions(sink), [10, 11], 'revision 10 once');
  assert.deepEqual(t.unavailable, [0]);
  assert.deepEqual(t.delays, [10]);
  assert.deepEqual(sink.statuses, ['connected', 'reconnecting', 'connected']);
  w.close();
});

test('before any event, a reconnect asks for the original start revision (less one) again', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', startRevision: 42, progressNotify: true }, sink, () => {});
  const first = await t.nextCall(0);
  first.respond({ created: true, header: header(500) });
  first.respond({ header: header(600) }); // progress notification
  assert.deepEqual(sink.progress, [600]);
  first.fail();
  const second = await t.nextCall(1);
  assert.equal(startRevisionOf(second), 41);
  w.close();
});

test('events at or below the last delivered revision are dropped after a reconnect', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', prefix: true, startRevision: 1 }, sink, () => {});
  const first = await t.nextCall(0);
  first.respond({ created: true });
  first.respond({ events: [event('PUT', '/k1', 2), event('PUT', '/k2', 3)] });
  first.fail();
  const second = await t.nextCall(1);
  second.respond({ created: true });
  second.respond({ events: [event('PUT', '/k2', 3), event('PUT', '/k3', 4)] });
  second.respond({ events: [event('PUT', '/k1', 2)] });
  assert.deepEqual(revisions(sink), [2, 3, 4]);
  assert.equal(sink.batches.length, 2);
  w.close();
});

test('callbacks from an abandoned stream are ignored', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', startRevision: 1 }, sink, () => {});
  const first = await t.nextCall(0);
  first.respond({ created: true });
  first.fail();
  first.respond({ events: [event('PUT', '/k', 2)] });
  first.fail();
  const second = await t.nextCall(1);
  assert.deepEqual(sink.batches, []);
  assert.equal(t.calls.length, 2);
  assert.equal(startRevisionOf(second), 1);
  w.close();
});

test('fragments are reassembled into one batch', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', prefix: true, startRevision: 1 }, sink, () => {});
  const call = await t.nextCall(0);
  call.respond({ created: true });
  call.respond({ fragment: true, events: [event('PUT', '/k1', 5), event('PUT', '/k2', 5)] });
  call.respond({ fragment: true, events: [event('PUT', '/k3', 5)] });
  assert.equal(sink.batches.length, 0);
  call.respond({ fragment: false, events: [event('PUT', '/k4', 5)] });
  assert.equal(sink.batches.length, 1);
  assert.deepEqual(
    sink.batches[0].events.map((e) => e.kv.key.toString()),
    ['/k1', '/k2', '/k3', '/k4'],
  );
  assert.equal(sink.batches[0].revision, 5);
  w.close();
});

test('a compact revision ends the watch with EtcdCompactedError', async () => {
  const t = new FakeTransport();
  const sink = recorder();
  let done = false;
  const w = new EtcdWatch(t, { key: '/k', startRevision: 2 }, sink, () => (done = true));
  const call = await t.nextCall(0);
  call.respond({ created: true });
  call.respond({ canceled: true, compact_revision: '17', header: header(30) });
  assert.equal(sink.errors.length, 1);
  const err = sink.errors[0];
  assert.ok(err instanceof EtcdCompactedError);
  assert.equal(err.code, 'ETCD_COMPACTED');
  assert.equal(err.compactRevision, 17);
  assert.equal(w.closed, true);
  assert.equal(done, true);
  assert.equal(call.canceled, true);
  await new Promise((r) => setImmediate(r));
  assert.equal(t.calls.length, 1, 'no reconnect after a terminal error');
});

test('"permission denied" with a token logs in again once, then is terminal', async () => {
  const t = new FakeTransport();
  t.token = 'tok-1';
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', startRevision: 1 }, sink, () => {});
  const first = await t.nextCall(0);
  first.respond({ created: true, canceled: true, cancel_reason: 'rpc error: code = PermissionDenied desc = etcdserver: permission denied' });
  assert.deepEqual(t.invalidated, ['tok-1']);
  const second = await t.nextCall(1);
  second.respond({ created: true, canceled: true, cancel_reason: 'etcdserver: permission denied' });
  assert.equal(sink.errors.length, 1);
  assert.ok(sink.errors[0] instanceof EtcdPermissionDeniedError);
  assert.equal(w.closed, true);
});

test('close() during a backoff stops the watch without reconnecting or calling back', async () => {
  const t = new FakeTransport();
  let openGate!: () => void;
  t.gate = new Promise((r) => (openGate = r));
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', startRevision: 1 }, sink, () => {});
  const first = await t.nextCall(0);
  first.respond({ created: true });
  first.fail();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sink.statuses, ['connected', 'reconnecting']);
  w.close();
  openGate();
  await new Promise((r) => setImmediate(r));
  assert.equal(t.calls.length, 1);
  assert.deepEqual(sink.errors, []);
});

test('startRevision must be >= 1', () => {
  const t = new FakeTransport();
  assert.throws(() => new EtcdWatch(t, { key: '/k', startRevision: 0 }, recorder(), () => {}), EtcdConfigError);
});

test('close() while the stream is still being opened cancels it quietly when it arrives', async () => {
  const t = new FakeTransport();
  let dialed!: () => void;
  t.openGate = new Promise((r) => (dialed = r));
  const sink = recorder();
  const w = new EtcdWatch(t, { key: '/k', startRevision: 1 }, sink, () => {});
  w.close();
  dialed();
  const call = await t.nextCall(0);
  assert.equal(call.canceled, true);
  assert.deepEqual(call.written, [], 'no create request on a closed watch');
  assert.deepEqual(sink.statuses, []);
});
