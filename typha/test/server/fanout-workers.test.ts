/**
 * Fan-out workers (fanoutWorkers > 1, fanout-pool.ts): the sockets live in worker processes,
 * the protocol and the cache in this one. Clients spread over the workers must converge on the
 * cache's state through churn and reconnects; a worker killed by its pid drops only its own
 * clients, which come back and resync while the others keep their stream; /status and the
 * metrics count every worker's clients. Seeded: a failure replays with its seed
 * (CATTAIL_FANOUT_SEED).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import WebSocket from 'ws';
import { Registry } from 'prom-client';
import { until } from '@cattail/datastore/testing';
import { PromServerMetrics } from '../../src/metrics/index.js';
import { CODECS, Features, type SyncerType, type Update } from '../../src/protocol/index.js';
import { updateKey } from '../../src/common/update-key.js';
import { Harness, TestClient, fingerprint, upd, type ClientOptions } from './helpers.js';
import { mulberry32 as seeded } from '../fault/prng.js';
import { BALANCE_SLACK_SOCKETS } from '../../src/server/fanout-pool.js';

const SEED = Number(process.env.CATTAIL_FANOUT_SEED ?? '17');
const WORKERS = 2;

function randomBatch(rnd: () => number, revision: number, current: Map<string, Update>): Update[] {
  const n = 1 + Math.floor(rnd() * 15);
  const out: Update[] = [];
  for (let i = 0; i < n; i++) {
    const name = `k-${Math.floor(rnd() * 150)}`;
    const exists = current.has(updateKey(upd(name, revision)));
    out.push(exists && rnd() < 0.3 ? upd(name, revision) : upd(name, revision, { v: Math.floor(rnd() * 1e6), pad: 'x'.repeat(Math.floor(rnd() * 400)) }));
  }
  return out;
}

const ALL_FEATURES = [Features.Resume, Features.Goodbye, Features.DeflateSnapshot, Features.DeflateDeltas];

function clientOptions(rnd: () => number, i: number): ClientOptions {
  const syncer: SyncerType = i % 2 === 0 ? 'felix' : 'bgp';
  const json = rnd() < 0.25;
  return {
    syncer,
    node: `node-${i}`,
    codec: json ? CODECS.json : CODECS.msgpack,
    features: !json && rnd() < 0.6 ? ALL_FEATURES : [Features.Resume, Features.Goodbye],
  };
}

/** A new connection for `c` that resumes from what it holds (or a snapshot, if it holds nothing in sync). */
function reconnect(h: Harness, c: TestClient, opts: ClientOptions): TestClient {
  const resume = c.inSyncRevision >= 0 ? { revision: c.revision, datastoreId: h.datastoreId } : undefined;
  return new TestClient(h.url, { ...opts, ...(resume !== undefined ? { resume, state: new Map(c.state) } : {}) });
}

function assertConverged(h: Harness, clients: Iterable<TestClient>): void {
  for (const c of clients) {
    const expected = fingerprint(h.model.get(c.syncer as SyncerType) as Map<string, Update>);
    assert.equal(c.closed, undefined, `${c.syncer} client still open`);
    assert.deepEqual(fingerprint(c.state), expected, `a ${c.syncer} client (seed ${SEED}) holds the cache's state`);
  }
}

test(`clients spread over ${WORKERS} fan-out workers converge through churn and reconnects (seed ${SEED})`, async (t) => {
  const h = await Harness.start(t, { fanoutWorkers: WORKERS, initialKeys: 120, highWaterMarkBytes: 16 * 1024 });
  const rnd = seeded(SEED);
  const opts = new Map<TestClient, ClientOptions>();
  const clients = new Set<TestClient>();
  t.after(() => [...clients].forEach((c) => c.close()));
  // In waves, as agents come: the kernel hands each connection to whichever worker accepts
  // first, and a worker more than BALANCE_SLACK_SOCKETS ahead stops listening for a while.
  for (let wave = 0; wave < 8; wave++) {
    const batch: TestClient[] = [];
    for (let i = 0; i < 5; i++) {
      const o = clientOptions(rnd, wave * 5 + i);
      const c = new TestClient(h.url, o);
      opts.set(c, o);
      clients.add(c);
      batch.push(c);
    }
    await Promise.all(batch.map((c) => c.untilInSync()));
  }
  const status = h.server.connections();
  assert.equal(status.fanoutWorkers?.length, WORKERS);
  const shares = (status.fanoutWorkers ?? []).map((w) => w.sockets);
  assert.equal(
    shares.reduce((a, b) => a + b, 0),
    40,
  );
  // Even within the slack, plus one wave the balancer may not have seen yet.
  assert.ok(Math.max(...shares) - Math.min(...shares) <= BALANCE_SLACK_SOCKETS + 5, `sockets per worker: ${shares.join(', ')}`);

  const last: Record<string, number> = { felix: 100, bgp: 100 };
  for (let round = 0; round < 50; round++) {
    for (const s of ['felix', 'bgp'] as const) {
      if (rnd() < 0.3) continue;
      last[s] = h.feed(s, (rev) => randomBatch(rnd, rev, h.model.get(s) as Map<string, Update>));
    }
    if (rnd() < 0.25) {
      // A client drops and reconnects, resuming from what it holds.
      const victim = [...clients][Math.floor(rnd() * clients.size)];
      const o = opts.get(victim) as ClientOptions;
      victim.close();
      clients.delete(victim);
      const back = reconnect(h, victim, o);
      opts.set(back, o);
      clients.add(back);
    }
    await nextTurn();
  }
  await Promise.all([...clients].map((c) => c.untilRevision(last[c.syncer])));
  assertConverged(h, clients);
  // Every client that resumed got resume mode (its revision is covered by the log).
  const modes = [...clients].map((c) => c.hello?.mode);
  assert.ok(modes.includes('resume'), `some reconnects resumed (${modes.join(',')})`);
});

