/**
 * The state of one syncer type (felix, bgp, ipam, status) as Typha serves it: the last stage
 * of the pipeline and what every client of that syncer is served from.
 *
 *   … ─▶ dedupe ─▶ DeltaBatcher ─┬─▶ SyncCache.onUpdates   current state, delta log, tombstones
 *                                ├─▶ SyncCache.recordFrames  the batch's encoded frames
 *                                └─▶ publish(frames)         same Buffers to every live client
 *
 *   new client       join(codec)         → snapshot pages (encoded once per revision and codec)
 *                                          + the delta frames since (already encoded) + InSync
 *   resuming client  changesSince(rev)   → 'resume': latest value per key changed after rev, or
 *                                          its deletion; 'snapshot' when rev is too old; 'wait'
 *                                          when rev is ahead of this replica
 *
 * Why this beats Calico's Typha. Calico keeps a chain of "breadcrumbs" (snapshot + deltas) and
 * every connection walks it, serialising and compressing each update again for each client:
 * with N agents a change is encoded N times, and a reconnecting agent always downloads and
 * re-applies the full snapshot. Here a delta batch is encoded once per codec and the same bytes
 * go to every client; a snapshot page is encoded once per (revision, codec) however many
 * clients join; a client that joins on a recent snapshot is caught up with the frames already
 * sent to everyone else; and a reconnecting client gets only what changed since its revision
 * (the revision is etcd's, so this works across replicas), not a snapshot. Per-client work is
 * left to the rare paths (a coalesced resume), never to the live stream.
 *
 * Revisions. `revision` is the latest datastore revision applied, advanced by every batch even
 * when nothing in it concerns this syncer, and never moved backwards (a relist after compaction
 * sends only differences, stamped with their own revisions; the cache just applies them).
 * `contentRevision` is the revision of the last batch that changed this syncer's state: a
 * snapshot is identified by it, so churn in other syncers' kinds does not invalidate it.
 *
 * Resume (the invariant in docs/DESIGN.md): a client at revision R is resumed only if this
 * cache's history covers every change after R; otherwise it gets a snapshot and reconciles.
 * Covered means R >= `oldestResumableRevision` (every key changed after R has a state entry
 * newer than R, and every key deleted after R has a tombstone, whose eviction raises the
 * horizon, or a delta log entry) and R not strictly inside a resync gap (`resync-gaps.ts`: a
 * relist diff is attributable only from the revision the watch stopped at). The first in-sync
 * sets the horizon at the list revision: a replica that starts resumes no one from before it.
 * When the log reaches back to R the answer comes from the log (cost ∝ changes), otherwise from
 * a scan of the state plus tombstones (cost ∝ keys); both give the same updates.
 *
 * Measured ad hoc while writing this (Node 20, 35,000 projected workload endpoints, ~18 MB as
 * JSON; bench/ is to regenerate such figures): encoding the whole snapshot as one message takes
 * ~70–80 ms with JSON and ~70–130 ms with msgpackr, too long a stall for the event loop that
 * also feeds thousands of sockets. So pages (default 500 updates, ~256 KiB) are encoded lazily,
 * one per request, ~1 ms each on average (see `snapshot-frames.ts`); capturing the state for a
 * snapshot is one pass over the map (~3 ms).
 *
 * Memory bounds: see `options.ts` (delta log by batches, bytes and age; tombstones by count and
 * age; snapshot handles by count and bytes). The state itself is the data set.
 */
