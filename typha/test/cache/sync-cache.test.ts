import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { CacheClosedError, CacheNotReadyError } from '../../src/cache/errors.js';
import { brief, fakeClock, testCodec, upd } from './helpers.js';

function readyCache(opts: Partial<ConstructorParameters<typeof SyncCache>[0]> = {}) {
  const clock = fakeClock();
  const cache = new SyncCache({ syncer: 'felix', clock, ...opts });
  cache.onStatus('resync', 0);
  cache.onUpdates([upd('a', 5, { v: 1 }), upd('b', 7, { v: 1 }), upd('c', 8, { v: 1 })], 100);
  cache.onStatus('in-sync', 100);
  return { cache, clock };
}

test('before the first in-sync: no snapshot, resumes wait', () => {
  const cache = new SyncCache({ syncer: 'bgp' });
  cache.onUpdates([upd('a', 3, { v: 1 })], 3);
  assert.equal(cache.ready, false);
  assert.throws(
    () => cache.snapshot(testCodec()),
    (e: unknown) => e instanceof CacheNotReadyError && e.code === 'TYPHA_CACHE_NOT_READY',
  );
  assert.deepEqual(cache.changesSince(3), { mode: 'wait', revision: 3 });
});

test('the revision advances on batches with nothing for this syncer; the content revision does not', () => {
  const { cache } = readyCache();
  cache.onUpdates([], 150);
  assert.equal(cache.revision, 150);
  assert.equal(cache.contentRevision, 100);
  assert.deepEqual(cache.changesSince(100), { mode: 'resume', updates: [], revision: 150 });
  assert.deepEqual(cache.changesSince(150), { mode: 'resume', updates: [], revision: 150 });
});

test('changesSince coalesces per key: latest value, deletions from tombstones', () => {
  const { cache } = readyCache();
  cache.onUpdates([upd('a', 101, { v: 2 }), upd('d', 101, { v: 1 })], 101);
  cache.onUpdates([upd('a', 102, { v: 3 }), upd('b', 102)], 102);
  cache.onUpdates([upd('d', 103)], 103);
  cache.onUpdates([upd('e', 104, { v: 1 })], 104);

  const r = cache.changesSince(101);
  assert.equal(r.mode, 'resume');
  assert.ok(r.mode === 'resume');
  assert.deepEqual(r.updates.map(brief).sort(), ['a@102', 'b@102(deleted)', 'd@103(deleted)', 'e@104']);
  assert.equal(r.revision, 104);
  assert.deepEqual(r.updates.find((u) => u.name === 'a')?.value, { spec: { v: 3 } });

  const all = cache.changesSince(100);
  assert.ok(all.mode === 'resume');
  assert.deepEqual(all.updates.map(brief).sort(), ['a@102', 'b@102(deleted)', 'd@103(deleted)', 'e@104']);
  const s = cache.stats();
  assert.equal(s.resumesFromLog, 2);
  assert.equal(s.keys, 3);
  assert.equal(s.tombstones, 2);
});

test('resume from the state scan gives the same answer as from the log', () => {
  const changes = (maxLogBatches: number) => {
    const { cache } = readyCache({ maxLogBatches });
    cache.onUpdates([upd('a', 101, { v: 2 }), upd('x', 101, { v: 1 })], 101);
    cache.onUpdates([upd('b', 102)], 102);
    cache.onUpdates([upd('x', 103)], 103);
    cache.onUpdates([upd('c', 104, { v: 9 })], 104);
    const r = cache.changesSince(100);
    assert.ok(r.mode === 'resume');
    return { updates: r.updates.map(brief).sort(), stats: cache.stats() };
  };
  const fromLog = changes(100);
  const fromState = changes(1);
  assert.equal(fromLog.stats.resumesFromLog, 1);
  assert.equal(fromState.stats.resumesFromState, 1);
  assert.equal(fromState.stats.logBatches, 1);
  assert.deepEqual(fromState.updates, fromLog.updates);
  assert.deepEqual(fromLog.updates, ['a@101', 'b@102(deleted)', 'c@104', 'x@103(deleted)']);
});

test('a re-created key loses its tombstone and resumes with its new value', () => {
  const { cache } = readyCache({ maxLogBatches: 0 });
  cache.onUpdates([upd('a', 101)], 101);
  assert.equal(cache.stats().tombstones, 1);
  cache.onUpdates([upd('a', 102, { v: 5 })], 102);
  assert.equal(cache.stats().tombstones, 0);
  const r = cache.changesSince(100);
  assert.ok(r.mode === 'resume');
  assert.deepEqual(r.updates.map(brief), ['a@102']);
});

