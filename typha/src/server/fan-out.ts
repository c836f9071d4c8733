/**
 * The fan-out hub of one syncer: the DeltaBatcher's `publish` callback. Each batch arrives
 * encoded once per codec; the hub wraps each encoding in one SharedFrame and hands THE SAME
 * frame to every live client of that codec. Nothing here encodes or allocates per client.
 *
 *   DeltaBatcher ─publish(frames, deltas)─▶ FanOut ─┬─ msgpack:         SharedFrame ─▶ live msgpack clients
 *                                                   ├─ msgpack+deflate: SharedFrame ─▶ live deflate-deltas clients
 *                                                   └─ json:            SharedFrame ─▶ live json clients
 *
 * A batch that has no frame of a set's kind (it did not compress smaller) goes to that set as
 * its codec's plain frame: clients of `deflate-deltas` take both.
 *
 * The continuous sweep. Published batches go into one ordered log (a SharedFrame per live
 * frame kind per batch) and every live member keeps its position in it. One cursor visits the
 * members round-robin, TYPHA_SERVERFANOUTCHUNK at a time, and yields to the event loop between
 * chunks; at each visit a member gets everything it has not had yet as ONE write: one batch as
 * it is, or the batches it missed merged into ONE Deltas message (latest update per key, as the
 * batcher's window coalesces), encoded by the batcher's encoder once for every member at the
 * same position (a SharedRun).
 *
 *   log:     … [b7] [b8] [b9]          head ─┐
 *   members: m1 m2 m3 │ m4 m5 m6 …           │  m1..m3 were visited when b8 was the last;
 *                     └ cursor               │  m4.. will get b8+b9 as one message, and
 *                                               m1..m3 get b9 on the next sweep
 *
 * Why not a loop per batch (what this was): at 10,000 clients one loop is ~100 ms of write
 * calls with the event loop blocked, so a change that arrives during loop k waits for the end
 * of loop k, then the window, then its client's place in loop k+1: up to two loops. With the
 * sweep the watch, the batcher and the pings run between chunks, a new batch joins the log at
 * once, and the clients the cursor has not reached yet get it with the batch before: the wait
 * is the window plus at most one sweep (docs/BENCHMARKS.md, *The continuous sweep*: delta p99
 * at 10,000 clients 154–161 ms against 203–411 ms). Why merged, not the frames back to back:
 * freed from the blocked loop, the batcher publishes every window, and one message per batch
 * gave each client ~5× the messages the loop sent (the bench's clients fell behind); merged,
 * a client gets one message per visit. The first chunk runs at once, inside `publish`, so a
 * set no larger than a chunk is written synchronously, one message per batch, as before;
 * a chunk of 0 writes every member inside `publish` (the loop per batch), and so does a sweep
 * of a set smaller than TYPHA_SERVERFANOUTSWEEPMINCLIENTS (4,096): at 1,000 clients, two chunks
 * measured worse than one loop, at 10,000 twenty chunks measured far better.
 *
 * Invariants. A member joins at the head of the log: it became live at the cache's revision,
 * and the cache applied every batch in the log before it was published, so it gets exactly the
 * batches after it, in order, once each. A member that leaves (lagging, closing) drops what it
 * had not been written; it is at the revision of the last run written to it and catches up
 * from the cache from there. A member whose socket buffer is over its high-water mark leaves
 * while the sweep runs (deleting the current entry of a Map during iteration is well defined
 * in JavaScript; members added during a sweep are visited by it). When a sweep ends, every
 * member is at or past the head the sweep began with, so the log drops what lies before it.
 *
 * If a codec's encoding of a batch failed, the batcher publishes without it: a member of that
 * codec gets the runs before it and then falls behind, and catches up from the cache, which
 * applied the batch.
 *
 * Lanes. Clients held by a fan-out worker process (TYPHA_FANOUTWORKERS > 1) are members like
 * any other, swept from this log and merged the same way, but each worker's members form their
 * own lane with its own cursor: a visit hands the run to the worker (one command per run and
 * chunk, listing the clients; fanout-pool.ts), and the lane never has more than two chunks (or
 * whole sweeps, when a lane fits in one chunk) that its worker has not confirmed
 * (`SweepPacer.ack`): the next one waits, batches that come meanwhile wait in the log, so a
 * worker is paced by its own write speed as the in-process lane is by the event loop, and what
 * its clients missed meanwhile is merged for them at their next visit. Lanes never wait for each other: each lane's `done`
 * is the head its last full sweep began with, and the log drops what lies before the smallest
 * `done` of the lanes that have members.
 */
