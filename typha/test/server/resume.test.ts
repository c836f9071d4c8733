import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, Features, type Update } from '../../src/protocol/index.js';
import { FakeClock, Harness, TestClient, fingerprint, upd } from './helpers.js';

/** Round trip through the server: proves it has processed what was sent before, without a sleep. */
async function roundTrip(c: TestClient): Promise<void> {
  await c.until((x) => x.opened || x.closed !== undefined);
  const ts = 424242 + c.frames;
  c.send({ type: 'ping', ts });
  await c.until((x) => x.messages.some((m) => m.type === 'pong' && m.ts === ts) || x.closed !== undefined);
}

async function syncedClient(h: Harness): Promise<{ state: Map<string, Update>; revision: number; bytes: number; frames: number }> {
  const a = new TestClient(h.url);
  await a.untilInSync();
  a.close();
  await a.untilClosed();
  return { state: new Map(a.state), revision: a.revision, bytes: a.bytes, frames: a.frames };
}

test('a reconnecting client gets only the changes since its revision, as the frames everyone got', async (t) => {
  const h = await Harness.start(t, { initialKeys: 2000 });
  const first = await syncedClient(h);
  assert.equal(first.revision, 100);
  h.feed('felix', (rev) => [upd('init-1', rev, { v: 'changed' }), upd('init-2', rev)]);
  h.feed('felix', (rev) => [upd('new-1', rev, { v: 1 })]);

  const b = new TestClient(h.url, { resume: { revision: first.revision, datastoreId: h.datastoreId }, state: first.state });
  t.after(() => b.close());
  await b.untilInSync();
  assert.equal(b.hello?.mode, 'resume');
  assert.equal(b.hello?.revision, h.revision);
  assert.deepEqual(b.hello?.features, [Features.Resume, Features.Goodbye]);
  assert.equal(b.count('snapshot'), 0);
  assert.equal(b.count('deltas'), 2);
  assert.equal(b.frames, 4, 'hello, two deltas, in-sync');
  assert.ok(b.bytes * 50 < first.bytes, `resume ${b.bytes} B vs snapshot ${first.bytes} B`);
  assert.deepEqual(fingerprint(b.state), fingerprint(h.model.get('felix') as Map<string, Update>));
  assert.equal(b.inSyncRevision, h.revision);

  // And it is live afterwards.
  const next = h.feed('felix', (rev) => [upd('new-2', rev, { v: 2 })]);
  await b.untilRevision(next);
  assert.deepEqual(b.liveRevisions, [next]);
});

test('a long lag is resumed with coalesced changes: each key once, latest value', async (t) => {
  // Replaying 40 batches of ~3.5 KB would exceed 4 × the high-water mark (64 KB): coalesce instead.
  const h = await Harness.start(t, { initialKeys: 50, highWaterMarkBytes: 16 * 1024 });
  const first = await syncedClient(h);
  for (let i = 0; i < 40; i++) h.feed('felix', (rev) => Array.from({ length: 10 }, (_, k) => upd(`init-${k}`, rev, { round: i, pad: 'p'.repeat(300) })));
  h.feed('felix', (rev) => [upd('init-20', rev)]);

  const b = new TestClient(h.url, { resume: { revision: first.revision, datastoreId: h.datastoreId }, state: first.state });
  t.after(() => b.close());
  await b.untilInSync();
  assert.equal(b.hello?.mode, 'resume');
  const deltas = b.messages.filter((m) => m.type === 'deltas');
  assert.equal(deltas.length, 1);
  assert.equal(deltas[0].type === 'deltas' && deltas[0].updates.length, 11, '10 changed keys + 1 deletion, each once');
  assert.deepEqual(fingerprint(b.state), fingerprint(h.model.get('felix') as Map<string, Update>));
});

test('a revision older than the resumable window gets a snapshot', async (t) => {
  const h = await Harness.start(t, { initialKeys: 20, cache: { maxLogBatches: 0, maxTombstones: 1 } });
  const first = await syncedClient(h);
  h.feed('felix', (rev) => [upd('init-1', rev)]);
  h.feed('felix', (rev) => [upd('init-2', rev)]); // evicts init-1's tombstone: revision 100 is now too old
  assert.ok(h.cache('felix').oldestResumableRevision > first.revision);

  const b = new TestClient(h.url, { resume: { revision: first.revision, datastoreId: h.datastoreId }, state: first.state });
  t.after(() => b.close());
  await b.untilInSync();
  assert.equal(b.hello?.mode, 'snapshot');
  assert.ok(b.count('snapshot') >= 1);
  assert.deepEqual(fingerprint(b.state), fingerprint(h.model.get('felix') as Map<string, Update>));
});