test('a client older than the tombstone horizon gets a snapshot', () => {
  const { cache } = readyCache({ maxLogBatches: 0, maxTombstones: 1 });
  assert.equal(cache.oldestResumableRevision, 100);
  assert.deepEqual(cache.changesSince(99), { mode: 'snapshot', revision: 100, oldestResumableRevision: 100 });
  cache.onUpdates([upd('a', 101)], 101);
  cache.onUpdates([upd('b', 102)], 102); // evicts a's tombstone
  assert.equal(cache.oldestResumableRevision, 101);
  assert.deepEqual(cache.changesSince(100), { mode: 'snapshot', revision: 102, oldestResumableRevision: 101 });
  const r = cache.changesSince(101);
  assert.ok(r.mode === 'resume');
  assert.deepEqual(r.updates.map(brief), ['b@102(deleted)']);
  assert.equal(cache.stats().resumesTooOld, 2);
});

test('tombstones expire by the injected clock', () => {
  const { cache, clock } = readyCache({ maxLogBatches: 0, tombstoneRetentionMs: 60_000 });
  cache.onUpdates([upd('a', 101)], 101);
  clock.advance(30_000);
  cache.onUpdates([upd('b', 102)], 102);
  clock.advance(30_000);
  assert.equal(cache.stats().tombstones, 2); // a is exactly at the limit
  clock.advance(1);
  assert.equal(cache.stats().tombstones, 1);
  assert.equal(cache.oldestResumableRevision, 101);
  assert.equal(cache.changesSince(100).mode, 'snapshot');
  clock.advance(30_000);
  assert.equal(cache.stats().tombstones, 0);
  assert.equal(cache.changesSince(101).mode, 'snapshot');
  const r = cache.changesSince(102);
  assert.ok(r.mode === 'resume' && r.updates.length === 0);
});

test('a client ahead of this replica is told to wait, and the wait resolves when we catch up', async () => {
  const { cache } = readyCache();
  assert.deepEqual(cache.changesSince(105), { mode: 'wait', revision: 105 });
  let done = false;
  const wait = cache.waitForRevision(105).then(() => {
    done = true;
  });
  cache.onUpdates([upd('a', 103, { v: 2 })], 103);
  await Promise.resolve();
  assert.equal(done, false);
  cache.onUpdates([], 106);
  await wait;
  assert.equal(done, true);
  const r = cache.changesSince(105);
  assert.ok(r.mode === 'resume' && r.revision === 106 && r.updates.length === 0);
});

test('a wait can be aborted, and close rejects the rest', async () => {
  const { cache } = readyCache();
  const ac = new AbortController();
  const aborted = cache.waitForRevision(500, ac.signal);
  const closed = cache.waitForRevision(600);
  ac.abort(new Error('handshake timeout'));
  await assert.rejects(aborted, /handshake timeout/);
  cache.close();
  await assert.rejects(closed, (e: unknown) => e instanceof CacheClosedError && e.code === 'TYPHA_CACHE_CLOSED');
  assert.throws(() => cache.onUpdates([], 700), CacheClosedError);
  await assert.rejects(cache.waitForRevision(1), CacheClosedError);
});

test('a resync applies only the differences and keeps revisions monotonic', () => {
  const { cache } = readyCache();
  cache.onUpdates([upd('a', 120, { v: 2 })], 120);
  cache.onStatus('resync', 120);
  assert.equal(cache.ready, true);
  assert.equal(cache.status, 'resync');
  // The watcher relisted at 200 after a compaction and sends what differs: a changed key with
  // its own (older) mod revision, and a vanished key's delete stamped at the list revision.
  cache.onUpdates([upd('b', 150, { v: 2 }), upd('c', 200)], 200);
  cache.onStatus('in-sync', 200);
  assert.equal(cache.revision, 200);
  // A stale or repeated revision never moves the cache backwards.
  cache.onStatus('in-sync', 180);
  cache.onUpdates([], 190);
  assert.equal(cache.revision, 200);
  // A client at the revision the watch stopped at resumes through the relist diff.
  const r = cache.changesSince(120);
  assert.ok(r.mode === 'resume');
  assert.deepEqual(r.updates.map(brief).sort(), ['b@150', 'c@200(deleted)']);
  assert.ok(cache.changesSince(200).mode === 'resume');
  assert.deepEqual(cache.stats().resyncGaps, [{ from: 120, to: 200 }]);
});

