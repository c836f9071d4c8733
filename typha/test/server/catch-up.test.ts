import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { CODECS, parseServerMessage, type Deltas } from '../../src/protocol/index.js';
import { CATCH_UP_PAGE_UPDATES, CoalescedPages, planCatchUp } from '../../src/server/catch-up.js';
import { upd } from './helpers.js';

function readyCache(opts: Partial<ConstructorParameters<typeof SyncCache>[0]> = {}): SyncCache {
  const cache = new SyncCache({ syncer: 'felix', ...opts });
  cache.onStatus('in-sync', 100);
  return cache;
}

test('coalesced pages: every page but the last carries the starting revision', () => {
  const updates = Array.from({ length: CATCH_UP_PAGE_UPDATES * 2 + 3 }, (_, i) => upd(`k${i}`, 150, { i }));
  const pages = new CoalescedPages(updates, 120, 150);
  const got: Deltas[] = [];
  while (!pages.done) {
    const { frame, count } = pages.next(CODECS.msgpack);
    const msg = parseServerMessage(CODECS.msgpack.decode(frame)) as Deltas;
    assert.equal(msg.updates.length, count);
    got.push(msg);
  }
  assert.deepEqual(
    got.map((m) => [m.revision, m.updates.length]),
    [
      [120, 500],
      [120, 500],
      [150, 3],
    ],
  );
  assert.equal(pages.revision, 150);
});

test('coalesced pages are also cut by size', () => {
  const big = 'x'.repeat(100_000);
  const pages = new CoalescedPages([upd('a', 2, { big }), upd('b', 2, { big }), upd('c', 2, { big })], 1, 2);
  const counts: number[] = [];
  while (!pages.done) counts.push(pages.next(CODECS.json).count);
  assert.deepEqual(counts, [2, 1]);
});

test('planCatchUp: frames when few, coalesced when the replay is too big, too-old, ahead, current', () => {
  const cache = readyCache({ maxTombstones: 1, maxLogBatches: 100 });
  const frames = new Map([['msgpack', Buffer.alloc(100)]]);
  for (let r = 101; r <= 110; r++) {
    cache.onUpdates([upd('a', r, { r })], r);
    cache.recordFrames(r, frames);
  }
  assert.deepEqual(planCatchUp(cache, 'msgpack', 110, 10_000), { kind: 'current', revision: 110 });
  assert.deepEqual(planCatchUp(cache, 'msgpack', 111, 10_000), { kind: 'ahead', revision: 110 });
  const replay = planCatchUp(cache, 'msgpack', 105, 10_000);
  assert.equal(replay.kind, 'frames');
  assert.equal(replay.kind === 'frames' && replay.frames.length, 5);
  const coalesced = planCatchUp(cache, 'msgpack', 105, 400);
  assert.equal(coalesced.kind, 'updates');
  assert.deepEqual(coalesced.kind === 'updates' && coalesced.updates.map((u) => u.revision), [110]);
  assert.equal(planCatchUp(cache, 'json', 105, 10_000).kind, 'updates', 'no frames kept for that codec');
  // Two deletions with room for one tombstone: revision 101 can no longer be resumed from.
  const old = readyCache({ maxTombstones: 1, maxLogBatches: 0 });
  old.onUpdates([upd('a', 101, { v: 1 })], 101);
  old.onUpdates([upd('a', 102)], 102);
  old.onUpdates([upd('b', 103, { v: 1 })], 103);
  old.onUpdates([upd('b', 104)], 104);
  assert.deepEqual(planCatchUp(old, 'msgpack', 101, 10_000), { kind: 'too-old', oldestResumableRevision: 102 });
});
