import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIN_COUNT, binIndex, binQuantile, binUpperMs, Timeline, type TickReport } from '../src/timeline.js';

const k6hist = (await import(new URL('../../k6/lib/histogram.js', import.meta.url).href)) as { BIN_COUNT: number; binIndex(ms: number): number };

test('the runner bins latencies exactly as the k6 scripts do', () => {
  assert.equal(k6hist.BIN_COUNT, BIN_COUNT);
  for (let ms = -1; ms < 70_000; ms += ms < 200 ? 0.13 : ms < 2000 ? 1.7 : 97) assert.equal(binIndex(ms), k6hist.binIndex(ms), `ms=${ms}`);
});

test('every value lies below its bin upper edge and above the previous one', () => {
  for (const ms of [0.2, 0.5, 13.3, 99.9, 100, 101, 999, 1000, 1234, 59_999, 120_000]) {
    const i = binIndex(ms);
    assert.ok(ms < binUpperMs(i) || i === BIN_COUNT - 1, `${ms} < upper(${i})`);
    if (i > 0) assert.ok(ms >= binUpperMs(i - 1), `${ms} >= upper(${i - 1})`);
  }
});

test('binQuantile', () => {
  const bins = new Uint32Array(BIN_COUNT);
  for (let ms = 1; ms <= 100; ms++) bins[binIndex(ms - 0.1)]++;
  assert.equal(binQuantile(bins, 0.5), 50);
  assert.equal(binQuantile(bins, 0.99), 99);
  assert.ok(Number.isNaN(binQuantile(new Uint32Array(BIN_COUNT), 0.5)));
});

function report(vu: number, at: number, lat: number[], live: number): TickReport {
  const bins: Record<string, number> = {};
  for (const ms of lat) bins[binIndex(ms)] = (bins[binIndex(ms)] ?? 0) + 1;
  return {
    vu,
    at,
    sockets: 10,
    open: 10,
    live,
    everInSync: live,
    minRevision: 5,
    dropGen: 0,
    latN: lat.length,
    bins,
    inSyncMs: [],
    bytes: 2e6,
    errors: 0,
    done: false,
  };
}

test('Timeline adds VUs per second and carries socket counts over seconds a VU missed', () => {
  const t = new Timeline(1_000_000);
  t.add(report(1, 1_000_100, [10, 20], 10), 'baseline');
  t.add(report(2, 1_000_900, [30], 4), 'baseline');
  t.add(report(1, 1_001_100, [40], 10), 'slow');
  const pts = t.points();
  assert.equal(pts.length, 2);
  assert.deepEqual([pts[0].t, pts[0].live, pts[0].latN, pts[0].p50, pts[0].mbIn], [0, 14, 3, 20.5, 4]);
  assert.deepEqual([pts[1].t, pts[1].live, pts[1].latN, pts[1].max], [1, 14, 1, 40.5]);
  assert.equal(t.phaseSummary('baseline').count, 3);
  assert.equal(t.phaseSummary('slow').p99, 40.5);
});