import type { Codec } from '../protocol/codec.js';
import type { SyncerType, Update } from '../protocol/messages.js';
import { createLogLimiter, type LogLimiter } from '../pipeline/log-limiter.js';
import { realClock, type Clock } from '../common/clock.js';
import { silentLogger, type Logger } from '../pipeline/logger.js';
import type { SyncCallbacks, SyncStatus } from '../pipeline/sync-callbacks.js';
import { updateKey } from '../common/update-key.js';
import { DeltaLog } from './delta-log.js';
import { CacheClosedError, CacheNotReadyError } from './errors.js';
import { BATCH_SIZE_BUCKETS, createHistogram, type HistogramData } from './histogram.js';
import { resolveCacheLimits, type CacheLimitName } from './options.js';
import { RevisionWaiters } from './revision-waiters.js';
import { estimateJsonBytes } from './size.js';
import type { SnapshotFrames } from './snapshot-frames.js';
import { SnapshotStore, type CapturedState } from './snapshot-store.js';
import { ResyncGaps, type Gap } from './resync-gaps.js';
import { Tombstones } from './tombstones.js';
import { buildDeltaDictionary, deflateDeltasFrame, deltaDictionaryFrame, deltaFrameKind, type DeltaDictionaryData } from '../protocol/deflated-deltas.js';
import type { FrameVariant } from './delta-batcher.js';

export interface SyncCacheOptions extends Partial<Record<CacheLimitName, number>> {
  syncer: SyncerType;
  clock?: Pick<Clock, 'now'>;
  logger?: Logger;
}

/** What a resuming client at some revision is to be sent. */
export type ChangesResult =
  /** Coalesced changes (latest update per key, deletions included) taking it to `revision`. */
  | { mode: 'resume'; updates: Update[]; revision: number }
  /** Not covered (deletions since forgotten, or inside a resync gap): send a snapshot. */
  | { mode: 'snapshot'; revision: number; oldestResumableRevision: number }
  /** This replica is behind the client (or not yet in sync): `waitForRevision(revision)`, then ask again. */
  | { mode: 'wait'; revision: number };

/** What a new client is sent: pages, then `tail`, then InSync at `revision`. */
/** One syncer's `deflate-deltas` for one codec: see `SyncCache.deltaCompression`. */
export interface DeltaCompression {
  readonly dictionary: DeltaDictionaryData;
  /** The `DeltaDictionary` message, encoded once: written after the hello of each client that accepted the feature. */
  readonly dictionaryFrame: Buffer;
}

export interface SnapshotJoin {
  snapshot: SnapshotFrames;
  /** Encoded Deltas frames from the snapshot's revision to `revision` (empty when current). */
  tail: readonly Buffer[];
  revision: number;
}

export interface SyncCacheStats {
  syncer: SyncerType;
  status: SyncStatus;
  ready: boolean;
  revision: number;
  contentRevision: number;
  keys: number;
  /** Estimated encoded bytes of the current state. */
  bytes: number;
  logBatches: number;
  logBytes: number;
  tombstones: number;
  oldestResumableRevision: number;
  /** Revision ranges seen only through a relist diff (see `resync-gaps.ts`). */
  resyncGaps: readonly Gap[];
  snapshotsGenerated: number;
  snapshotsReused: number;
  snapshotsCached: number;
  snapshotPagesEncoded: number;
  snapshotBytesEncoded: number;
  /** Pages compressed once for `deflate-snapshot` clients, and their sizes before and after. */
  snapshotPagesCompressed: number;
  snapshotBytesBeforeCompression: number;
  snapshotBytesCompressed: number;
  /** Size of the last complete binary-codec snapshot, before and after compression (Calico's gauges). */
  lastSnapshotRawBytes: number;
  lastSnapshotCompressedBytes: number;
  resumesFromLog: number;
  resumesFromState: number;
  resumesTooOld: number;
  /** Of those, clients whose revision lay inside a resync gap. */
  resumesInGap: number;
  /** Updates per applied batch. */
  batchSizes: HistogramData;
}

interface Entry {
  update: Update;
  size: number;
}

/** Estimated bytes of a deletion in the log (kind, name, revision). */
const DELETE_BYTES = 64;