import type { Codec } from '../protocol/codec.js';
import type { Deltas, SyncerType } from '../protocol/messages.js';
import type { EncodeFn } from '../cache/delta-batcher.js';
import { mergeDeltas } from './merge-deltas.js';
import type { Clock } from '../common/clock.js';
import { SharedFrame, SharedRun } from './frame-writer.js';
import { WRITE_LATENCY_SAMPLE_EVERY, type ServerMetrics } from '../metrics/server-metrics.js';
import { SERVER_LIMITS } from './options.js';

/**
 * How the lane of a fan-out worker's members is paced: `ack(fn)` calls `fn` once the worker has
 * done every write handed to it so far (or is gone).
 */
export interface SweepPacer {
  ack(fn: () => void): void;
}

/** What the hub needs of a connection; Connection implements it. */
export interface FanOutMember {
  readonly codec: Codec;
  /** The delta frames it takes: its codec's name, or `<codec>+deflate` (see `deltaFrameKind`). */
  readonly frameKind: string;
  /** Set when a fan-out worker holds the client's socket: the member is swept in that worker's lane. */
  readonly pacer?: SweepPacer | undefined;
  /** Writes the run (one write), or notices the socket is over its mark and starts lagging. */
  writeLive(run: SharedRun, now: number): void;
  /** Leaves the live set and catches up from the cache. */
  fallBehind(now: number): void;
}

/** How the sweep yields between chunks (default: setImmediate; a test steps it by hand). */
export type Defer = (fn: () => void) => void;

export interface FanOutOptions {
  /** Members visited per event-loop turn (TYPHA_SERVERFANOUTCHUNK); 0: all, no yield. */
  chunk?: number;
  /** Fewer live members in a lane than this: a sweep visits all of them at once (default 0: always chunked). */
  sweepMinClients?: number;
  defer?: Defer;
}

/** Members per chunk when not given: ~5 ms of write calls (~10 µs each) on the 2-core bench machine. */
export const DEFAULT_FANOUT_CHUNK = SERVER_LIMITS.fanoutChunk.default;

/**
 * Chunks a worker's lane hands out before it waits for the worker's ack of the oldest: two, so
 * the worker has the next chunk queued while it writes one (no idle round trip), and a slow
 * worker holds at most two chunks of writes it has not done.
 */
export const PACED_CHUNKS_IN_FLIGHT = 2;

/** Runs and merged messages kept for reuse; past this the caches start over (a lane stalled). */
const MAX_CACHED_SPANS = 64;

interface LiveSet {
  /** Live members of this frame kind. */
  size: number;
  /** The frame written when the batch has none of this set's kind (a variant it did not make). */
  readonly fallback: string;
  readonly binary: boolean;
  /** The last run built for this kind and its span: most members of a lane are at the same place. */
  last: BuiltRun | undefined;
  lastFrom: number;
  lastTo: number;
}

interface BuiltRun {
  readonly run: SharedRun | undefined;
  readonly complete: boolean;
}

/** One published batch: its frame per live kind (null: none, its members fall behind). */
interface LogEntry {
  readonly revision: number;
  readonly frames: Map<string, SharedFrame | null>;
  readonly deltas: Deltas;
  readonly encode: EncodeFn | undefined;
  readonly updates: number;
  readonly clients: number;
  readonly at: number;
}

/** A live member and its place in the log: the sequence number of the next entry it needs. */
interface Slot<M> {
  readonly member: M;
  readonly kind: string;
  readonly set: LiveSet;
  readonly lane: Lane<M>;
  seq: number;
}

/** The members swept by one cursor: the in-process ones, or one worker's (see the module comment). */
interface Lane<M> {
  readonly pacer: SweepPacer | undefined;
  readonly slots: Map<M, Slot<M>>;
  /** The running sweep (undefined: idle) and the head when it began. */
  cursor: Iterator<Slot<M>> | undefined;
  sweepHead: number;
  /** The current sweep's chunk: the hub's, or all at once for a lane below sweepMinClients. */
  chunkSize: number;
  /** Every member is at or past this sequence number. */
  done: number;
  chunkScheduled: boolean;
  /** Acks asked of the worker and not yet received (paced lanes). */
  inFlight: number;
  /** The next chunk waits for an ack. */
  waiting: boolean;
  /** Removed from the hub (no members left): its pending callbacks do nothing. */
  gone: boolean;
  readonly runChunk: () => void;
  readonly onAck: () => void;
}

