import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaBatcher } from '../../src/cache/delta-batcher.js';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { CacheClosedError, CacheOptionError } from '../../src/cache/errors.js';
import type { Codec } from '../../src/protocol/codec.js';
import type { Deltas, Update } from '../../src/protocol/messages.js';
import { recordingSink } from '../pipeline/helpers.js';
import { brief, fakeClock, fakeScheduler, testCodec, upd } from './helpers.js';

interface Published {
  frames: ReadonlyMap<string, Buffer>;
  deltas: Deltas;
  cacheRevision: number;
}

function setup(opts: { maxBatch?: number; windowMs?: number } = {}) {
  const clock = fakeClock();
  const scheduler = fakeScheduler();
  const cache = new SyncCache({ syncer: 'felix', clock });
  const json = testCodec('json');
  const msgpack = testCodec('msgpack');
  const published: Published[] = [];
  const batcher = new DeltaBatcher({
    next: cache,
    recorder: cache,
    codecs: [json, msgpack],
    publish: (frames, deltas) => published.push({ frames, deltas, cacheRevision: cache.revision }),
    clock: scheduler,
    ...opts,
  });
  batcher.onStatus('in-sync', 100);
  return { clock, scheduler, cache, json, msgpack, published, batcher };
}

test('one Deltas per window, encoded once per codec, applied to the cache before publishing', () => {
  const { scheduler, cache, json, msgpack, published, batcher } = setup();
  batcher.onUpdates([upd('a', 101, { v: 1 })], 101);
  batcher.onUpdates([upd('b', 102, { v: 1 })], 102);
  scheduler.advance(5);
  batcher.onUpdates([upd('a', 103, { v: 2 })], 103);
  assert.equal(published.length, 0);
  assert.equal(cache.revision, 100);
  scheduler.advance(5);
  assert.equal(published.length, 1);
  const [p] = published;
  assert.deepEqual([...p.frames.keys()].sort(), ['json', 'msgpack']);
  assert.deepEqual([json.encodes, msgpack.encodes], [1, 1]);
  assert.equal(p.deltas.revision, 103);
  assert.deepEqual(p.deltas.updates.map(brief), ['b@102', 'a@103']); // a coalesced to its latest
  assert.deepEqual(json.decode(p.frames.get('json')!), p.deltas);
  assert.equal(p.cacheRevision, 103);
  assert.equal(batcher.stats().coalesced, 1);
  assert.equal(scheduler.pending, 0);
});

test('maxBatch flushes at once', () => {
  const { scheduler, published, batcher } = setup({ maxBatch: 3 });
  batcher.onUpdates([upd('a', 101, {}), upd('b', 101, {})], 101);
  assert.equal(published.length, 0);
  batcher.onUpdates([upd('c', 102, {}), upd('d', 102, {})], 102);
  assert.equal(published.length, 1);
  assert.equal(published[0].deltas.updates.length, 4);
  assert.equal(scheduler.pending, 0);
});

test('a batch with nothing for this syncer moves the revision without publishing', () => {
  const { scheduler, cache, json, published, batcher } = setup();
  batcher.onUpdates([], 150);
  assert.equal(cache.revision, 150);
  assert.equal(published.length, 0);
  // While a batch is pending, an empty batch moves that batch's revision instead.
  batcher.onUpdates([upd('a', 151, {})], 151);
  batcher.onUpdates([], 160);
  scheduler.advance(10);
  assert.equal(published[0].deltas.revision, 160);
  assert.equal(cache.revision, 160);
  assert.equal(json.encodes, 1);
});

test('a status change flushes first and then passes on', () => {
  const sink = recordingSink<Update>();
  const published: Deltas[] = [];
  const batcher = new DeltaBatcher({ next: sink, codecs: [testCodec()], publish: (_f, d) => published.push(d), clock: fakeScheduler() });
  batcher.onStatus('in-sync', 4);
  batcher.onUpdates([upd('a', 5, {})], 5);
  batcher.onStatus('resync', 5);
  assert.deepEqual(
    sink.calls.map((c) => c.type),
    ['status', 'updates', 'status'],
  );
  assert.equal(published.length, 1);
});

