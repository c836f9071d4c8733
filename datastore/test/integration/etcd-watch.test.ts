/**
 * Watch guarantees against a real etcd: order, exactly-once across dropped connections (with
 * writes made while disconnected), compaction surfacing as EtcdCompactedError, failover to the
 * next endpoint, and a frozen (half-open) server noticed by keepalive pings.
 *
 * Disconnection is real: the watching client talks through a TCP proxy whose connections the
 * test resets. The watcher's reconnect delay is a gate the test holds shut, so the writes of a
 * "while disconnected" phase provably happen before the watch is back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, EtcdCompactedError, compare, op } from '../../src/etcd/index.js';
import { startEtcd, startTcpProxy, type EtcdServer } from '../../src/testing/index.js';
import { Collector, gatedDelay } from '../etcd/collector.js';

let server: EtcdServer;
let direct: EtcdClient;

before(async () => {
  server = await startEtcd();
  direct = new EtcdClient({ endpoints: server.endpoints });
});

after(async () => {
  direct?.close();
  await server?.stop();
});

function portOf(s: EtcdServer): number {
  return Number(new URL(s.clientUrl).port);
}

/**
 * Writes a deterministic mix under `prefix` (puts, deletes of existing keys, two-key txns that
 * share one revision) and records the events a watch must report, in order.
 */
class Writer {
  readonly expected: string[] = [];
  #live = new Set<string>();
  constructor(
    readonly client: EtcdClient,
    readonly prefix: string,
  ) {}

  async write(i: number): Promise<void> {
    const key = `${this.prefix}k${i % 17}`;
    if (i % 7 === 3 && this.#live.has(key)) {
      const res = await this.client.deleteRange(key);
      this.#live.delete(key);
      this.expected.push(`delete ${key} ${res.revision}`);
    } else if (i % 11 === 5) {
      const a = `${this.prefix}t${i}a`;
      const b = `${this.prefix}t${i}b`;
      const res = await this.client.txn({
        compare: [compare.createRevision(a, '=', 0)],
        success: [op.put(a, `v${i}`), op.put(b, `v${i}`)],
      });
      assert.equal(res.succeeded, true);
      this.expected.push(`put ${a} ${res.revision}`, `put ${b} ${res.revision}`);
    } else {
      const res = await this.client.put(key, `v${i}`);
      this.#live.add(key);
      this.expected.push(`put ${key} ${res.revision}`);
    }
  }

  async writeRange(from: number, to: number): Promise<void> {
    for (let i = from; i < to; i++) await this.write(i);
  }
}

test('watch delivers puts and deletes in order, with prevKv and the last event revision per batch', async () => {
  const sink = new Collector();
  const start = (await direct.status()).revision + 1;
  const w = direct.watch({ key: '/w/basic/', prefix: true, startRevision: start, prevKv: true }, sink);
  try {
    await sink.waitFor(() => sink.count('connected') === 1, 'connected');
    const p1 = await direct.put('/w/basic/a', '1');
    const p2 = await direct.put('/w/basic/a', '2');
    const tx = await direct.txn({ success: [op.put('/w/basic/b', 'x'), op.delete('/w/basic/a')] });
    await direct.put('/w/basic-not-in-prefix', 'ignored');
    const d = await direct.deleteRange('/w/basic/b');
    await sink.waitFor(() => sink.events.length === 5, 'five events');
    assert.deepEqual(sink.lines(), [
      `put /w/basic/a ${p1.revision}`,
      `put /w/basic/a ${p2.revision}`,
      `put /w/basic/b ${tx.revision}`,
      `delete /w/basic/a ${tx.revision}`,
      `delete /w/basic/b ${d.revision}`,
    ]);
    assert.equal(sink.events[1].prevKv?.value.toString(), '1');
    assert.equal(sink.events[3].kv.value.length, 0);
    assert.equal(sink.events[3].prevKv?.value.toString(), '2');
    // Each batch reports its last event's revision and a txn's two events come in one batch
    // (batch revisions strictly increase). The watch starts one revision behind etcd's head (see
    // watch.ts), so etcd may catch it up with several revisions in one batch.
    const revs = sink.batchRevisions;
    assert.ok(
      revs.every((r, i) => i === 0 || r > revs[i - 1]),
      `batch revisions increase: ${revs.join(', ')}`,
    );
    assert.ok(
      revs.every((r) => [p1.revision, p2.revision, tx.revision, d.revision].includes(r)),
      `each batch ends at an event's revision: ${revs.join(', ')}`,
    );
    assert.equal(revs.at(-1), d.revision);
    assert.equal(w.lastRevision, d.revision);
    assert.deepEqual(sink.errors, []);

    const other = await direct.put('/w/elsewhere', 'x');
    w.requestProgress();
    await sink.waitFor(() => sink.progress.length === 1, 'a progress notification');
    assert.ok(sink.progress[0] >= other.revision, `progress ${sink.progress[0]} >= ${other.revision}`);
    assert.equal(sink.events.length, 5, 'progress carries no events');
  } finally {
    w.close();
  }
});

