import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { CODECS, CloseCode, type Update } from '../../src/protocol/index.js';
import { Registry } from 'prom-client';
import { until } from '@cattail/datastore/testing';
import { PromServerMetrics } from '../../src/metrics/index.js';
import { FakeClock, Harness, TestClient, connectAll, fingerprint } from './helpers.js';

const HWM = 64 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Stops reading: the kernel buffers fill, then the server's socket buffer grows. */
function pause(c: TestClient): Socket {
  const socket = (c.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  return socket;
}

async function slowSetup(t: Parameters<typeof Harness.start>[0]) {
  const clock = new FakeClock();
  const h = await Harness.start(t, {
    clock,
    highWaterMarkBytes: HWM,
    maxLagMs: 5000,
    newClientGraceMs: 0,
    pingIntervalMs: 600_000,
    pongTimeoutMs: 1_200_000,
    codecList: [CODECS.msgpack],
    initialKeys: 10,
  });
  const fast = await connectAll(h.url, 5, (i) => ({ node: `fast-${i}` }));
  const slow = new TestClient(h.url, { node: 'slow' });
  await slow.untilInSync();
  t.after(() => [...fast, slow].forEach((c) => c.close()));
  return { clock, h, fast, slow };
}

/** Publishes ~100 KB batches until the slow client lags, then `after` more; returns what the fast clients saw. */
async function pushUntilLagging(h: Harness, fast: TestClient[], after: number) {
  const before: number[] = [];
  const during: number[] = [];
  let maxBuffered = 0;
  let maxFrame = 0;
  let batches = 0;
  for (let b = 0; b < 800 && during.length < after; b++) {
    const bytesBefore = fast[0].bytes;
    const t0 = performance.now();
    const rev = h.feedMany('felix', 100, 1000, `b${b % 5}`);
    await Promise.all(fast.map((c) => c.untilRevision(rev)));
    const ms = performance.now() - t0;
    batches++;
    maxFrame = Math.max(maxFrame, fast[0].bytes - bytesBefore);
    const s = h.server.connections().clients.find((c) => c.node === 'slow');
    assert.ok(s, 'the slow client is still connected');
    maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
    (s.state === 'lagging' ? during : before).push(ms);
  }
  return { before, during, maxBuffered, maxFrame, batches };
}

test('a slow client does not delay the others, stays bounded, and is closed with TooSlow', async (t) => {
  const { clock, h, fast, slow } = await slowSetup(t);
  const socket = pause(slow);
  const r = await pushUntilLagging(h, fast, 30);
  assert.equal(r.during.length, 30, `the slow client lagged after ${r.batches - 30} batches`);
  t.diagnostic(
    JSON.stringify({
      batches: r.batches,
      maxBuffered: r.maxBuffered,
      maxFrame: r.maxFrame,
      before: median(r.before),
      during: median(r.during),
      maxDuring: Math.max(...r.during),
    }),
  );

  // Its server-side buffer never grew past the mark plus one frame.
  assert.ok(r.maxBuffered <= HWM + r.maxFrame, `buffered ${r.maxBuffered} > ${HWM} + ${r.maxFrame}`);
  // The others got every batch, as it was published, at the same pace as before.
  for (const c of fast) assert.equal(c.liveRevisions.length, r.batches);
  assert.ok(Math.max(...r.during) < 1000, `fast clients waited up to ${Math.max(...r.during).toFixed(1)} ms`);
  assert.ok(
    median(r.during) <= 3 * median(r.before) + 20,
    `median ${median(r.during).toFixed(2)} ms while lagging vs ${median(r.before).toFixed(2)} ms before`,
  );

  clock.advance(5000 + h.server.tickMs);
  const s = h.server.connections().clients.find((c) => c.node === 'slow');
  assert.equal(s?.state, 'closing');
  socket.resume();
  const closed = await slow.untilClosed();
  assert.equal(closed.code, CloseCode.TooSlow);
  assert.match(closed.reason, /too slow: behind the live stream for more than 5000 ms/);
  assert.equal(slow.goodbye?.code, CloseCode.TooSlow);

  // Nobody else noticed.
  const rev = h.feedMany('felix', 3);
  await Promise.all(fast.map((c) => c.untilRevision(rev)));
  assert.ok(fast.every((c) => c.closed === undefined));
});

test('a slow client that drains is caught up with coalesced changes and goes live again', async (t) => {
  const { h, fast, slow } = await slowSetup(t);
  const socket = pause(slow);
  const r = await pushUntilLagging(h, fast, 5);
  assert.equal(r.during.length, 5);
  const lastBatch = h.revision;
  socket.resume();
  await slow.untilRevision(lastBatch);
  await slow.until(() => h.server.connections().clients.find((c) => c.node === 'slow')?.state === 'live' || slow.closed !== undefined);
  assert.equal(slow.closed, undefined);
  assert.deepEqual(fingerprint(slow.state), fingerprint(h.model.get('felix') as Map<string, Update>));
  // It received fewer messages than batches (the lag was coalesced), in revision order.
  assert.ok(slow.liveRevisions.length < r.batches, `${slow.liveRevisions.length} messages for ${r.batches} batches`);
  for (let i = 1; i < slow.liveRevisions.length; i++) assert.ok(slow.liveRevisions[i] >= slow.liveRevisions[i - 1]);

  // Live again: the next batch arrives as it is published.
  const next = h.feedMany('felix', 2, 10, 'after');
  await slow.untilRevision(next);
  assert.equal(slow.liveRevisions.at(-1), next);
});

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('new-client grace: a client downloading its snapshot is never cut for lag; after its InSync, only once the grace is used up', async (t) => {
  const clock = new FakeClock();
  const registry = new Registry();
  const metrics = new PromServerMetrics({ registry });
  const h = await Harness.start(t, {
    clock,
    metrics,
    highWaterMarkBytes: HWM,
    maxLagMs: 5000,
    newClientGraceMs: 20_000,
    pingIntervalMs: 600_000,
    pongTimeoutMs: 1_200_000,
    codecList: [CODECS.msgpack],
    initialKeys: 10,
  });
  const [fast] = await connectAll(h.url, 1, () => ({ node: 'fast' }));
  t.after(() => fast.close());
  // ~16 MB of state: far more than the loopback socket buffers take from a client that does not read.
  let rev = 0;
  for (let b = 0; b < 16; b++) rev = h.feedMany('felix', 1000, 1000, `big${b}`);
  await fast.untilRevision(rev);

  // A newcomer that stops reading at once stays in its snapshot while the stream moves on.
  const downloading = new TestClient(h.url, { node: 'downloading' });
  t.after(() => downloading.close());
  await downloading.until((c) => c.opened);
  const socket = pause(downloading);
  const view = () => h.server.connections().clients.find((c) => c.node === 'downloading');
  // The socket buffers live in the kernel: no event says they are full, so poll (bounded).
  await until(
    () => {
      const v = view();
      return v !== undefined && v.state !== 'handshake' && v.state !== 'waiting' && (v.state !== 'syncing' || v.bufferedBytes > HWM);
    },
    'the newcomer blocked in its snapshot',
    20_000,
    10,
  );
  assert.equal(view()?.state, 'syncing', 'the newcomer is held up in its snapshot');
  rev = h.feedMany('felix', 5, 100, 'while-downloading');
  clock.advance(60_000); // past maxLagMs and the grace length: still downloading, so not cut
  clock.advance(h.server.tickMs);
  assert.equal(view()?.state, 'syncing', 'a client still in its snapshot is not cut for lag');
  assert.ok((view()?.lagMs ?? 0) >= 60_000, 'its lag counts from the start of its sync');
  socket.resume();
  await downloading.untilRevision(rev);
  assert.equal(downloading.closed, undefined);
  assert.deepEqual(fingerprint(downloading.state), fingerprint(h.model.get('felix') as Map<string, Update>));

  // A newcomer in sync that then falls behind past maxLagMs within its grace: kept, and counted.
  const slow = new TestClient(h.url, { node: 'slow' });
  t.after(() => slow.close());
  await slow.untilInSync();
  const inSyncAt = clock.now();
  const slowSocket = pause(slow);
  const r = await pushUntilLagging(h, [fast], 3);
  assert.equal(r.during.length, 3);
  clock.advance(6000);
  clock.advance(h.server.tickMs);
  const s = h.server.connections().clients.find((c) => c.node === 'slow');
  assert.equal(s?.state, 'lagging', 'past maxLagMs within the grace: kept');
  assert.equal(metricValue(await registry.metrics(), 'typha_connections_grace_used{syncer="felix"}'), 1);
  clock.advance(inSyncAt + 20_000 - clock.now());
  clock.advance(h.server.tickMs);
  slowSocket.resume();
  const closed = await slow.untilClosed();
  assert.equal(closed.code, CloseCode.TooSlow);
  assert.match(closed.reason, /new-client grace of 20000 ms used up/);
  assert.equal(metricValue(await registry.metrics(), 'typha_connections_grace_used{syncer="felix"}'), 1, 'once per connection');
  assert.equal(fast.closed, undefined);
});