const setImmediateDefer: Defer = (fn) => {
  setImmediate(fn);
};

export class FanOut<M extends FanOutMember = FanOutMember> {
  readonly syncer: SyncerType;
  readonly #live = new Map<string, LiveSet>();
  readonly #codecs = new Map<string, Codec>();
  readonly #clock: Clock;
  readonly #metrics: ServerMetrics;
  readonly #chunk: number;
  readonly #sweepMinClients: number;
  readonly #defer: Defer;
  #publishedRevision = 0;
  #batches = 0;
  readonly #slots = new Map<M, Slot<M>>();
  /** By pacer; the in-process lane under `undefined`. Only lanes with members are here. */
  readonly #lanes = new Map<SweepPacer | undefined, Lane<M>>();
  /** The log: entry i has sequence number #base + i; the head is #base + #log.length. */
  #log: LogEntry[] = [];
  #base = 0;
  #sweeps = 0;
  /** Writes until the next one timed for typha_client_write_latency_secs. */
  #untilSample = WRITE_LATENCY_SAMPLE_EVERY;
  /** The DeltaBatcher's publish callback, bound once. */
  readonly publish = (frames: ReadonlyMap<string, Buffer>, deltas: Deltas, encode?: EncodeFn): void => {
    this.#publish(frames, deltas, encode);
  };
  /** Runs built per `kind/from/to`, and merged messages per `from/to`, reused by every member at the same place. */
  readonly #runs = new Map<string, BuiltRun>();
  readonly #merged = new Map<string, ReadonlyMap<string, Buffer> | undefined>();

  constructor(syncer: SyncerType, codecs: readonly Codec[], clock: Clock, metrics: ServerMetrics, options: FanOutOptions = {}) {
    this.syncer = syncer;
    this.#clock = clock;
    this.#metrics = metrics;
    const chunk = Math.floor(options.chunk ?? DEFAULT_FANOUT_CHUNK);
    this.#chunk = chunk <= 0 ? Infinity : chunk;
    this.#sweepMinClients = Math.max(0, Math.floor(options.sweepMinClients ?? 0));
    this.#defer = options.defer ?? setImmediateDefer;
    for (const c of codecs) {
      this.#codecs.set(c.name, c);
      this.#live.set(c.name, newLiveSet(c.name, c.binary));
    }
  }

  /** Revision of the last batch published. */
  get publishedRevision(): number {
    return this.#publishedRevision;
  }

  get batches(): number {
    return this.#batches;
  }

  /** Members currently live (receiving batches as they are published). */
  get liveCount(): number {
    return this.#slots.size;
  }

  /** Sweeps completed (every live member of a lane visited once), over all lanes. */
  get sweeps(): number {
    return this.#sweeps;
  }

  /** Batches published that some live member has not been written yet. */
  get pendingBatches(): number {
    return this.#log.length;
  }

  /** Lanes with members: the in-process one and one per fan-out worker that holds live clients. */
  get lanes(): number {
    return this.#lanes.size;
  }