test('another datastore, or a client without the resume feature, gets a snapshot', async (t) => {
  const h = await Harness.start(t, { initialKeys: 20 });
  const first = await syncedClient(h);
  const other = new TestClient(h.url, { resume: { revision: first.revision, datastoreId: 'another-etcd' } });
  const old = new TestClient(h.url, { resume: { revision: first.revision, datastoreId: h.datastoreId }, features: [] });
  t.after(() => [other, old].forEach((c) => c.close()));
  await Promise.all([other.untilInSync(), old.untilInSync()]);
  assert.equal(other.hello?.mode, 'snapshot');
  assert.equal(old.hello?.mode, 'snapshot');
  assert.deepEqual(old.hello?.features, [], 'features not offered are not accepted');
  assert.equal(old.state.size, 20);
});

test('a client ahead of this replica waits for it, then resumes', async (t) => {
  const h = await Harness.start(t, { initialKeys: 5 });
  const first = await syncedClient(h);
  const ahead = h.revision + 3;
  const b = new TestClient(h.url, { resume: { revision: ahead, datastoreId: h.datastoreId }, state: first.state });
  t.after(() => b.close());
  await roundTrip(b);
  assert.equal(b.count('hello'), 0, 'no ServerHello while this replica is behind the client');
  h.feed('felix', (rev) => [upd('a', rev, { v: 1 })]);
  h.feed('felix', (rev) => [upd('b', rev, { v: 1 })]);
  await roundTrip(b);
  assert.equal(b.count('hello'), 0);
  h.feed('felix', (rev) => [upd('c', rev, { v: 1 })]);
  await b.untilInSync();
  assert.equal(b.hello?.mode, 'resume');
  assert.equal(b.inSyncRevision, ahead);
  assert.equal(b.count('deltas'), 0, 'the client already had everything up to its revision');
});

test('a client ahead of a replica that does not catch up in time is sent to a replica that has, never rolled back', async (t) => {
  const clock = new FakeClock();
  const asked: number[] = [];
  const h = await Harness.start(t, {
    initialKeys: 5,
    clock,
    resumeWaitMs: 5000,
    behindHint: (revision) => {
      asked.push(revision);
      return { reconnect: 'ws://typha-b:5473/sync' };
    },
  });
  const ahead = h.revision + 50;
  const b = new TestClient(h.url, { resume: { revision: ahead, datastoreId: h.datastoreId } });
  t.after(() => b.close());
  await roundTrip(b);
  assert.equal(b.count('hello'), 0);
  clock.advance(5000);
  const closed = await b.untilClosed();
  assert.equal(closed.code, CloseCode.ReplicaBehind);
  assert.match(closed.reason, new RegExp(`at revision ${h.revision}, behind the client's ${ahead}`));
  assert.equal(b.goodbye?.reconnect, 'ws://typha-b:5473/sync');
  assert.deepEqual(asked, [ahead], 'the hint is for a replica at or past the client');
  assert.equal(b.count('hello'), 0, 'no snapshot from behind the client');
  assert.equal(b.count('snapshot'), 0);
});

test('a client whose snapshot was cut off is never brought below its floor either', async (t) => {
  const clock = new FakeClock();
  const h = await Harness.start(t, { initialKeys: 5, clock, resumeWaitMs: 1000 });
  // No resume point (its state is not consistent at any revision), but data up to floor.
  const floor = h.revision + 2;
  const c = new TestClient(h.url, { hello: { floor: { revision: floor, datastoreId: h.datastoreId } } });
  t.after(() => c.close());
  await roundTrip(c);
  assert.equal(c.count('hello'), 0, 'waits while the replica is behind the floor');
  h.feed('felix', (rev) => [upd('a', rev, { v: 1 })]);
  h.feed('felix', (rev) => [upd('b', rev, { v: 1 })]);
  await c.untilInSync();
  assert.equal(c.hello?.mode, 'snapshot');
  assert.equal(c.inSyncRevision, floor);
  assert.equal(c.state.size, 7);
  // A floor from another datastore means nothing here.
  const other = new TestClient(h.url, { hello: { floor: { revision: h.revision + 100, datastoreId: 'another-etcd' } } });
  t.after(() => other.close());
  await other.untilInSync();
  assert.equal(other.inSyncRevision, h.revision);
});

test('a client of a cache that is not in sync yet waits for it (bounded)', async (t) => {
  const clock = new FakeClock();
  const h = await Harness.start(t, { notReady: true, clock, readyTimeoutMs: 3000 });
  const patient = new TestClient(h.url);
  const hinted = new TestClient(h.url, { syncer: 'bgp' });
  t.after(() => [patient, hinted].forEach((c) => c.close()));
  await Promise.all([roundTrip(patient), roundTrip(hinted)]);
  assert.equal(patient.count('hello'), 0);
  h.batchers.get('felix')?.onStatus('in-sync', 100);
  await patient.untilInSync();
  assert.equal(patient.hello?.mode, 'snapshot');

  clock.advance(3000); // bgp never gets in sync
  const closed = await hinted.untilClosed();
  assert.equal(closed.code, CloseCode.ServerOverloaded);
  assert.match(closed.reason, /not in sync with the datastore/);
  assert.equal(hinted.goodbye?.code, CloseCode.ServerOverloaded);
  assert.equal(patient.closed, undefined);
});
