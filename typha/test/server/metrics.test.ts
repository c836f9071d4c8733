import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { PromServerMetrics } from '../../src/metrics/index.js';
import { createDedupeStage } from '../../src/pipeline/dedupe-stage.js';
import type { Update } from '../../src/protocol/index.js';
import { Harness, TestClient, connectAll, upd } from './helpers.js';

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('Prometheus metrics keep Calico Typha names and follow the server', async (t) => {
  const registry = new Registry();
  const metrics = new PromServerMetrics({ registry });
  const h = await Harness.start(t, { metrics, initialKeys: 7 });
  metrics.watch('felix', { cache: h.cache('felix') });
  const clients = await connectAll(h.url, 3, (i) => ({ node: `n${i}` }));
  t.after(() => clients.forEach((c) => c.close()));
  const rev = h.feedMany('felix', 4);
  await Promise.all(clients.map((c) => c.untilRevision(rev)));
  h.server.shed(1);
  // The most recently connected; with fan-out workers not necessarily the last one started.
  await Promise.race(clients.map((c) => c.untilClosed()));
  const refused = new TestClient(h.url, { protocols: ['nope'] });
  await refused.untilClosed();
  // With fan-out workers the refusal is counted when the worker's report arrives.
  await until(() => h.server.connections().refused.subprotocol === 1, 'the refusal counted');
  await h.untilServer(() => h.server.connections().total === 2);

  const text = await registry.metrics();
  assert.equal(value(text, 'typha_connections_accepted'), 3);
  assert.equal(value(text, 'typha_connections_active'), 2);
  assert.equal(value(text, 'typha_connections_streaming{syncer="felix"}'), 2);
  assert.equal(value(text, 'typha_connections_dropped{reason="rebalance"}'), 1);
  assert.equal(value(text, 'typha_connections_rejected{reason="subprotocol"}'), 1);
  assert.equal(value(text, 'typha_connections_synced{syncer="felix",mode="snapshot"}'), 3);
  assert.equal(value(text, 'typha_cache_size{syncer="felix"}'), 11);
  assert.equal(value(text, 'typha_snapshots_generated{syncer="felix"}'), 1, 'three clients joined one snapshot');
  assert.equal(value(text, 'typha_client_snapshot_send_secs_count{syncer="felix"}'), 3);
  assert.equal(value(text, 'typha_breadcrumb_size_count{syncer="felix"}'), 1);
  assert.equal(value(text, 'typha_breadcrumb_size_sum{syncer="felix"}'), 4);
  assert.equal(value(text, 'typha_kvs_per_msg_count{syncer="felix"}'), 1);
  assert.equal(value(text, 'typha_client_latency_secs_count{syncer="felix"}'), 1);
  for (const name of ['typha_ping_latency', 'typha_next_breadcrumb_latency_secs', 'typha_updates_total', 'typha_updates_skipped', 'typha_snapshots_reused']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is registered`);
  }
});

test('typha_updates_total counts what enters dedupe; typha_updates_skipped what it drops', async () => {
  const registry = new Registry();
  const metrics = new PromServerMetrics({ registry });
  const seen: Update[] = [];
  const dedupe = createDedupeStage({ onStatus() {}, onUpdates: (u: Update[]) => seen.push(...u) });
  metrics.watch('bgp', { dedupe });
  const input = metrics.countUpdates('bgp', dedupe);
  input.onUpdates([upd('a', 1, { v: 1 }), upd('b', 1, { v: 1 })], 1);
  input.onUpdates([upd('a', 2, { v: 1 })], 2); // no change for this syncer: skipped
  const text = await registry.metrics();
  assert.equal(value(text, 'typha_updates_total{syncer="bgp"}'), 3);
  assert.equal(value(text, 'typha_updates_skipped{syncer="bgp"}'), 1);
  assert.equal(seen.length, 2);
});

test('typha_snapshot_bytes_encoded and _compressed count each page once, whatever the clients', async (t) => {
  const registry = new Registry();
  const metrics = new PromServerMetrics({ registry });
  const h = await Harness.start(t, { metrics, initialKeys: 1200 });
  metrics.watch('felix', { cache: h.cache('felix') });
  const clients = await connectAll(h.url, 4, (i) => ({ node: `n${i}`, features: ['resume', 'goodbye', 'deflate-snapshot'] }));
  t.after(() => clients.forEach((c) => c.close()));
  const text = await registry.metrics();
  const stats = h.cache('felix').stats();
  const encoded = value(text, 'typha_snapshot_bytes_encoded{syncer="felix"}');
  const compressed = value(text, 'typha_snapshot_bytes_compressed{syncer="felix"}');
  assert.equal(encoded, stats.snapshotBytesEncoded);
  assert.equal(compressed, stats.snapshotBytesCompressed);
  assert.ok(compressed > 0 && compressed * 3 < encoded, `${compressed} compressed of ${encoded}`);
  // Four clients, one encode and one compression per page: each got about the compressed bytes.
  assert.ok(clients[0].bytes < compressed * 1.1, `a client received ${clients[0].bytes} B`);
});

test("Calico's typha_snapshot_raw_bytes / _compressed_bytes: the last complete snapshot; typha_client_write_latency_secs: writes timed", async (t) => {
  const registry = new Registry();
  const metrics = new PromServerMetrics({ registry });
  const h = await Harness.start(t, { metrics, initialKeys: 1200 });
  metrics.watch('felix', { cache: h.cache('felix') });
  let text = await registry.metrics();
  assert.equal(value(text, 'typha_snapshot_raw_bytes{syncer="felix"}'), 0, 'no snapshot yet');
  const clients = await connectAll(h.url, 2, (i) => ({ node: `n${i}`, features: ['resume', 'goodbye', 'deflate-snapshot'] }));
  t.after(() => clients.forEach((c) => c.close()));
  text = await registry.metrics();
  const raw = value(text, 'typha_snapshot_raw_bytes{syncer="felix"}') as number;
  const compressed = value(text, 'typha_snapshot_compressed_bytes{syncer="felix"}') as number;
  const stats = h.cache('felix').stats();
  assert.equal(raw, stats.snapshotBytesEncoded, 'one snapshot so far: its size is every page encoded');
  assert.equal(compressed, stats.snapshotBytesCompressed);
  assert.ok(compressed > 0 && compressed * 3 < raw, `${compressed} of ${raw}`);
  // Hello, pages and InSync to each client were written and timed.
  const writes = value(text, 'typha_client_write_latency_secs_count{syncer="felix"}') as number;
  assert.ok(writes >= 2 * 3, `${writes} writes timed`);
  assert.equal(value(text, 'typha_connections_grace_used{syncer="felix"}'), undefined, 'no client needed the grace (no series yet)');
});
