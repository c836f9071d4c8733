import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CODECS, type SyncerType, type Update } from '../../src/protocol/index.js';
import { directWriter, type FrameWriter, type SharedFrame } from '../../src/server/index.js';
import { updateKey } from '../../src/common/update-key.js';
import type WebSocket from 'ws';
import { Harness, TEST_FANOUT_WORKERS, TestClient, cacheContent, connectAll, countingCodec, fingerprint, upd } from './helpers.js';
// Deterministic PRNG, so a failure replays: the one the fault harness uses.
import { mulberry32 as seeded } from '../fault/prng.js';

function randomBatch(rnd: () => number, revision: number, current: Map<string, Update>): Update[] {
  const n = 1 + Math.floor(rnd() * 20);
  const out: Update[] = [];
  for (let i = 0; i < n; i++) {
    const name = rnd() < 0.5 ? `init-${Math.floor(rnd() * 200)}` : `k-${Math.floor(rnd() * 100)}`;
    const exists = current.has(updateKey(upd(name, revision)));
    out.push(exists && rnd() < 0.3 ? upd(name, revision) : upd(name, revision, { v: Math.floor(rnd() * 1e6) }));
  }
  return out;
}

test('hundreds of clients of two syncers converge on the cache state; no batch lost or repeated', async (t) => {
  const h = await Harness.start(t, { initialKeys: 200 });
  const rnd = seeded(7);
  const syncers: SyncerType[] = ['felix', 'bgp'];
  const optionsFor = (i: number) => ({ syncer: syncers[i % 2], codec: i % 4 < 2 ? CODECS.msgpack : CODECS.json, node: `node-${i}` });
  const early = await connectAll(h.url, 300, optionsFor);
  const late: TestClient[] = [];
  t.after(() => [...early, ...late].forEach((c) => c.close()));
  assert.ok(early.every((c) => c.hello?.mode === 'snapshot' && c.inSyncRevision === 100));

  const published: Record<string, number[]> = { felix: [], bgp: [] };
  for (let round = 0; round < 60; round++) {
    for (const s of syncers) {
      if (rnd() < 0.3) continue;
      published[s].push(h.feed(s, (rev) => randomBatch(rnd, rev, h.model.get(s) as Map<string, Update>)));
    }
    // Clients joining mid-stream: snapshot + tail, then catch-up while batches keep coming.
    if (round % 12 === 6) for (let i = 0; i < 10; i++) late.push(new TestClient(h.url, optionsFor(1000 + late.length)));
    await nextTurn();
  }
  const last = { felix: published.felix.at(-1) as number, bgp: published.bgp.at(-1) as number };
  await Promise.all([...early, ...late].map((c) => c.untilRevision(last[c.syncer as 'felix' | 'bgp'])));

  for (const s of syncers) {
    const expected = fingerprint(h.model.get(s) as Map<string, Update>);
    assert.deepEqual(fingerprint(cacheContent(h.cache(s))), expected, `${s} cache = model`);
    for (const c of [...early, ...late].filter((x) => x.syncer === s)) {
      assert.equal(c.closed, undefined);
      assert.deepEqual(fingerprint(c.state), expected, `${s} client state = cache`);
      const after = published[s].filter((r) => r > c.inSyncRevision);
      if (TEST_FANOUT_WORKERS === 1) {
        // Every batch after the client's InSync arrived once, in order, as its own message.
        assert.deepEqual(c.liveRevisions, after);
      } else {
        // A fan-out worker's lane is paced by its worker: batches that came while it had two
        // sweeps unconfirmed reach its clients merged (one message at the last one's
        // revision). So: in order, each a published batch, none twice, ending at the last.
        assert.equal(c.liveRevisions.at(-1), after.at(-1));
        assert.ok(
          c.liveRevisions.every((r, i) => after.includes(r) && (i === 0 || r > c.liveRevisions[i - 1])),
          `${c.liveRevisions.join(',')} is an increasing run of published revisions`,
        );
      }
    }
  }
  assert.ok(
    late.some((c) => c.inSyncRevision > 100),
    'some clients joined mid-stream',
  );
  const status = h.server.connections();
  assert.equal(late.length, 50);
  assert.equal(status.total, 350);
  assert.equal((status.syncers.felix?.live ?? 0) + (status.syncers.bgp?.live ?? 0), 350);
});

