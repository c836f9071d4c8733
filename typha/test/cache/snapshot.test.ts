import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { pageEnds } from '../../src/cache/snapshot-frames.js';
import type { SnapshotPage, Update } from '../../src/protocol/messages.js';
import { CODECS, compressFrame, decodeServerFrame } from '../../src/protocol/index.js';
import { fakeClock, testCodec, upd } from './helpers.js';

function filled(n: number, opts: Partial<ConstructorParameters<typeof SyncCache>[0]> = {}) {
  const clock = fakeClock();
  const cache = new SyncCache({ syncer: 'felix', clock, snapshotReuseMs: 0, ...opts });
  const updates: Update[] = [];
  for (let i = 0; i < n; i++) updates.push(upd(`wep-${i}`, i + 1, { node: `n${i % 7}`, ipNetworks: [`10.0.${i >> 8}.${i & 255}/32`] }));
  cache.onUpdates(updates, n);
  cache.onStatus('in-sync', n);
  return { cache, clock };
}

function decodePages(frames: Buffer[], codec: ReturnType<typeof testCodec>): SnapshotPage[] {
  return frames.map((f) => codec.decode(f) as SnapshotPage);
}

test('1000 clients at the same revision cause one snapshot and one encode per page', () => {
  const { cache } = filled(1200, { pageSize: 500 });
  const codec = testCodec();
  let first: Buffer[] | undefined;
  for (let i = 0; i < 1000; i++) {
    const frames = cache.snapshotFrames(codec);
    first ??= frames;
    assert.equal(frames[0], first[0]); // the very same Buffer
  }
  const s = cache.stats();
  assert.equal(s.snapshotsGenerated, 1);
  assert.equal(s.snapshotsReused, 999);
  assert.equal(codec.encodes, 3);
  assert.equal(s.snapshotPagesEncoded, 3);
});

test('re-encoded after a change, reused across revisions that changed nothing here', () => {
  const { cache } = filled(10);
  const codec = testCodec();
  const a = cache.snapshotFrames(codec);
  cache.onUpdates([], 50); // another syncer's churn moved the revision
  assert.equal(cache.snapshotFrames(codec)[0], a[0]);
  cache.onUpdates([upd('wep-3', 51, { node: 'moved' })], 51);
  const b = cache.snapshotFrames(codec);
  assert.notEqual(b[0], a[0]);
  assert.equal(cache.stats().snapshotsGenerated, 2);
  const pages = decodePages(b, codec);
  assert.equal(pages[0].revision, 51);
  assert.deepEqual(pages[0].updates.find((u) => u.name === 'wep-3')?.value, { spec: { node: 'moved' } });
  // Superseded snapshots are purged, not kept until the LRU pushes them out.
  assert.equal(cache.stats().snapshotsCached, 1);
});

test('each codec has its own encoding', () => {
  const { cache } = filled(3);
  const json = testCodec('json');
  const msgpack = testCodec('msgpack');
  cache.snapshotFrames(json);
  cache.snapshotFrames(msgpack);
  cache.snapshotFrames(json);
  assert.deepEqual([json.encodes, msgpack.encodes], [1, 1]);
  assert.deepEqual([cache.stats().snapshotsGenerated, cache.stats().snapshotsReused], [2, 1]);
});

test('pages are bounded by count and bytes, flagged last, and hold every key once', () => {
  const { cache } = filled(1234, { pageSize: 100 });
  const codec = testCodec();
  const pages = decodePages(cache.snapshotFrames(codec), codec);
  assert.equal(pages.length, 13);
  assert.ok(pages.every((p) => p.updates.length <= 100 && p.type === 'snapshot' && p.revision === 1234));
  assert.deepEqual(
    pages.map((p) => p.page),
    [...pages.keys()],
  );
  assert.deepEqual(
    pages.map((p) => p.last),
    [...Array(12).fill(false), true],
  );
  const names = pages.flatMap((p) => p.updates.map((u) => u.name));
  assert.equal(new Set(names).size, 1234);

  const small = filled(200, { pageSize: 100_000, pageBytes: 1024 }).cache;
  const framesBySize = small.snapshotFrames(codec);
  assert.ok(framesBySize.length > 10);
  // Within the estimate's slack of the byte budget (plus the page envelope).
  for (const f of framesBySize) assert.ok(f.byteLength < 1024 + 256, `page of ${f.byteLength} bytes`);
});

test('pageEnds: at least one update per page, even one bigger than the byte budget', () => {
  assert.deepEqual(pageEnds([], 10, 100), [0]);
  assert.deepEqual(pageEnds([500, 10, 10], 10, 100), [1, 3]);
  assert.deepEqual(pageEnds([10, 10, 10, 10, 10], 2, 1000), [2, 4, 5]);
});

test('an empty syncer still has a one-page snapshot', () => {
  const cache = new SyncCache({ syncer: 'status' });
  cache.onStatus('in-sync', 9);
  const codec = testCodec();
  const pages = decodePages(cache.snapshotFrames(codec), codec);
  assert.deepEqual(pages, [{ type: 'snapshot', revision: 0, page: 0, last: true, updates: [] }]);
});

test('pages are encoded lazily and a handle stays consistent with its revision', () => {
  const { cache } = filled(1000, { pageSize: 100 });
  const codec = testCodec();
  const snap = cache.snapshot(codec);
  assert.equal(codec.encodes, 0);
  assert.equal(snap.pageCount, 10);
  const p0 = snap.frame(0);
  assert.equal(snap.encodedPages, 1);
  assert.equal(snap.frame(0), p0);
  // The state changes while a client is still downloading this snapshot.
  cache.onUpdates([upd('wep-999', 2000)], 2000);
  const last = codec.decode(snap.frame(9)) as SnapshotPage;
  assert.equal(last.revision, 1000);
  assert.ok(last.updates.some((u) => u.name === 'wep-999'));
  assert.equal(codec.encodes, 2);
  assert.throws(() => snap.frame(10), RangeError);
});

test('the snapshot LRU is bounded by entries', () => {
  const { cache } = filled(5, { snapshotCacheEntries: 2, snapshotReuseMs: 60_000 });
  for (let i = 0; i < 5; i++) {
    cache.onUpdates([upd('x', 100 + i, { i })], 100 + i);
    cache.snapshot(testCodec());
  }
  assert.equal(cache.stats().snapshotsCached, 2);
  assert.equal(cache.stats().snapshotsGenerated, 5);
});

test('compressed pages are made at the configured DEFLATE level, once, and hold the plain page', () => {
  const bytes = [1, 9].map((level) => {
    const { cache } = filled(600, { pageSize: 300, snapshotDeflateLevel: level });
    const codec = CODECS.msgpack;
    const snap = cache.snapshot(codec);
    const total = [0, 1].reduce((n, p) => {
      const z = snap.frame(p, true);
      assert.equal(snap.frame(p, true), z, 'compressed once, the same Buffer after');
      assert.deepEqual(decodeServerFrame(codec, z, true), codec.decode(snap.frame(p)));
      assert.ok(z.equals(compressFrame(codec, snap.frame(p), level)), `page ${p} is DEFLATE level ${level}`);
      return n + z.byteLength;
    }, 0);
    return total;
  });
  assert.ok(bytes[1] < bytes[0], `level 9 sends fewer bytes than level 1 (${bytes[1]} vs ${bytes[0]})`);
  assert.throws(() => new SyncCache({ syncer: 'felix', snapshotDeflateLevel: 0 }), /snapshotDeflateLevel: 0 is not an integer in 1..9/);
});