test('a fan-out worker killed by its pid: its clients reconnect and resync, the other worker keeps streaming; /status and metrics count all', async (t) => {
  const registry = new Registry();
  const metrics = new PromServerMetrics({ registry });
  const h = await Harness.start(t, { fanoutWorkers: WORKERS, initialKeys: 50, metrics });
  const rnd = seeded(SEED + 1);
  const clients: TestClient[] = [];
  const opts = new Map<TestClient, ClientOptions>();
  t.after(() => clients.forEach((c) => c.close()));
  // In four waves of five: a burst may land whole in one worker before the balance hears of it,
  // but one that is a slack (8) ahead stops listening before the next wave, so both hold some.
  for (let i = 0; i < 20; i++) {
    const o = { ...clientOptions(rnd, i), syncer: 'felix' as const };
    const c = new TestClient(h.url, o);
    opts.set(c, o);
    clients.push(c);
    if (i % 5 === 4) await Promise.all(clients.map((x) => x.untilInSync()));
  }
  let rev = h.feedMany('felix', 5, 50, 'before');
  await Promise.all(clients.map((c) => c.untilRevision(rev)));

  // Aggregated: /status and the metrics see every worker's clients.
  const before = h.server.connections();
  assert.equal(before.total, 20);
  assert.equal(before.syncers.felix?.live, 20);
  assert.equal(
    (before.fanoutWorkers ?? []).reduce((n, w) => n + w.sockets, 0),
    20,
  );
  const text = await registry.metrics();
  assert.match(text, /^typha_connections_active 20$/m);
  assert.match(text, /^typha_connections_streaming\{syncer="felix"\} 20$/m);

  const [victimPid, survivorPid] = h.server.fanoutWorkerPids();
  const victimIndex = (before.fanoutWorkers ?? []).find((w) => w.pid === victimPid)?.index;
  const onVictim = (before.fanoutWorkers ?? []).find((w) => w.pid === victimPid)?.sockets ?? 0;
  assert.ok(onVictim > 0 && onVictim < 20, `the victim holds some of the clients (${onVictim})`);
  process.kill(victimPid, 'SIGKILL');
  await until(
    () => clients.filter((c) => c.closed !== undefined).length === onVictim,
    () => `${clients.filter((c) => c.closed !== undefined).length} of ${onVictim} closed`,
  );
  const dropped = clients.filter((c) => c.closed !== undefined);
  const kept = clients.filter((c) => c.closed === undefined);
  for (const c of dropped) assert.equal(c.closed?.code, 1006, 'cut, not closed cleanly');

  // The main process keeps serving the survivor's clients while the victim is gone.
  rev = h.feedMany('felix', 3, 50, 'during');
  await Promise.all(kept.map((c) => c.untilRevision(rev)));
  await until(
    () => h.server.connections().total === kept.length,
    () => `server holds ${h.server.connections().total}, want ${kept.length}`,
  );
  await until(
    () => h.server.connections().fanoutWorkers?.find((w) => w.index === victimIndex && w.pid !== undefined && w.pid !== victimPid),
    'a new worker in the victim slot',
  );
  const after = h.server.connections();
  assert.equal(after.fanoutWorkers?.find((w) => w.index === victimIndex)?.restarts, 1);
  assert.ok(h.server.fanoutWorkerPids().includes(survivorPid), 'the survivor was not restarted');

  // The dropped clients come back (resuming) and resync; everyone converges.
  const back = dropped.map((c) => reconnect(h, c, opts.get(c) as ClientOptions));
  clients.push(...back);
  rev = h.feedMany('felix', 4, 50, 'after');
  const all = [...kept, ...back];
  await Promise.all(all.map((c) => c.untilRevision(rev)));
  assertConverged(h, all);
  await until(() => h.server.connections().total === 20, 'all 20 back');
  const final = await registry.metrics();
  assert.match(final, /^typha_connections_active 20$/m);
  assert.equal(h.server.connections().tcp.open, 20, 'the accept gate counts what the dead worker held as closed');
});