  add(m: M): void {
    if (this.#slots.has(m)) return;
    let set = this.#live.get(m.frameKind);
    if (set === undefined) {
      if (!this.#codecs.has(m.codec.name)) return;
      this.#live.set(m.frameKind, (set = newLiveSet(m.codec.name, m.codec.binary)));
    }
    const head = this.#base + this.#log.length;
    const pacer = m.pacer;
    let lane = this.#lanes.get(pacer);
    if (lane === undefined) this.#lanes.set(pacer, (lane = this.#newLane(pacer, head)));
    set.size++;
    const slot: Slot<M> = { member: m, kind: m.frameKind, set, lane, seq: head };
    this.#slots.set(m, slot);
    lane.slots.set(m, slot);
  }

  remove(m: M): void {
    const slot = this.#slots.get(m);
    if (slot === undefined) return;
    this.#slots.delete(m);
    slot.set.size--;
    const lane = slot.lane;
    lane.slots.delete(m);
    if (lane.slots.size === 0 && !lane.gone) {
      // Its sweep (if any) has nothing left to visit; the log no longer waits for it.
      lane.gone = true;
      lane.cursor = undefined;
      this.#lanes.delete(lane.pacer);
      this.#truncate();
    }
  }

  #newLane(pacer: SweepPacer | undefined, head: number): Lane<M> {
    const lane: Lane<M> = {
      pacer,
      slots: new Map(),
      cursor: undefined,
      sweepHead: head,
      chunkSize: this.#chunk,
      done: head,
      chunkScheduled: false,
      inFlight: 0,
      waiting: false,
      gone: false,
      runChunk: () => {
        lane.chunkScheduled = false;
        this.#sweepChunk(lane);
      },
      onAck: () => {
        lane.inFlight--;
        if (!lane.waiting || lane.gone) return;
        lane.waiting = false;
        if (lane.cursor === undefined) {
          // Batches came while the worker was busy: one sweep for all of them.
          if (lane.done >= this.#base + this.#log.length) return;
          this.#startSweep(lane);
        }
        lane.chunkScheduled = true;
        this.#defer(lane.runChunk);
      },
    };
    return lane;
  }

  #publish(frames: ReadonlyMap<string, Buffer>, deltas: Deltas, encode: EncodeFn | undefined): void {
    const now = this.#clock.now();
    const revision = deltas.revision;
    if (revision > this.#publishedRevision) this.#publishedRevision = revision;
    this.#batches++;
    if (this.#slots.size === 0) {
      this.#metrics.batchPublished(this.syncer, deltas.updates.length, 0, (this.#clock.now() - now) / 1000);
      return;
    }
    const entryFrames = new Map<string, SharedFrame | null>();
    for (const [kind, set] of this.#live) {
      if (set.size === 0) continue;
      const payload = frames.get(kind) ?? frames.get(set.fallback);
      entryFrames.set(kind, payload === undefined ? null : new SharedFrame(payload, set.binary));
    }
    this.#log.push({ revision, frames: entryFrames, deltas, encode, updates: deltas.updates.length, clients: this.#slots.size, at: now });
    for (const lane of [...this.#lanes.values()]) {
      if (lane.cursor !== undefined || lane.gone || lane.waiting) continue;
      if (lane.pacer !== undefined && lane.inFlight >= PACED_CHUNKS_IN_FLIGHT) {
        lane.waiting = true; // its worker's ack starts the sweep
        continue;
      }
      this.#startSweep(lane);
      this.#sweepChunk(lane);
    }
  }

  #startSweep(lane: Lane<M>): void {
    lane.cursor = lane.slots.values();
    lane.sweepHead = this.#base + this.#log.length;
    lane.chunkSize = lane.slots.size < this.#sweepMinClients ? Infinity : this.#chunk;
  }

  /** Visits up to a chunk of the lane's members; then yields, or ends the lane's sweep. */
  #sweepChunk(lane: Lane<M>): void {
    const cursor = lane.cursor;
    if (cursor === undefined || lane.gone) return;
    const now = this.#clock.now();
    for (let n = lane.chunkSize; n > 0; n--) {
      const r = cursor.next();
      if (r.done === true) {
        this.#askAck(lane);
        this.#endSweep(lane);
        return;
      }
      this.#visit(r.value, now);
      if (lane.gone) return;
    }
    this.#askAck(lane);
    this.#scheduleChunk(lane);
  }

  /** A worker's lane: the chunk just handed out counts until the worker confirms it. */
  #askAck(lane: Lane<M>): void {
    const pacer = lane.pacer;
    if (pacer === undefined) return;
    lane.inFlight++;
    pacer.ack(lane.onAck);
  }

