/**
 * The fan-out hub of one syncer: the DeltaBatcher's `publish` callback. Each batch arrives
 * encoded once per codec; the hub wraps each encoding in one SharedFrame and hands THE SAME
 * frame to every live client of that codec. Nothing here encodes, copies or allocates per
 * client: the loop is a Set iteration and one call per member.
 *
 *   DeltaBatcher ─publish(frames, deltas)─▶ FanOut ─┬─ msgpack:         SharedFrame ─▶ every live msgpack client
 *                                                   ├─ msgpack+deflate: SharedFrame ─▶ every live deflate-deltas client
 *                                                   └─ json:            SharedFrame ─▶ every live json client
 *
 * A batch that has no frame of a set's kind (it did not compress smaller) goes to that set as
 * its codec's plain frame: clients of `deflate-deltas` take both.
 *
 * Only live members are in the sets. A member that is syncing or lagging is absent and catches
 * up from the cache on its own (replayed frames or coalesced changes) before it joins again;
 * a member whose socket buffer is over its high-water mark removes itself while the loop runs
 * (deleting the current element of a Set during for…of is well defined in JavaScript).
 *
 * If a codec's encoding of a batch failed, the batcher publishes without it: the members of
 * that codec are made to fall behind and catch up from the cache, which applied the batch.
 */
import type { Codec } from '../protocol/codec.js';
import type { Deltas, SyncerType } from '../protocol/messages.js';
import type { Clock } from '../common/clock.js';
import { SharedFrame } from './frame-writer.js';
import { WRITE_LATENCY_SAMPLE_EVERY, type ServerMetrics } from '../metrics/server-metrics.js';

/** What the hub needs of a connection; Connection implements it. */
export interface FanOutMember {
  readonly codec: Codec;
  /** The delta frames it takes: its codec's name, or `<codec>+deflate` (see `deltaFrameKind`). */
  readonly frameKind: string;
  /** Writes the batch, or notices the socket is over its mark and starts lagging. */
  writeLive(frame: SharedFrame, revision: number, now: number): void;
  /** Leaves the live set and catches up from the cache. */
  fallBehind(now: number): void;
}

/**
 * Live clients held by a fan-out worker process (TYPHA_FANOUTWORKERS > 1): one group per
 * worker and delta-frame kind, published to as one member, with one message to its worker.
 */
export interface RemoteLiveGroup {
  readonly frameKind: string;
  /** The codec's own frame kind: what the group gets when a batch has none of `frameKind`. */
  readonly fallback: string;
  /** Live clients in the group. */
  readonly size: number;
  publish(payload: Buffer, revision: number): void;
  /** The batch had no frame for the group: its clients fall behind (the worker says where). */
  demote(): void;
}

interface LiveSet<M> {
  readonly members: Set<M>;
  /** The frame written when the batch has none of this set's kind (a variant it did not make). */
  readonly fallback: string;
  readonly binary: boolean;
}

export class FanOut<M extends FanOutMember = FanOutMember> {
  readonly syncer: SyncerType;
  readonly #live = new Map<string, LiveSet<M>>();
  readonly #clock: Clock;
  readonly #metrics: ServerMetrics;
  #publishedRevision = 0;
  #batches = 0;
  #liveCount = 0;
  readonly #remote = new Set<RemoteLiveGroup>();
  /** Writes until the next one timed for typha_client_write_latency_secs. */
  #untilSample = WRITE_LATENCY_SAMPLE_EVERY;
  /** The DeltaBatcher's publish callback, bound once. */
  readonly publish = (frames: ReadonlyMap<string, Buffer>, deltas: Deltas): void => {
    this.#publish(frames, deltas);
  };

  constructor(syncer: SyncerType, codecs: readonly Codec[], clock: Clock, metrics: ServerMetrics) {
    this.syncer = syncer;
    this.#clock = clock;
    this.#metrics = metrics;
    for (const c of codecs) this.#live.set(c.name, { members: new Set(), fallback: c.name, binary: c.binary });
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
    return this.#liveCount;
  }

  add(m: M): void {
    let set = this.#live.get(m.frameKind);
    if (set === undefined) {
      if (!this.#live.has(m.codec.name)) return;
      this.#live.set(m.frameKind, (set = { members: new Set(), fallback: m.codec.name, binary: m.codec.binary }));
    }
    if (set.members.has(m)) return;
    set.members.add(m);
    this.#liveCount++;
  }

  remove(m: M): void {
    if (this.#live.get(m.frameKind)?.members.delete(m)) this.#liveCount--;
  }

  /** A fan-out worker's group of live clients (see RemoteLiveGroup). */
  addRemote(g: RemoteLiveGroup): void {
    this.#remote.add(g);
  }

  removeRemote(g: RemoteLiveGroup): void {
    this.#remote.delete(g);
  }

  #publish(frames: ReadonlyMap<string, Buffer>, deltas: Deltas): void {
    const start = this.#clock.now();
    const revision = deltas.revision;
    if (revision > this.#publishedRevision) this.#publishedRevision = revision;
    this.#batches++;
    let clients = 0;
    for (const [kind, set] of this.#live) {
      const members = set.members;
      if (members.size === 0) continue;
      const payload = frames.get(kind) ?? frames.get(set.fallback);
      if (payload === undefined) {
        for (const m of [...members]) m.fallBehind(start);
        continue;
      }
      clients += members.size;
      const frame = new SharedFrame(payload, set.binary);
      for (const m of members) {
        if (--this.#untilSample > 0) {
          m.writeLive(frame, revision, start);
          continue;
        }
        this.#untilSample = WRITE_LATENCY_SAMPLE_EVERY;
        const t0 = this.#clock.now();
        m.writeLive(frame, revision, start);
        this.#metrics.writeLatency(this.syncer, (this.#clock.now() - t0) / 1000);
      }
    }
    for (const g of this.#remote) {
      const payload = frames.get(g.frameKind) ?? frames.get(g.fallback);
      if (payload === undefined) {
        g.demote();
        continue;
      }
      clients += g.size;
      g.publish(payload, revision);
    }
    this.#metrics.batchPublished(this.syncer, deltas.updates.length, clients, (this.#clock.now() - start) / 1000);
  }
}