test('fanoutWorkers and frameWriter together are refused with a clear error', async (t) => {
  await assert.rejects(
    Harness.start(t, { fanoutWorkers: 2, frameWriter: { name: 'x', writeShared: () => undefined, write: () => undefined } }),
    /frameWriter: only for the in-process write path/,
  );
});

test('bursts of connections to two fan-out workers: every one is accepted, round after round, and the shares stay even', async (t) => {
  // No hello is sent: the handshake deadline is out of the way, and so are the accept limits.
  const h = await Harness.start(t, {
    fanoutWorkers: WORKERS,
    initialKeys: 0,
    maxPendingHandshakes: 0,
    maxConnectionsPerSource: 0,
    handshakeTimeoutMs: 120_000,
  });
  const open: WebSocket[] = [];
  t.after(() => open.forEach((ws) => ws.terminate()));
  for (let round = 0; round < 4; round++) {
    // As fast as the client can: whole bursts land in one worker's accept loop before the
    // main process hears of them, so the balance acts on later ones.
    const burst = Array.from({ length: 400 }, () => new WebSocket(h.url, [CODECS.msgpack.subprotocol], { perMessageDeflate: false }));
    open.push(...burst);
    await Promise.all(burst.map((ws) => once(ws, 'open')));
    if (round % 2 === 1) {
      // Half of them leave again: the shares move, and a worker that stopped listening must listen again.
      for (const ws of burst.splice(0, 200)) ws.terminate();
    }
  }
  const status = await until(() => {
    const s = h.server.connections();
    return (s.fanoutWorkers ?? []).reduce((n, w) => n + w.sockets, 0) === 1200 ? s : undefined;
  }, 'the workers hold the 1,200 sockets left');
  const shares = (status.fanoutWorkers ?? []).map((w) => w.sockets);
  t.diagnostic(`sockets per worker: ${shares.join(', ')}; accepting: ${(status.fanoutWorkers ?? []).map((w) => w.accepting).join(', ')}`);
  assert.ok(
    (status.fanoutWorkers ?? []).some((w) => w.accepting),
    'some worker accepts',
  );
  // A burst may land whole in one worker before the balance hears of it.
  assert.ok(Math.max(...shares) - Math.min(...shares) <= 400 + BALANCE_SLACK_SOCKETS, `sockets per worker: ${shares.join(', ')}`);
  // And after the bursts, the next connection is accepted too.
  const last = new WebSocket(h.url, [CODECS.msgpack.subprotocol]);
  open.push(last);
  await once(last, 'open');
});

test('fanoutWorkersGrowAt: one worker starts, another each time they hold that many sockets each, never more than fanoutWorkers', async (t) => {
  const GROW_AT = 4;
  const h = await Harness.start(t, { fanoutWorkers: 3, fanoutWorkersGrowAt: GROW_AT, initialKeys: 30 });
  const clients: TestClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const workers = () => h.server.connections().fanoutWorkers ?? [];
  assert.equal(workers().length, 1, 'one worker to start');
  const started: number[] = [];
  // One client at a time, each in sync before the next: the count of workers follows the sockets.
  for (let i = 0; i < 14; i++) {
    const c = new TestClient(h.url, { syncer: 'felix', node: `node-${i}`, codec: CODECS.msgpack, features: ALL_FEATURES });
    clients.push(c);
    await c.untilInSync();
    const held = clients.length;
    // The pool grows on the accept event, so by the time this client is in sync the pool has
    // heard of it: ⌈held / GROW_AT⌉ workers once held reaches a multiple, capped at 3.
    const want = Math.min(3, Math.floor(held / GROW_AT) + 1);
    await until(() => (workers().length === want ? true : undefined), `${want} workers for ${held} sockets (have ${workers().length})`);
    started.push(workers().length);
  }
  assert.deepEqual(started, [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3]);
  // The new worker gets connections once the others are a slack ahead of it (none are moved).
  for (let i = 14; i < 14 + 2 * BALANCE_SLACK_SOCKETS; i++) {
    const c = new TestClient(h.url, { syncer: 'felix', node: `node-${i}`, codec: CODECS.msgpack, features: ALL_FEATURES });
    clients.push(c);
    await c.untilInSync();
  }
  const status = workers();
  assert.equal(status.length, 3, 'never more than fanoutWorkers');
  assert.ok(
    status.every((w) => w.pid !== undefined),
    'every started worker runs',
  );
  assert.equal(
    status.reduce((n, w) => n + w.sockets, 0),
    clients.length,
  );
  assert.ok(status[2].sockets > 0, `the last worker started took connections (${status.map((w) => w.sockets).join(', ')})`);
  // Every client, whichever worker holds it, follows the stream.
  const rev = h.feed('felix', (r) => [upd('grown', r, { v: 1 })]);
  await Promise.all(clients.map((c) => c.untilRevision(rev)));
  assertConverged(h, clients);
});
