/**
 * The fan-out's continuous sweep (fan-out.ts), driven by hand: the sweep's yields go to a queue
 * the test runs one chunk at a time, the clock is the FakeClock, and members are fakes that
 * record every run written to them. So "not visited yet when the next batch arrives" is a state
 * the test builds, not a race it hopes for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODECS, type Deltas, type Update } from '../../src/protocol/index.js';
import type { EncodeFn } from '../../src/cache/delta-batcher.js';
import { FanOut, PACED_CHUNKS_IN_FLIGHT, type FanOutMember, type SweepPacer } from '../../src/server/fan-out.js';
import type { SharedRun } from '../../src/server/frame-writer.js';
import { noopServerMetrics, type ServerMetrics } from '../../src/metrics/server-metrics.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { mulberry32 as seeded } from '../fault/prng.js';

/** The sweep's yields, run when the test says. */
class Turns {
  readonly #queue: Array<() => void> = [];
  readonly defer = (fn: () => void): void => {
    this.#queue.push(fn);
  };

  get pending(): number {
    return this.#queue.length;
  }

  /** Runs one deferred chunk; false if there was none. */
  step(): boolean {
    const fn = this.#queue.shift();
    if (fn === undefined) return false;
    fn();
    return true;
  }

  /** Runs chunks until the sweep is idle. */
  drain(): number {
    let n = 0;
    while (this.step()) n++;
    return n;
  }
}

/** A live client as the hub sees it: records each run, and leaves when its "socket" is full. */
class FakeMember implements FanOutMember {
  readonly codec = CODECS.msgpack;
  readonly frameKind: string;
  readonly name: string;
  /** Each write: the revisions of its frames (one write may carry several). */
  readonly writes: number[][] = [];
  readonly runs: SharedRun[] = [];
  /** The revision of the last frame written to it, as Connection keeps it. */
  revision: number;
  /** When set, the next visit finds the socket over its high-water mark. */
  full = false;
  fellBehindAt: number[] = [];
  /** A fan-out worker's lane (FakePacer), or undefined: the in-process lane. */
  readonly pacer: SweepPacer | undefined;
  #hub: FanOut<FakeMember>;

  constructor(hub: FanOut<FakeMember>, name: string, revision: number, frameKind = 'msgpack', pacer?: SweepPacer) {
    this.#hub = hub;
    this.name = name;
    this.revision = revision;
    this.frameKind = frameKind;
    this.pacer = pacer;
  }

  writeLive(run: SharedRun): void {
    if (this.full) {
      this.fallBehind();
      return;
    }
    this.writes.push(run.frames.map(revisionOf));
    this.runs.push(run);
    this.revision = run.revision;
  }

  fallBehind(): void {
    this.fellBehindAt.push(this.revision);
    this.#hub.remove(this);
  }

  /** Every revision received, in order. */
  get received(): number[] {
    return this.writes.flat();
  }
}

/** A fan-out worker as its lane sees it: its acks are turns that run when the test lets the worker "finish" a chunk. */
class FakePacer implements SweepPacer {
  readonly #acks = new Turns();
  asked = 0;

  ack(fn: () => void): void {
    this.asked++;
    this.#acks.defer(fn);
  }

  get outstanding(): number {
    return this.#acks.pending;
  }

  /** The worker did the oldest chunk not yet confirmed; false if none was waiting. */
  release(): boolean {
    return this.#acks.step();
  }
}

function revisionOf(f: { payload: Buffer }): number {
  return f.payload.readUInt32BE(0);
}

/** A batch whose payload is its revision, so a member's writes say which batches it got. */
function batch(revision: number, kinds: readonly string[] = ['msgpack', 'json']): [Map<string, Buffer>, Deltas] {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(revision, 0);
  return [new Map(kinds.map((k) => [k, payload])), { type: 'deltas', revision, updates: [] }];
}

function rig(chunk: number, metrics: ServerMetrics = noopServerMetrics, sweepMinClients = 0): { hub: FanOut<FakeMember>; turns: Turns; clock: FakeClock } {
  const turns = new Turns();
  const clock = new FakeClock(1000);
  const hub = new FanOut<FakeMember>('felix', [CODECS.msgpack, CODECS.json], clock, metrics, { chunk, defer: turns.defer, sweepMinClients });
  return { hub, turns, clock };
}