test('watch resumes after its connection is cut: writes made while disconnected arrive exactly once, in order', async () => {
  const proxy = await startTcpProxy('127.0.0.1', portOf(server));
  const gate = gatedDelay();
  const watcher = new EtcdClient({ endpoints: [`http://127.0.0.1:${proxy.port}`], delay: gate.delay });
  const writer = new Writer(direct, '/w/resume/');
  const sink = new Collector();
  const start = (await direct.status()).revision + 1;
  const w = watcher.watch({ key: '/w/resume/', prefix: true, startRevision: start }, sink);
  try {
    await sink.waitFor(() => sink.count('connected') === 1, 'first connect');
    await writer.writeRange(0, 100);
    await sink.waitFor(() => sink.events.length === writer.expected.length, 'phase 1 events');

    gate.hold();
    proxy.cutAll();
    await sink.waitFor(() => sink.count('reconnecting') === 1, 'the watch noticing the cut');
    const beforeOutage = sink.events.length;
    await writer.writeRange(100, 300);
    assert.equal(sink.events.length, beforeOutage, 'nothing arrives while disconnected');
    gate.release();
    await sink.waitFor(() => sink.count('connected') === 2 && sink.events.length >= writer.expected.length, 'catch-up');
    assert.deepEqual(sink.lines(), writer.expected);

    // Cut again and again while writes are still flowing.
    const base = sink.events.length;
    const writes = writer.writeRange(300, 800);
    // Each cut waits for the watch to be connected again after the one before, so every cut
    // lands on a live connection (events delivered before a cut can satisfy the next step).
    for (const [i, step] of [60, 160, 260, 360, 460].entries()) {
      await sink.waitFor(() => sink.count('connected') >= 2 + i && sink.events.length >= base + step, `event ${base + step} on connection ${2 + i}`);
      proxy.cutAll();
    }
    await writes;
    await sink.waitFor(() => sink.events.length >= writer.expected.length, 'all events after repeated cuts');
    assert.deepEqual(sink.lines(), writer.expected);
    // Every cut is noticed, the last one too (it may land after the last event arrived).
    await sink.waitFor(() => sink.count('reconnecting') >= 6 && sink.count('connected') >= 7, 'a reconnect after each of the six cuts');
    const revisions = sink.events.map((e) => e.kv.modRevision);
    assert.deepEqual(
      revisions,
      [...revisions].sort((a, b) => a - b),
      'revisions never go backwards',
    );
    assert.deepEqual(sink.errors, []);
  } finally {
    w.close();
    watcher.close();
    await proxy.close();
  }
});

test('compaction while the watcher is behind ends the watch with EtcdCompactedError(compactRevision)', async () => {
  const proxy = await startTcpProxy('127.0.0.1', portOf(server));
  const gate = gatedDelay();
  const watcher = new EtcdClient({ endpoints: [`http://127.0.0.1:${proxy.port}`], delay: gate.delay });
  const writer = new Writer(direct, '/w/compact/');
  const sink = new Collector();
  const start = (await direct.status()).revision + 1;
  const w = watcher.watch({ key: '/w/compact/', prefix: true, startRevision: start }, sink);
  try {
    await sink.waitFor(() => sink.count('connected') === 1, 'connected');
    await writer.writeRange(0, 5);
    await sink.waitFor(() => sink.events.length === writer.expected.length, 'first events');
    const delivered = sink.events.length;

    gate.hold();
    proxy.cutAll();
    await sink.waitFor(() => sink.count('reconnecting') === 1, 'disconnect');
    await writer.writeRange(5, 20);
    const compactTo = (await direct.put('/w/compact/last', 'x')).revision;
    await direct.compact(compactTo, true);
    gate.release();

    await sink.waitFor(() => sink.errors.length === 1, 'the compaction error');
    const err = sink.errors[0];
    assert.ok(err instanceof EtcdCompactedError, err.name);
    assert.equal(err.code, 'ETCD_COMPACTED');
    assert.equal(err.compactRevision, compactTo);
    assert.equal(w.closed, true);
    assert.equal(sink.events.length, delivered, 'no event from behind the compaction');
  } finally {
    w.close();
    watcher.close();
    await proxy.close();
  }
});

test('a deletion at the compact revision is never missed: a watch that would start there is refused, and the caller relists', async () => {
  // etcd accepts a watch that starts AT its compact revision, but physical compaction removes the
  // tombstones at that revision: a watch from there would never report the deletion. The watch
  // asks for one revision earlier, so etcd refuses it (found by a Typha fault round: a Node
  // deleted at the compaction's revision stayed in every client).
  await direct.put('/w/tomb/a', '1');
  const known = (await direct.put('/w/tomb/b', '1')).revision; // what the caller has seen
  const deletedAt = (await direct.deleteRange('/w/tomb/a')).revision;
  assert.equal(deletedAt, known + 1);
  await direct.put('/w/elsewhere', 'x');
  await direct.compact(deletedAt, true);
  const sink = new Collector();
  const w = direct.watch({ key: '/w/tomb/', prefix: true, startRevision: known + 1 }, sink);
  try {
    // Before the fix this waited for ever: no event (the tombstone is gone) and no error.
    await sink.waitFor(() => sink.errors.length + sink.events.length > 0, 'the deletion or the compaction error');
    const err = sink.errors[0];
    assert.ok(err instanceof EtcdCompactedError, `${err?.name}: the watch is refused, not silently short of the deletion`);
    assert.equal(err.compactRevision, deletedAt);
    assert.deepEqual(sink.events, []);
  } finally {
    w.close();
  }
});