test('a client inside a resync gap gets a snapshot: the relist diff cannot say what it must drop', () => {
  // The scenario, on one cache: this replica's watch stops at 120 and it relists at
  // 200. Another replica saw key k created at 130 and deleted at 140, and a client of it is
  // at 135 holding k. The diff here never mentions k, so resuming that client would keep k.
  const { cache } = readyCache();
  cache.onUpdates([upd('a', 120, { v: 2 })], 120);
  cache.onStatus('resync', 120);
  cache.onStatus('wait-for-datastore', 120); // a failed list in between changes nothing
  cache.onStatus('resync', 120);
  cache.onUpdates([upd('b', 150, { v: 2 })], 200);
  cache.onStatus('in-sync', 200);
  for (const inside of [121, 135, 199]) {
    const r = cache.changesSince(inside);
    assert.equal(r.mode, 'snapshot', `revision ${inside} is inside the gap`);
    assert.equal(cache.deltaFramesSince(inside, 'msgpack'), undefined, `no replay from ${inside} either`);
  }
  for (const outside of [100, 120, 200]) assert.equal(cache.changesSince(outside).mode, 'resume', `revision ${outside} is covered`);
  const s = cache.stats();
  assert.equal(s.resumesInGap, 3);
  assert.equal(s.resumesTooOld, 3);
  // Later history resumes as usual.
  cache.onUpdates([upd('d', 210, { v: 1 })], 210);
  const r = cache.changesSince(205);
  assert.ok(r.mode === 'resume');
  assert.deepEqual(r.updates.map(brief), ['d@210']);
});

test('resync gaps are forgotten below the resumable horizon, and a bounded number kept', () => {
  const relist = (cache: SyncCache, times: number) => {
    for (let i = 0; i < times; i++) {
      const from = cache.revision;
      cache.onStatus('resync', from);
      cache.onUpdates([upd('x', from + 5, { v: i })], from + 10);
      cache.onStatus('in-sync', from + 10);
    }
  };
  // No tombstones kept and a one-batch log: each relist's delete raises the horizon past its gap.
  const short = readyCache({ maxLogBatches: 1, maxTombstones: 0 }).cache;
  for (let i = 0; i < 5; i++) {
    const from = short.revision + 1;
    short.onUpdates([upd(`k${i}`, from, { v: 1 })], from);
    short.onStatus('resync', from);
    short.onUpdates([upd(`k${i}`, from + 10)], from + 10);
    short.onStatus('in-sync', from + 10);
  }
  const st = short.stats();
  assert.equal(st.resyncGaps.length, 1, 'only the last gap is above the horizon; the rest were pruned');
  assert.ok(st.resyncGaps[0].to === short.revision && st.resyncGaps[0].from > st.oldestResumableRevision - 10);
  // A long history keeps 64 gaps; forgetting the oldest raises the horizon past it.
  const long = readyCache().cache;
  relist(long, 70);
  const s = long.stats();
  assert.equal(s.resyncGaps.length, 64);
  assert.equal(s.oldestResumableRevision, 100 + 6 * 10, 'the end of the 6th, last forgotten gap');
  assert.equal(long.changesSince(105).mode, 'snapshot', 'inside a forgotten gap');
  assert.equal(long.changesSince(165).mode, 'snapshot', 'inside a kept gap');
  assert.equal(long.changesSince(170).mode, 'resume', 'between gaps');
});

test('a batch whose revision did not advance still invalidates the snapshot of that revision', () => {
  const { cache } = readyCache();
  const codec = testCodec();
  const before = cache.snapshot(codec);
  cache.onUpdates([upd('z', 100, { v: 1 })], 100);
  const after = cache.snapshot(codec);
  assert.notEqual(after, before);
  assert.equal(after.updateCount, 4);
});

test('stats report sizes and the batch size histogram', () => {
  const { cache } = readyCache();
  cache.onUpdates([upd('a', 101, { v: 2 })], 101);
  cache.onUpdates([], 102);
  const s = cache.stats();
  assert.equal(s.keys, 3);
  assert.ok(s.bytes > 3 * 40, `bytes ${s.bytes}`);
  assert.equal(s.logBatches, 1);
  assert.equal(s.batchSizes.count, 2);
  assert.equal(s.batchSizes.sum, 4);
  // Buckets are cumulative: the 1-update batch is <= 1, the 3-update batch <= 5.
  assert.deepEqual(s.batchSizes.counts.slice(0, 3), [1, 1, 2]);
  assert.equal(s.batchSizes.counts.at(-1), 2);
});