function members(hub: FanOut<FakeMember>, n: number, revision = 0): FakeMember[] {
  const out: FakeMember[] = [];
  for (let i = 0; i < n; i++) {
    const m = new FakeMember(hub, `m${i}`, revision);
    hub.add(m);
    out.push(m);
  }
  return out;
}

test('a set no larger than a chunk is written inside publish, one write per batch, as before', () => {
  const { hub, turns } = rig(8);
  const ms = members(hub, 5);
  hub.publish(...batch(1));
  assert.deepEqual(
    ms.map((m) => m.writes),
    ms.map(() => [[1]]),
  );
  // The sweep ended inside publish too: nothing deferred, the log empty.
  assert.equal(turns.pending, 0);
  assert.equal(hub.pendingBatches, 0);
  hub.publish(...batch(2));
  assert.deepEqual(ms[0].writes, [[1], [2]]);
});

test('a chunk of 0 (TYPHA_SERVERFANOUTCHUNK=0): every batch to every member inside publish, the loop per batch', () => {
  const { hub, turns } = rig(0);
  const ms = members(hub, 3000);
  hub.publish(...batch(1));
  hub.publish(...batch(2));
  assert.equal(turns.pending, 0);
  for (const m of ms) assert.deepEqual(m.writes, [[1], [2]]);
  assert.equal(hub.pendingBatches, 0);
});