test('a watch that starts at a compacted revision fails at once with its compact revision', async () => {
  const old = await direct.put('/w/old', '1');
  const compactTo = (await direct.put('/w/old', '2')).revision;
  await direct.compact(compactTo);
  const sink = new Collector();
  const w = direct.watch({ key: '/w/old', startRevision: old.revision }, sink);
  await sink.waitFor(() => sink.errors.length === 1, 'the compaction error');
  assert.equal((sink.errors[0] as EtcdCompactedError).compactRevision, compactTo);
  assert.equal(w.closed, true);
  assert.deepEqual(sink.events, []);
});

test('when its endpoint goes away, a watch fails over to the next one and resumes', async () => {
  const a = await startTcpProxy('127.0.0.1', portOf(server));
  const b = await startTcpProxy('127.0.0.1', portOf(server));
  const watcher = new EtcdClient({
    endpoints: [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`],
    dialTimeoutMs: 1000,
  });
  const writer = new Writer(direct, '/w/failover/');
  const sink = new Collector();
  const start = (await direct.status()).revision + 1;
  const w = watcher.watch({ key: '/w/failover/', prefix: true, startRevision: start }, sink);
  try {
    await sink.waitFor(() => sink.count('connected') === 1, 'connected');
    assert.equal(a.connections, 1, 'the first endpoint is preferred');
    await writer.writeRange(0, 20);
    await sink.waitFor(() => sink.events.length === writer.expected.length, 'events via a');
    await a.close();
    await writer.writeRange(20, 60);
    await sink.waitFor(() => sink.count('connected') === 2 && sink.events.length >= writer.expected.length, 'events via b');
    assert.deepEqual(sink.lines(), writer.expected);
    assert.equal(b.connections, 1);
  } finally {
    w.close();
    watcher.close();
    await a.close();
    await b.close();
  }
});

test('a frozen etcd (half-open connection) is noticed by keepalive pings; the watch resumes when it thaws', async (t) => {
  // Pings every 300 ms need etcd to accept them (its default minimum is 5 s).
  const frozen = await startEtcd({ grpcKeepaliveMinTimeMs: 100 });
  t.after(() => frozen.stop());
  const writes = new EtcdClient({ endpoints: frozen.endpoints });
  const watcher = new EtcdClient({
    endpoints: frozen.endpoints,
    keepaliveTimeMs: 300,
    keepaliveTimeoutMs: 300,
    dialTimeoutMs: 500,
  });
  t.after(() => {
    writes.close();
    watcher.close();
  });
  const writer = new Writer(writes, '/w/frozen/');
  const sink = new Collector();
  const start = (await writes.status()).revision + 1;
  const w = watcher.watch({ key: '/w/frozen/', prefix: true, startRevision: start }, sink);
  t.after(() => w.close());
  await sink.waitFor(() => sink.count('connected') === 1, 'connected');
  await writer.writeRange(0, 10);
  await sink.waitFor(() => sink.events.length === writer.expected.length, 'events before the freeze');

  frozen.kill('SIGSTOP');
  try {
    // The TCP connection stays up (the kernel still ACKs); only the unanswered ping reveals it.
    await sink.waitFor(() => sink.count('reconnecting') >= 1, 'the keepalive noticing the frozen server', 10_000);
  } finally {
    frozen.kill('SIGCONT');
  }
  await writer.writeRange(10, 30);
  await sink.waitFor(() => sink.events.length >= writer.expected.length && sink.statuses.at(-1) === 'connected', 'events after the thaw');
  assert.deepEqual(sink.lines(), writer.expected);
  assert.deepEqual(sink.errors, []);
});

test('a watch and later calls ride out an etcd restart (same ports, same data)', async () => {
  const watcher = new EtcdClient({ endpoints: server.endpoints });
  const writer = new Writer(direct, '/w/restart/');
  const sink = new Collector();
  const start = (await direct.status()).revision + 1;
  const w = watcher.watch({ key: '/w/restart/', prefix: true, startRevision: start }, sink);
  try {
    await sink.waitFor(() => sink.count('connected') === 1, 'connected');
    await writer.writeRange(0, 20);
    await sink.waitFor(() => sink.events.length === writer.expected.length, 'events before the restart');
    const pidBefore = server.pid;
    await server.restart();
    assert.notEqual(server.pid, pidBefore);
    await writer.writeRange(20, 50);
    await sink.waitFor(() => sink.events.length >= writer.expected.length, 'events after the restart');
    assert.deepEqual(sink.lines(), writer.expected);
    assert.ok(sink.count('reconnecting') >= 1);
    assert.deepEqual(sink.errors, []);
  } finally {
    w.close();
    watcher.close();
  }
});
