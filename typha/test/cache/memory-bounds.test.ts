import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { CacheOptionError } from '../../src/cache/errors.js';
import { resolveCacheLimits, CACHE_LIMITS } from '../../src/cache/options.js';
import { estimateJsonBytes } from '../../src/cache/size.js';
import { fakeClock, upd } from './helpers.js';

function ready(opts: Partial<ConstructorParameters<typeof SyncCache>[0]>) {
  const clock = fakeClock();
  const cache = new SyncCache({ syncer: 'ipam', clock, ...opts });
  cache.onStatus('in-sync', 1);
  return { cache, clock };
}

test('the delta log is bounded by batch count', () => {
  const { cache } = ready({ maxLogBatches: 10 });
  for (let r = 2; r < 100; r++) cache.onUpdates([upd(`k${r}`, r, { r })], r);
  assert.equal(cache.stats().logBatches, 10);
  // Resumes older than the log still work, from the state.
  const res = cache.changesSince(50);
  assert.ok(res.mode === 'resume');
  assert.equal(res.updates.length, 49);
  assert.equal(cache.stats().resumesFromState, 1);
});

test('the delta log is bounded by bytes, recorded frames included', () => {
  const { cache } = ready({ maxLogBytes: 10_000 });
  for (let r = 2; r < 200; r++) {
    cache.onUpdates([upd(`k${r}`, r, { payload: 'x'.repeat(100) })], r);
    cache.recordFrames(r, new Map([['json', Buffer.alloc(200)]]));
  }
  const s = cache.stats();
  assert.ok(s.logBytes <= 10_000, `logBytes ${s.logBytes}`);
  assert.ok(s.logBatches > 10 && s.logBatches < 50, `logBatches ${s.logBatches}`);
  assert.equal(cache.deltaFramesSince(2, 'json'), undefined); // no longer held
  assert.equal(cache.deltaFramesSince(195, 'json')?.length, 4);
});

test('the delta log is bounded by age', () => {
  const { cache, clock } = ready({ maxLogAgeMs: 1_000 });
  cache.onUpdates([upd('a', 2, {})], 2);
  clock.advance(600);
  cache.onUpdates([upd('b', 3, {})], 3);
  clock.advance(600);
  assert.equal(cache.stats().logBatches, 1);
  clock.advance(600);
  assert.equal(cache.stats().logBatches, 0);
});

test('tombstones are bounded by count; the horizon rises with each eviction', () => {
  const { cache } = ready({ maxTombstones: 100, maxLogBatches: 0 });
  const creates = [];
  for (let i = 0; i < 500; i++) creates.push(upd(`k${i}`, 2, {}));
  cache.onUpdates(creates, 2);
  for (let i = 0; i < 500; i++) cache.onUpdates([upd(`k${i}`, 3 + i)], 3 + i);
  const s = cache.stats();
  assert.equal(s.tombstones, 100);
  assert.equal(s.keys, 0);
  assert.equal(s.bytes, 0);
  assert.equal(s.oldestResumableRevision, 402);
  assert.equal(cache.changesSince(401).mode, 'snapshot');
  const r = cache.changesSince(402);
  assert.ok(r.mode === 'resume' && r.updates.length === 100);
});

test('state bytes follow the estimates of what is held', () => {
  const { cache } = ready({});
  const a = upd('a', 2, { x: 'y'.repeat(1000) });
  cache.onUpdates([a], 2);
  assert.equal(cache.stats().bytes, estimateJsonBytes(a));
  const a2 = upd('a', 3, { x: 'short' });
  cache.onUpdates([a2], 3);
  assert.equal(cache.stats().bytes, estimateJsonBytes(a2));
});

test('options are validated once, naming the key and range', () => {
  assert.equal(resolveCacheLimits({}).pageSize, CACHE_LIMITS.pageSize.default);
  assert.throws(
    () => new SyncCache({ syncer: 'felix', pageSize: 0 }),
    (e: unknown) => e instanceof CacheOptionError && e.code === 'TYPHA_CACHE_BAD_OPTION' && /pageSize: 0 is not an integer in 1\.\.100000/.test(e.message),
  );
  assert.throws(() => resolveCacheLimits({ maxLogBytes: 1.5 }), CacheOptionError);
});

test('estimateJsonBytes tracks the JSON size', () => {
  const v = {
    kind: 'WorkloadEndpoint',
    name: 'n1-k8s-pod-eth0',
    revision: 123456,
    value: { labels: { app: 'web' }, spec: { ipNetworks: ['10.0.0.1/32'], ports: [{ port: 80, name: 'http' }], on: true, none: null } },
  };
  const est = estimateJsonBytes(v);
  const real = JSON.stringify(v).length;
  assert.ok(est >= real * 0.8 && est <= real * 1.3, `estimate ${est} vs ${real}`);
});