test('below TYPHA_SERVERFANOUTSWEEPMINCLIENTS a sweep is not split into chunks; at it, it is', () => {
  const small = rig(4, noopServerMetrics, 10);
  const few = members(small.hub, 9);
  small.hub.publish(...batch(1));
  assert.equal(small.turns.pending, 0, '9 members under the minimum of 10: all inside publish');
  for (const m of few) assert.deepEqual(m.writes, [[1]]);

  const large = rig(4, noopServerMetrics, 10);
  const many = members(large.hub, 10);
  large.hub.publish(...batch(1));
  assert.equal(large.turns.pending, 1, '10 members: the first chunk of 4, then a yield');
  assert.deepEqual(
    many.map((m) => m.writes.length),
    [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
  );
});

test('a member not visited yet when the next batch arrives gets both in one write, in order; the others get it next sweep', () => {
  const { hub, turns } = rig(2);
  const ms = members(hub, 5);
  hub.publish(...batch(1)); // the first chunk at once: m0, m1
  assert.deepEqual(
    ms.map((m) => m.writes.length),
    [1, 1, 0, 0, 0],
  );
  hub.publish(...batch(2)); // mid-sweep: nothing written now, the cursor goes on
  assert.deepEqual(
    ms.map((m) => m.writes.length),
    [1, 1, 0, 0, 0],
  );
  turns.step(); // m2, m3
  assert.deepEqual(ms[2].writes, [[1, 2]]);
  assert.deepEqual(ms[3].writes, [[1, 2]]);
  assert.equal(ms[2].runs[0], ms[3].runs[0], 'members at the same place share one run (frames concatenated once)');
  turns.drain();
  assert.deepEqual(
    ms.map((m) => m.writes),
    [[[1], [2]], [[1], [2]], [[1, 2]], [[1, 2]], [[1, 2]]],
  );
  assert.deepEqual(
    ms.map((m) => m.revision),
    [2, 2, 2, 2, 2],
  );
  assert.equal(hub.pendingBatches, 0, 'the log is empty once every member has everything');
});

/** A batcher's encoder stand-in: the payload lists the merged message's revision and keys. */
function mergingEncoder(calls: Deltas[]): EncodeFn {
  return (deltas) => {
    calls.push(deltas);
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(deltas.revision, 0);
    const frame = Buffer.concat([payload, Buffer.from(deltas.updates.map((u) => `${u.name}=${String(u.value?.spec?.v)}`).join(','))]);
    return new Map([
      ['msgpack', frame],
      ['json', frame],
    ]);
  };
}

function keyed(revision: number, updates: Array<[string, number]>, encode: EncodeFn): [Map<string, Buffer>, Deltas, EncodeFn] {
  const [frames] = batch(revision);
  const ups: Update[] = updates.map(([name, v]) => ({ kind: 'WorkloadEndpoint', name, namespace: 'ns', revision, value: { spec: { v } } }));
  return [frames, { type: 'deltas', revision, updates: ups }, encode];
}

test('batches a member gets in one visit are merged into ONE message, latest value per key, encoded once for all members at that place', () => {
  const calls: Deltas[] = [];
  const encode = mergingEncoder(calls);
  const { hub, turns } = rig(2);
  const ms = members(hub, 6);
  hub.publish(...keyed(1, [['a', 1]], encode)); // m0, m1 at once
  hub.publish(
    ...keyed(
      2,
      [
        ['b', 2],
        ['a', 3],
      ],
      encode,
    ),
  );
  hub.publish(
    ...keyed(
      3,
      [
        ['c', 4],
        ['b', 5],
      ],
      encode,
    ),
  );
  turns.drain();
  for (const m of ms.slice(2)) assert.deepEqual(m.writes, [[3]], `${m.name}: one message at revision 3`);
  assert.equal(ms[2].runs[0], ms[5].runs[0], 'one shared run');
  assert.equal(calls.length, 2, 'one encode for m2..m5 (1..3), one for m0, m1 (2..3)');
  assert.deepEqual(
    calls[0].updates.map((u) => [u.name, (u.value?.spec as { v: number }).v]),
    [
      ['a', 3],
      ['c', 4],
      ['b', 5],
    ],
  );
  assert.equal(calls[0].revision, 3);
  assert.deepEqual(ms[0].writes, [[1], [3]]);
  assert.equal(ms[0].runs[1].frames[0].payload.toString('utf8', 4), 'a=3,c=4,b=5');
});

test('a member whose socket is over its mark leaves at its visit and does not hold the others', () => {
  const { hub, turns } = rig(3);
  const ms = members(hub, 9);
  ms[4].full = true;
  hub.publish(...batch(1));
  hub.publish(...batch(2));
  turns.drain();
  assert.deepEqual(ms[4].writes, []);
  assert.deepEqual(ms[4].fellBehindAt, [0], 'it falls behind at the revision it was last written: it catches up from there');
  assert.equal(hub.liveCount, 8);
  for (const m of ms.filter((_, i) => i !== 4)) assert.deepEqual(m.received, [1, 2]);
  // A slow socket found on a later visit: it keeps what it had, nothing after.
  ms[6].full = true;
  hub.publish(...batch(3));
  turns.drain();
  assert.deepEqual(ms[6].received, [1, 2]);
  assert.deepEqual(ms[6].fellBehindAt, [2]);
  assert.equal(hub.liveCount, 7);
});

test('a batch without a frame for a member kind: the member gets what came before, then falls behind', () => {
  const { hub, turns } = rig(1);
  const [a, b] = members(hub, 2);
  const j = new FakeMember(hub, 'json', 0, 'json');
  hub.add(j);
  hub.publish(...batch(1)); // visits a
  hub.publish(...batch(2, ['json'])); // msgpack failed to encode
  hub.publish(...batch(3));
  turns.drain();
  assert.deepEqual(a.writes, [[1]]);
  assert.deepEqual(a.fellBehindAt, [1]);
  assert.deepEqual(b.writes, [[1]], 'one write of the batches before the gap');
  assert.deepEqual(b.fellBehindAt, [1]);
  assert.deepEqual(j.received, [1, 2, 3]);
  assert.equal(hub.liveCount, 1);
});

test('a member that joins mid-sweep starts at the head; one that leaves and rejoins is not written twice', () => {
  const { hub, turns } = rig(2);
  const ms = members(hub, 4);
  hub.publish(...batch(1));
  const late = new FakeMember(hub, 'late', 1);
  hub.add(late); // current at revision 1 (the cache applied batch 1 before it was published)
  hub.publish(...batch(2));
  hub.remove(ms[0]); // visited (has 1), leaves, catches up to 2 from the cache, comes back
  ms[0].revision = 2;
  hub.add(ms[0]);
  turns.drain();
  hub.publish(...batch(3));
  turns.drain();
  assert.deepEqual(late.received, [2, 3]);
  assert.deepEqual(ms[0].received, [1, 3]);
  for (const m of ms.slice(1)) assert.deepEqual(m.received, [1, 2, 3]);
});

test('typha_client_latency_secs: per batch, the time until the sweep that wrote it to the last member ended', () => {
  const seen: Array<{ clients: number; seconds: number }> = [];
  const metrics: ServerMetrics = { ...noopServerMetrics, batchPublished: (_s, _u, clients, seconds) => seen.push({ clients, seconds }) };
  const { hub, turns, clock } = rig(2, metrics);
  members(hub, 5);
  hub.publish(...batch(1));
  clock.advance(4);
  turns.step();
  clock.advance(4);
  turns.step(); // the sweep ends: batch 1 is everyone's
  assert.deepEqual(seen, [{ clients: 5, seconds: 0.008 }]);
  assert.equal(turns.pending, 0);
});

test('a fan-out worker lane hands out at most two chunks before the worker confirms one; the in-process lane does not wait for it', () => {
  const { hub, turns } = rig(2);
  const worker = new FakePacer();
  const local = members(hub, 4);
  const remote: FakeMember[] = [];
  for (let i = 0; i < 8; i++) {
    const m = new FakeMember(hub, `w${i}`, 0, 'msgpack', worker);
    hub.add(m);
    remote.push(m);
  }
  assert.equal(hub.lanes, 2);
  hub.publish(...batch(1)); // both lanes' first chunks at once
  turns.drain();
  assert.deepEqual(
    local.map((m) => m.writes),
    local.map(() => [[1]]),
    'the in-process lane swept every member without waiting',
  );
  assert.equal(worker.outstanding, PACED_CHUNKS_IN_FLIGHT, 'two chunks handed out, unconfirmed');
  assert.deepEqual(
    remote.map((m) => m.writes.length),
    [1, 1, 1, 1, 0, 0, 0, 0],
    'the worker lane stopped after two chunks of 2',
  );
  // The worker is slow: two more batches arrive; the in-process lane takes them, the log keeps them.
  hub.publish(...batch(2));
  hub.publish(...batch(3));
  turns.drain();
  for (const m of local) assert.deepEqual(m.received, [1, 2, 3]);
  assert.equal(hub.pendingBatches, 3, 'the log waits for the worker lane');
  // The worker confirms chunks: the rest of its members get 1..3 in ONE write (merged into one
  // message when the batcher's encoder is there, see below; here the frames back to back).
  while (worker.release()) turns.drain();
  for (const m of remote.slice(4)) assert.deepEqual(m.writes, [[1, 2, 3]], `${m.name}: one write`);
  for (const m of remote.slice(0, 4)) assert.deepEqual(m.writes, [[1], [2, 3]], `${m.name}: 1, then 2..3 in one write`);
  assert.equal(hub.pendingBatches, 0, 'every lane at the head: the log is empty');
});

test('a worker lane is paced across sweeps too: batches that come while its worker has two sweeps unconfirmed reach its clients as one write', () => {
  const { hub, turns } = rig(8); // every lane fits in one chunk: each batch is one whole sweep
  const worker = new FakePacer();
  const local = members(hub, 2);
  const remote = [0, 1, 2].map((i) => new FakeMember(hub, `w${i}`, 0, 'msgpack', worker));
  for (const m of remote) hub.add(m);
  for (let rev = 1; rev <= 5; rev++) hub.publish(...batch(rev));
  assert.equal(turns.pending, 0);
  for (const m of local) assert.deepEqual(m.writes, [[1], [2], [3], [4], [5]], 'in-process: one write per batch, inside publish');
  for (const m of remote) assert.deepEqual(m.writes, [[1], [2]], 'the worker got two sweeps, then the lane waits');
  assert.equal(worker.outstanding, 2);
  assert.equal(hub.pendingBatches, 3);
  worker.release();
  turns.drain();
  for (const m of remote) assert.deepEqual(m.writes, [[1], [2], [3, 4, 5]], '3..5 in one write at the next sweep');
  while (worker.release()) turns.drain();
  assert.equal(hub.pendingBatches, 0);
  assert.equal(turns.pending, 0);
});

test('a lane whose members all left no longer holds the log (a worker that stopped answering)', () => {
  const { hub, turns } = rig(1);
  const stuck = new FakePacer();
  const local = members(hub, 2);
  const remote = [
    new FakeMember(hub, 'w0', 0, 'msgpack', stuck),
    new FakeMember(hub, 'w1', 0, 'msgpack', stuck),
    new FakeMember(hub, 'w2', 0, 'msgpack', stuck),
  ];
  for (const m of remote) hub.add(m);
  hub.publish(...batch(1));
  hub.publish(...batch(2));
  turns.drain();
  assert.equal(hub.pendingBatches, 2, 'the stuck lane holds batches 1 and 2');
  for (const m of remote) hub.remove(m); // their pings time out: closed
  assert.equal(hub.lanes, 1);
  assert.equal(hub.pendingBatches, 0);
  while (stuck.release()) turns.drain(); // a late ack of the removed lane does nothing
  hub.publish(...batch(3));
  turns.drain();
  for (const m of local) assert.deepEqual(m.received, [1, 2, 3]);
  assert.deepEqual(remote[2].received, []);
});

/**
 * Seeded random interleavings of publish, sweep turns, joins, leaves (closing, slow sockets)
 * and rejoins after a catch-up. Whatever the order, each member's writes, taken episode by
 * episode (join to leave), are exactly the published batches after the revision it joined at,
 * in order, without gap or repeat; and after the last turn every live member has them all.
 */
test('seeded interleavings: every member gets exactly the log after its join, in order, once', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    const rnd = seeded(seed);
    const chunk = 1 + Math.floor(rnd() * 6);
    const { hub, turns } = rig(chunk);
    // Odd seeds: members spread over the in-process lane and two fan-out workers' lanes,
    // whose acks come when the test says.
    const pacers = seed % 2 === 1 ? [undefined, new FakePacer(), new FakePacer()] : [undefined];
    const published: number[] = [];
    const all: FakeMember[] = [];
    /** Per member, per episode: the revision it joined at and how many writes it had then. */
    const episodes = new Map<FakeMember, Array<{ from: number; writes: number }>>();
    const join = (m: FakeMember): void => {
      m.full = false;
      m.revision = published.at(-1) ?? 0; // caught up from the cache: current
      const list = episodes.get(m) ?? [];
      list.push({ from: m.revision, writes: m.writes.length });
      episodes.set(m, list);
      hub.add(m);
    };
    let revision = 0;
    for (let step = 0; step < 400; step++) {
      const r = rnd();
      if (r < 0.25) {
        revision += 1 + Math.floor(rnd() * 3);
        published.push(revision);
        hub.publish(...batch(revision));
      } else if (r < 0.6) {
        const p = pacers[Math.floor(rnd() * pacers.length)];
        if (p !== undefined && rnd() < 0.5) p.release();
        else turns.step();
      } else if (r < 0.72) {
        const m = new FakeMember(hub, `m${all.length}`, 0, 'msgpack', pacers[Math.floor(rnd() * pacers.length)]);
        all.push(m);
        join(m);
      } else if (r < 0.8 && all.length > 0) {
        const m = all[Math.floor(rnd() * all.length)];
        hub.remove(m); // closing, or fell behind elsewhere
      } else if (r < 0.88 && all.length > 0) {
        all[Math.floor(rnd() * all.length)].full = true; // found at its next visit
      } else if (all.length > 0) {
        const m = all[Math.floor(rnd() * all.length)];
        hub.remove(m);
        join(m);
      }
    }
    for (let progress = true; progress;) {
      progress = turns.drain() > 0;
      for (const p of pacers) if (p?.release() === true) progress = true;
    }
    assert.equal(hub.pendingBatches, 0, `seed ${seed}: log drained`);
    for (const m of all) {
      const list = episodes.get(m) ?? [];
      for (let e = 0; e < list.length; e++) {
        const { from, writes } = list[e];
        const end = e + 1 < list.length ? list[e + 1].writes : m.writes.length;
        const got = m.writes.slice(writes, end).flat();
        const expected = published.filter((rev) => rev > from);
        // A member still live at the end has them all; one that left has a prefix.
        const live = e === list.length - 1 && hub.liveCount > 0 && !m.full && isLive(hub, m);
        if (live) assert.deepEqual(got, expected, `seed ${seed} chunk ${chunk} ${m.name} episode ${e}`);
        else assert.deepEqual(got, expected.slice(0, got.length), `seed ${seed} chunk ${chunk} ${m.name} episode ${e} (left)`);
        if (got.length > 0) assert.equal(m.writes.slice(writes, end).at(-1)?.at(-1), got.at(-1));
      }
    }
  }
});

/** Whether `m` is in the hub's live set: a remove() of it changes the count. */
function isLive(hub: FanOut<FakeMember>, m: FakeMember): boolean {
  const before = hub.liveCount;
  hub.remove(m);
  const was = hub.liveCount < before;
  if (was) hub.add(m);
  return was;
}