test('before the first in-sync the initial listing goes straight through, unencoded', () => {
  const sink = recordingSink<Update>();
  const codec = testCodec();
  const published: Deltas[] = [];
  const scheduler = fakeScheduler();
  const batcher = new DeltaBatcher({ next: sink, codecs: [codec], publish: (_f, d) => published.push(d), clock: scheduler });
  batcher.onStatus('resync', 0);
  batcher.onUpdates([upd('a', 3, {}), upd('b', 4, {})], 10);
  assert.deepEqual(sink.calls[1], { type: 'updates', updates: [upd('a', 3, {}), upd('b', 4, {})], revision: 10 });
  assert.equal(scheduler.pending, 0);
  batcher.onStatus('in-sync', 10);
  assert.deepEqual([codec.encodes, published.length], [0, 0]);
  batcher.onUpdates([upd('a', 11, { v: 2 })], 11);
  assert.equal(scheduler.pending, 1);
});

test('recorded frames are replayed as the same Buffers and let join reuse a snapshot', () => {
  const { clock, scheduler, cache, json, published, batcher } = setup();
  batcher.onUpdates([upd('a', 101, { v: 1 })], 101);
  scheduler.advance(10);
  const snap = cache.snapshot(json); // at 101
  batcher.onUpdates([upd('b', 102, { v: 1 })], 102);
  scheduler.advance(10);
  batcher.onUpdates([upd('c', 103, { v: 1 })], 103);
  scheduler.advance(10);

  const tail = cache.deltaFramesSince(101, 'json');
  assert.ok(tail);
  assert.equal(tail.length, 2);
  assert.equal(tail[0], published[1].frames.get('json'));
  assert.equal(tail[1], published[2].frames.get('json'));

  const encodes = json.encodes;
  const joined = cache.join(json);
  assert.equal(joined.snapshot, snap);
  assert.deepEqual(joined.tail, tail);
  assert.equal(joined.revision, 103);
  assert.equal(json.encodes, encodes);

  clock.advance(1_001); // past snapshotReuseMs: a fresh snapshot
  const fresh = cache.join(json);
  assert.notEqual(fresh.snapshot, snap);
  assert.equal(fresh.snapshot.revision, 103);
  assert.deepEqual(fresh.tail, []);
});

test('an encoding failure in one codec neither throws nor stops the others', () => {
  const good = testCodec('json');
  const bad: Codec = {
    ...testCodec('msgpack'),
    encode: () => {
      throw new Error('cannot encode');
    },
  };
  const sink = recordingSink<Update>();
  const published: string[][] = [];
  const scheduler = fakeScheduler();
  const batcher = new DeltaBatcher({ next: sink, codecs: [good, bad], publish: (f) => published.push([...f.keys()]), clock: scheduler });
  batcher.onStatus('in-sync', 0);
  batcher.onUpdates([upd('a', 1, {})], 1);
  assert.doesNotThrow(() => scheduler.advance(10));
  assert.deepEqual(published, [['json']]);
  assert.equal(sink.updates().length, 1);
  assert.equal(batcher.stats().encodeErrors, 1);
});

test('close flushes and refuses further updates; options are range-checked', () => {
  const { published, batcher } = setup();
  batcher.onUpdates([upd('a', 101, {})], 101);
  batcher.close();
  assert.equal(published.length, 1);
  assert.throws(() => batcher.onUpdates([], 102), CacheClosedError);
  const cache = new SyncCache({ syncer: 'felix' });
  assert.throws(() => new DeltaBatcher({ next: cache, codecs: [testCodec()], publish: () => {}, windowMs: -1 }), CacheOptionError);
  assert.throws(() => new DeltaBatcher({ next: cache, codecs: [], publish: () => {} }), CacheOptionError);
});

test('nothing escapes the timer: a failing flush is logged, rate limited', () => {
  const lines: unknown[] = [];
  const logger = { error: (o: object) => lines.push(o), warn: () => {}, info: () => {}, debug: () => {} };
  const cache = new SyncCache({ syncer: 'felix' });
  const scheduler = fakeScheduler();
  const batcher = new DeltaBatcher({ next: cache, codecs: [testCodec()], publish: () => {}, clock: scheduler, logger });
  batcher.onStatus('in-sync', 1);
  batcher.onUpdates([upd('a', 2, {})], 2);
  cache.close();
  assert.doesNotThrow(() => scheduler.advance(10));
  assert.equal(lines.length, 1);
  assert.equal((lines[0] as { err: Error }).err.name, 'CacheClosedError');
});