export class SyncCache implements SyncCallbacks<Update> {
  readonly syncer: SyncerType;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #logger: Logger;
  readonly #warnLimiter: LogLimiter;
  readonly #state = new Map<string, Entry>();
  readonly #deltaCompression = new Map<string, DeltaCompression>();
  readonly #log: DeltaLog;
  readonly #tombstones: Tombstones;
  readonly #gaps = new ResyncGaps();
  readonly #snapshots: SnapshotStore;
  readonly #waiters = new RevisionWaiters();
  readonly #batchSizes = createHistogram(BATCH_SIZE_BUCKETS);
  readonly #capture = (): CapturedState => {
    const updates: Update[] = [];
    const sizes: number[] = [];
    for (const e of this.#state.values()) {
      updates.push(e.update);
      sizes.push(e.size);
    }
    return { updates, sizes };
  };
  #bytes = 0;
  #revision = 0;
  #contentRevision = 0;
  #status: SyncStatus = 'wait-for-datastore';
  #ready = false;
  #closed = false;
  #resumesFromLog = 0;
  #resumesFromState = 0;
  #resumesTooOld = 0;
  #resumesInGap = 0;

  constructor(opts: SyncCacheOptions) {
    this.syncer = opts.syncer;
    const limits = resolveCacheLimits(opts);
    this.#clock = opts.clock ?? realClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#warnLimiter = createLogLimiter({ clock: this.#clock });
    this.#log = new DeltaLog({ maxBatches: limits.maxLogBatches, maxBytes: limits.maxLogBytes, maxAgeMs: limits.maxLogAgeMs });
    this.#tombstones = new Tombstones({ max: limits.maxTombstones, retentionMs: limits.tombstoneRetentionMs });
    this.#snapshots = new SnapshotStore({
      maxEntries: limits.snapshotCacheEntries,
      maxBytes: limits.snapshotCacheBytes,
      reuseMs: limits.snapshotReuseMs,
      pageSize: limits.pageSize,
      pageBytes: limits.pageBytes,
      deflateLevel: limits.snapshotDeflateLevel,
    });
  }

  get revision(): number {
    return this.#revision;
  }

  get contentRevision(): number {
    return this.#contentRevision;
  }

  get status(): SyncStatus {
    return this.#status;
  }

  /** True once the cache first reached `in-sync`; it then keeps serving through resyncs. */
  get ready(): boolean {
    return this.#ready;
  }

  get size(): number {
    return this.#state.size;
  }

  /** A client at or above this revision can resume; below it, it needs a snapshot. */
  get oldestResumableRevision(): number {
    return Math.max(Math.min(this.#tombstones.horizon, this.#log.base), this.#gaps.horizon);
  }

  /** Whether a client whose state is at `revision` can be resumed from this cache's history. */
  covers(revision: number): boolean {
    return Number.isSafeInteger(revision) && revision >= this.oldestResumableRevision && !this.#gaps.contains(revision);
  }

  onStatus(status: SyncStatus, revision: number): void {
    this.#assertOpen();
    this.#advance(revision);
    const previous = this.#status;
    this.#status = status;
    if (this.#ready) {
      // Leaving in-sync: the watch stopped at this revision; the relist that follows is a gap.
      if (status !== 'in-sync') this.#gaps.open(this.#revision);
      else this.#gaps.close(this.#revision);
    }
    if (status === 'in-sync' && !this.#ready) {
      // Deletions before this point were never seen: resumes start here.
      this.#ready = true;
      this.#log.reset(this.#revision);
      this.#tombstones.reset(this.#revision);
      this.#logger.info({ syncer: this.syncer, revision: this.#revision, keys: this.#state.size }, 'cache in sync with the datastore');
    } else if (status !== previous) {
      this.#logger.info({ syncer: this.syncer, revision: this.#revision, status, previous }, 'datastore sync status changed');
    }
    if (this.#ready) this.#waiters.reached(this.#revision);
  }

  onUpdates(updates: Update[], revision: number): void {
    this.#assertOpen();
    const now = this.#clock.now();
    if (updates.length > 0) {
      if (revision <= this.#contentRevision) {
        if (this.#warnLimiter.take() >= 0) {
          this.#logger.warn(
            { syncer: this.syncer, revision, contentRevision: this.#contentRevision },
            'batch revision did not advance; keeping revisions monotonic',
          );
        }
        this.#snapshots.dropRevision(this.#contentRevision);
      }
      const stamp = Math.max(revision, this.#revision);
      let batchBytes = 0;
      for (const u of updates) batchBytes += this.#apply(u, now);
      this.#contentRevision = stamp;
      this.#batchSizes.observe(updates.length);
      if (this.#ready) this.#log.append(stamp, updates, batchBytes, now);
      this.#snapshots.purge(stamp, now);
    }
    this.#advance(revision);
    this.#expire(now);
    if (this.#ready) this.#waiters.reached(this.#revision);
  }

  /** Keeps the batcher's encoded frames beside the batch of the same revision, for replay. */
  recordFrames(revision: number, frames: ReadonlyMap<string, Buffer>): void {
    if (this.#closed || !this.#ready) return;
    this.#log.attachFrames(revision, frames, this.#clock.now());
  }

  /** What a client that has applied everything up to `revision` needs. */
  changesSince(revision: number): ChangesResult {
    this.#assertOpen();
    if (!this.#ready || revision > this.#revision) return { mode: 'wait', revision };
    this.#expire(this.#clock.now());
    const oldest = this.oldestResumableRevision;
    if (!this.covers(revision)) {
      this.#resumesTooOld++;
      if (revision >= oldest) this.#resumesInGap++;
      return { mode: 'snapshot', revision: this.#revision, oldestResumableRevision: oldest };
    }
    if (revision >= this.#log.base) {
      this.#resumesFromLog++;
      return { mode: 'resume', updates: this.#log.coalesceSince(revision), revision: this.#revision };
    }
    this.#resumesFromState++;
    const updates: Update[] = [];
    for (const e of this.#state.values()) if (e.update.revision > revision) updates.push(e.update);
    this.#tombstones.collectSince(revision, updates);
    return { mode: 'resume', updates, revision: this.#revision };
  }

  /** Resolves once the cache is ready and at or past `revision`; rejects on close or abort. */
  waitForRevision(revision: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new CacheClosedError(`${this.syncer} cache`));
    if (this.#ready && this.#revision >= revision) return Promise.resolve();
    return this.#waiters.wait(revision, signal);
  }

  /** The snapshot at the current content revision for `codec`, built at most once. */
  snapshot(codec: Codec): SnapshotFrames {
    this.#assertServing();
    return this.#snapshots.getOrBuild(this.#contentRevision, codec, this.#clock.now(), this.#capture);
  }

  /** Every page of the current snapshot for `codec`, encoded (once). */
  snapshotFrames(codec: Codec): Buffer[] {
    return this.snapshot(codec).all();
  }

  /**
   * What to send a new client: the current snapshot or, within `snapshotReuseMs`, a recent one
   * plus the delta frames sent since (so a rush of joins under churn encodes nothing new).
   */
  join(codec: Codec, frameKind: string = codec.name): SnapshotJoin {
    this.#assertServing();
    if (!this.#snapshots.has(this.#contentRevision, codec.name)) {
      const now = this.#clock.now();
      this.#log.trim(now);
      const recent = this.#snapshots.takeRecent(codec.name, now);
      const tail = recent && this.#log.framesSince(recent.revision, frameKind);
      if (recent && tail) {
        this.#snapshots.markReused(recent);
        return { snapshot: recent, tail, revision: this.#revision };
      }
    }
    return { snapshot: this.snapshot(codec), tail: [], revision: this.#revision };
  }

  /**
   * The delta-compression of this syncer for a binary `codec` (`deflate-deltas`): the dictionary,
   * built once from the state when first asked for, its frame for each client's hello, and the
   * batcher's variant that compresses each batch's frame once.
   */
  deltaCompression(codec: Codec): DeltaCompression {
    this.#assertServing();
    let dc = this.#deltaCompression.get(codec.name);
    if (dc === undefined) {
      const dict = buildDeltaDictionary(
        codec,
        Array.from(this.#state.values(), (e) => e.update),
      );
      this.#logger.info({ codec: codec.name, id: dict.id, bytes: dict.data.length, keys: this.#state.size }, 'built the delta dictionary');
      dc = { dictionary: dict, dictionaryFrame: deltaDictionaryFrame(codec, dict) };
      this.#deltaCompression.set(codec.name, dc);
    }
    return dc;
  }

  /**
   * For the DeltaBatcher (`variants`): each batch's `codec` frame compressed once with this
   * syncer's dictionary, kept and fanned out as `<codec>+deflate`. The dictionary is built at the
   * first batch (batches flow only once the cache is ready), so this may be wired at start.
   */
  deltaVariant(codec: Codec): FrameVariant {
    return {
      name: deltaFrameKind(codec.name, true),
      from: codec.name,
      make: (frame) => deflateDeltasFrame(codec, frame, this.deltaCompression(codec).dictionary),
    };
  }

  /** The encoded Deltas frames of `kind` (see `deltaFrameKind`) after `revision`, if the log still holds them all. */
  deltaFramesSince(revision: number, codec: string): Buffer[] | undefined {
    this.#assertOpen();
    if (!this.#ready || revision > this.#revision || this.#gaps.contains(revision)) return undefined;
    this.#log.trim(this.#clock.now());
    return this.#log.framesSince(revision, codec);
  }

  stats(): SyncCacheStats {
    if (!this.#closed) this.#expire(this.#clock.now());
    const snap = this.#snapshots.stats();
    return {
      syncer: this.syncer,
      status: this.#status,
      ready: this.#ready,
      revision: this.#revision,
      contentRevision: this.#contentRevision,
      keys: this.#state.size,
      bytes: this.#bytes,
      logBatches: this.#log.length,
      logBytes: this.#log.bytes,
      tombstones: this.#tombstones.size,
      oldestResumableRevision: this.oldestResumableRevision,
      resyncGaps: [...this.#gaps.list()],
      snapshotsGenerated: snap.generated,
      snapshotsReused: snap.reused,
      snapshotsCached: snap.cached,
      snapshotPagesEncoded: snap.pagesEncoded,
      snapshotBytesEncoded: snap.bytesEncoded,
      snapshotPagesCompressed: snap.pagesCompressed,
      snapshotBytesBeforeCompression: snap.bytesBeforeCompression,
      snapshotBytesCompressed: snap.bytesCompressed,
      lastSnapshotRawBytes: snap.lastRawBytes,
      lastSnapshotCompressedBytes: snap.lastCompressedBytes,
      resumesFromLog: this.#resumesFromLog,
      resumesFromState: this.#resumesFromState,
      resumesTooOld: this.#resumesTooOld,
      resumesInGap: this.#resumesInGap,
      batchSizes: this.#batchSizes.snapshot(),
    };
  }

  /** Frees the state and rejects pending waits. Handles already given out stay usable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.rejectAll(new CacheClosedError(`${this.syncer} cache`));
    this.#snapshots.clear();
    this.#state.clear();
    this.#log.reset(this.#revision);
    this.#tombstones.reset(this.#revision);
    this.#bytes = 0;
  }

  /** Applies one update to the state; returns its estimated size for the log. */
  #apply(u: Update, now: number): number {
    const key = updateKey(u);
    const prev = this.#state.get(key);
    if (u.value === undefined) {
      if (prev === undefined) return DELETE_BYTES;
      this.#state.delete(key);
      this.#bytes -= prev.size;
      if (this.#ready) this.#tombstones.add(key, u, now);
      return DELETE_BYTES;
    }
    const size = estimateJsonBytes(u);
    if (prev === undefined) {
      this.#state.set(key, { update: u, size });
      this.#bytes += size;
    } else {
      this.#bytes += size - prev.size;
      prev.update = u;
      prev.size = size;
    }
    this.#tombstones.remove(key);
    return size;
  }

  #advance(revision: number): void {
    if (revision > this.#revision) this.#revision = revision;
  }

  #expire(now: number): void {
    this.#tombstones.expire(now);
    this.#log.trim(now);
    this.#gaps.prune(this.oldestResumableRevision);
  }

  #assertOpen(): void {
    if (this.#closed) throw new CacheClosedError(`${this.syncer} cache`);
  }

  #assertServing(): void {
    this.#assertOpen();
    if (!this.#ready) throw new CacheNotReadyError(this.syncer);
  }
}