test('each batch is encoded once per codec and the same Buffer is written to every client', async (t) => {
  const encodes: Array<{ clients: number; deltas: number[]; snapshots: number[]; distinct: number }> = [];
  for (const n of [10, 80]) {
    const msgpack = countingCodec(CODECS.msgpack);
    const json = countingCodec(CODECS.json);
    const shared = new Map<Buffer, Set<WebSocket>>();
    const spy: FrameWriter = {
      name: 'spy',
      writeShared(ws: WebSocket, frame: SharedFrame): void {
        let set = shared.get(frame.payload);
        if (set === undefined) shared.set(frame.payload, (set = new Set()));
        assert.ok(!set.has(ws), 'a batch is written once per socket');
        set.add(ws);
        directWriter.writeShared(ws, frame);
      },
      write: (ws, payload, binary) => directWriter.write(ws, payload, binary),
    };
    const h = await Harness.start(t, { codecList: [msgpack, json], frameWriter: spy, initialKeys: 1200 });
    const clients = await connectAll(h.url, n, (i) => ({ codec: i % 2 ? CODECS.json : CODECS.msgpack, node: `n${i}` }));
    let last = 0;
    for (let b = 0; b < 20; b++) last = h.feedMany('felix', 5, 32, `b${b}`);
    await Promise.all(clients.map((c) => c.untilRevision(last)));
    for (const c of clients) assert.equal(c.liveRevisions.length, 20);

    // The Buffers the fan-out wrote are the very ones the batcher encoded and the cache kept.
    const kept = [...(h.cache('felix').deltaFramesSince(100, 'msgpack') ?? []), ...(h.cache('felix').deltaFramesSince(100, 'json') ?? [])];
    assert.equal(kept.length, 40);
    for (const buf of kept) assert.equal(shared.get(buf)?.size, n / 2, 'one payload instance per batch and codec, written to each of its clients');
    encodes.push({
      clients: n,
      deltas: [msgpack.counts.get('deltas') ?? 0, json.counts.get('deltas') ?? 0],
      snapshots: [msgpack.counts.get('snapshot') ?? 0, json.counts.get('snapshot') ?? 0],
      distinct: shared.size,
    });
    clients.forEach((c) => c.close());
  }
  // Independent of the number of clients: 20 batches × 1 encoding per codec, 3 pages per codec,
  // and (msgpack) the deflate-deltas dictionary, built once: two encodes of sample updates.
  for (const e of encodes)
    assert.deepEqual({ deltas: e.deltas, snapshots: e.snapshots, distinct: e.distinct }, { deltas: [22, 20], snapshots: [3, 3], distinct: 40 });
});

test('the sweep over real sockets (TYPHA_SERVERFANOUTCHUNK=3): batches published mid-sweep reach every client merged, in order, none lost', async (t) => {
  const h = await Harness.start(t, { initialKeys: 50, fanoutChunk: 3, fanoutSweepMinClients: 0 });
  const rnd = seeded(11);
  const clients = await connectAll(h.url, 40, (i) => ({ codec: i % 3 === 0 ? CODECS.json : CODECS.msgpack, node: `n${i}` }));
  t.after(() => clients.forEach((c) => c.close()));
  const published: number[] = [];
  for (let round = 0; round < 40; round++) {
    // Several batches in one turn: the cursor has visited 3 clients when the next arrives.
    const n = 1 + Math.floor(rnd() * 3);
    for (let b = 0; b < n; b++) published.push(h.feed('felix', (rev) => randomBatch(rnd, rev, h.model.get('felix') as Map<string, Update>)));
    await nextTurn();
  }
  const last = published.at(-1) as number;
  await Promise.all(clients.map((c) => c.untilRevision(last)));
  const expected = fingerprint(h.model.get('felix') as Map<string, Update>);
  let merged = 0;
  for (const c of clients) {
    assert.equal(c.closed, undefined);
    assert.deepEqual(fingerprint(c.state), expected, 'client state = model');
    // Each message is a batch or a run of consecutive batches: its revision is one published,
    // strictly increasing, ending at the last.
    const live = c.liveRevisions;
    assert.ok(
      live.every((r, i) => published.includes(r) && (i === 0 || r > live[i - 1])),
      `ordered, published revisions: ${live.join(',')}`,
    );
    assert.equal(live.at(-1), last);
    merged += published.filter((r) => r > c.inSyncRevision).length - live.length;
  }
  // The sweep runs in-process; fan-out workers write every batch as its own message.
  if (TEST_FANOUT_WORKERS === 1) assert.ok(merged > 0, 'some clients got batches merged into one message');
  assert.equal(h.server.connections().syncers.felix?.live, 40);
});