  /** The next chunk: after a turn of the event loop; in a worker's lane, not more than PACED_CHUNKS_IN_FLIGHT ahead of it. */
  #scheduleChunk(lane: Lane<M>): void {
    if (lane.chunkScheduled || lane.waiting) return;
    if (lane.pacer !== undefined && lane.inFlight >= PACED_CHUNKS_IN_FLIGHT) {
      lane.waiting = true;
      return;
    }
    lane.chunkScheduled = true;
    this.#defer(lane.runChunk);
  }

  /** Every member of the lane is now at or past the sweep's starting head. */
  #endSweep(lane: Lane<M>): void {
    this.#sweeps++;
    lane.done = lane.sweepHead;
    this.#truncate();
    if (lane.done >= this.#base + this.#log.length) {
      lane.cursor = undefined;
      return;
    }
    this.#startSweep(lane);
    this.#scheduleChunk(lane);
  }

  /** Drops the log before the smallest `done` of the lanes (all of it when none has members). */
  #truncate(): void {
    const head = this.#base + this.#log.length;
    let keepFrom = head;
    for (const lane of this.#lanes.values()) if (lane.done < keepFrom) keepFrom = lane.done;
    const drop = keepFrom - this.#base;
    if (drop <= 0) return;
    const end = this.#clock.now();
    for (let i = 0; i < drop; i++) {
      const e = this.#log[i];
      this.#metrics.batchPublished(this.syncer, e.updates, e.clients, (end - e.at) / 1000);
    }
    this.#log = this.#log.slice(drop);
    this.#base += drop;
    this.#runs.clear();
    this.#merged.clear();
    for (const set of this.#live.values()) set.last = undefined;
  }

  /** Writes a member what it has not had, as one run; a batch without its frame makes it fall behind. */
  #visit(slot: Slot<M>, now: number): void {
    const head = this.#base + this.#log.length;
    const from = slot.seq;
    if (from >= head) return;
    slot.seq = head;
    const set = slot.set;
    let built = set.last;
    if (built === undefined || set.lastFrom !== from || set.lastTo !== head) {
      // Lanes at different places take turns: the runs they need stay built for each other.
      const key = `${slot.kind}/${from}/${head}`;
      built = this.#runs.get(key);
      if (built === undefined) {
        built = this.#buildRun(slot.kind, set, from, head);
        if (this.#runs.size >= MAX_CACHED_SPANS) this.#runs.clear();
        this.#runs.set(key, built);
      }
      set.last = built;
      set.lastFrom = from;
      set.lastTo = head;
    }
    const m = slot.member;
    if (built.run !== undefined) this.#write(m, built.run, now);
    if (!built.complete) m.fallBehind(now);
  }

  /**
   * What a member at `from` gets of `kind`: one batch as it is; several merged into one
   * message, encoded once for every member at `from` (see #mergedFrames); their frames back
   * to back if that cannot be had; up to the first batch without a frame of `kind` (then
   * `complete` is false and the member falls behind).
   */
  #buildRun(kind: string, set: LiveSet, from: number, to: number): BuiltRun {
    const frames: SharedFrame[] = [];
    let revision = 0;
    for (let seq = from; seq < to; seq++) {
      const e = this.#log[seq - this.#base];
      const f = e.frames.get(kind);
      if (f === undefined || f === null) return { run: frames.length > 0 ? new SharedRun(frames, revision) : undefined, complete: false };
      frames.push(f);
      revision = e.revision;
    }
    if (frames.length > 1) {
      const merged = this.#mergedFrames(from, to);
      const payload = merged?.get(kind) ?? merged?.get(set.fallback);
      if (payload !== undefined) return { run: new SharedRun([new SharedFrame(payload, set.binary)], revision), complete: true };
    }
    return { run: new SharedRun(frames, revision), complete: true };
  }

  /**
   * The batches from `from` to `to` as ONE Deltas message (merge-deltas.ts), encoded by the
   * batcher's encoder once per span: the clients at the same place in the log share it.
   * Merging keeps the messages a client gets per second at what the loop per batch sent (the
   * batcher coalesced behind the busy loop); frames back to back would multiply them, and with
   * them the clients' work.
   */
  #mergedFrames(from: number, to: number): ReadonlyMap<string, Buffer> | undefined {
    const key = `${from}/${to}`;
    if (this.#merged.has(key)) return this.#merged.get(key);
    const last = this.#log[to - 1 - this.#base];
    const encode = last.encode;
    let merged: ReadonlyMap<string, Buffer> | undefined;
    if (encode !== undefined) {
      const batches: Deltas[] = [];
      for (let seq = from; seq < to; seq++) batches.push(this.#log[seq - this.#base].deltas);
      try {
        const deltas = mergeDeltas(batches);
        merged = encode(deltas);
        this.#metrics.messageEncoded(this.syncer, deltas.updates.length);
      } catch {
        merged = undefined; // the frames go back to back instead
      }
    }
    if (this.#merged.size >= MAX_CACHED_SPANS) this.#merged.clear();
    this.#merged.set(key, merged);
    return merged;
  }

  #write(m: M, run: SharedRun, now: number): void {
    if (--this.#untilSample > 0) {
      m.writeLive(run, now);
      return;
    }
    this.#untilSample = WRITE_LATENCY_SAMPLE_EVERY;
    const t0 = this.#clock.now();
    m.writeLive(run, now);
    this.#metrics.writeLatency(this.syncer, (this.#clock.now() - t0) / 1000);
  }
}

function newLiveSet(fallback: string, binary: boolean): LiveSet {
  return { size: 0, fallback, binary, last: undefined, lastFrom: -1, lastTo: -1 };
}
