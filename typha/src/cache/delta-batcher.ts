/**
 * Fan-out batching: gathers a syncer's updates for a short window (default 10 ms) or until
 * `maxBatch` distinct keys, then emits ONE Deltas message for the window, encoded ONCE per
 * codec. `publish` receives those Buffers and the server writes the very same bytes to every
 * client of the syncer; nothing here (or downstream) serialises per client.
 *
 *   updates ─▶ pending (latest per key) ──window/maxBatch──▶ next.onUpdates (the SyncCache)
 *                                                          ─▶ recorder.recordFrames (replay)
 *                                                          ─▶ publish(frames, deltas)
 *
 * Updates to one key within a window are coalesced to the latest (a pod flapping ten times in
 * 10 ms is one update on the wire). The cache is fed the same coalesced batch just before it is
 * published, so the cache and the live stream agree at every revision: a client that takes a
 * snapshot at the cache's revision and then every published batch after it has everything.
 *
 * Until the first `in-sync` nobody can be connected (the server admits clients only once the
 * cache is ready), so the initial listing goes straight to `next`: no windows, no encoding of
 * the whole data set for no one.
 *
 * A batch with nothing for this syncer still carries the store revision: with nothing pending
 * it goes straight to `next` (no encoding, no publish); otherwise it moves the pending batch's
 * revision forward. A status change flushes first, so nothing is reordered around it.
 *
 * Timers come from an injected scheduler, so tests drive windows without sleeping.
 */
import type { Codec } from '../protocol/codec.js';
import type { Deltas, Update } from '../protocol/messages.js';
import { createLogLimiter, type LogLimiter } from '../pipeline/log-limiter.js';
import { realClock, type Clock, type TimerHandle } from '../common/clock.js';
import { silentLogger, type Logger } from '../pipeline/logger.js';
import type { SyncCallbacks, SyncStatus } from '../pipeline/sync-callbacks.js';
import { updateKey } from '../common/update-key.js';
import { CacheClosedError, CacheOptionError } from './errors.js';

/** Keeps each batch's encoded frames (the SyncCache implements it). */
export interface FrameRecorder {
  recordFrames(revision: number, frames: ReadonlyMap<string, Buffer>): void;
}

/** Frames keyed by kind: a codec's name, or a variant's (e.g. `msgpack+deflate`). */
export type PublishFn = (frames: ReadonlyMap<string, Buffer>, deltas: Deltas, encode?: EncodeFn) => void;

/**
 * Encodes another Deltas exactly as the batch was (every codec, every variant): the fan-out
 * merges consecutive batches that a client gets in one visit into one message (fan-out.ts).
 */
export type EncodeFn = (deltas: Deltas) => ReadonlyMap<string, Buffer>;

/**
 * Another encoding of each batch, made once from a codec's frame (`deflate-deltas`: the frame
 * compressed with the syncer's dictionary). Kept and published beside the codecs' frames under
 * `name`; a batch whose `make` gives nothing (or fails) goes out without it, and clients of the
 * variant get the codec's plain frame.
 */
export interface FrameVariant {
  readonly name: string;
  readonly from: Codec['name'];
  make(frame: Buffer): Buffer | undefined;
}

export interface DeltaBatcherOptions {
  /** Receives each coalesced batch before it is published (the SyncCache). */
  next: SyncCallbacks<Update>;
  /** One encoding per codec per batch. */
  codecs: readonly Codec[];
  publish: PublishFn;
  recorder?: FrameRecorder;
  /** Made once per batch after the codecs' frames; `setVariants` replaces them. */
  variants?: readonly FrameVariant[];
  /** Window in ms from the first pending update to the flush (default 10, 0..1000). */
  windowMs?: number;
  /** Distinct keys that flush a batch at once (default 1000, 1..100 000). */
  maxBatch?: number;
  /** The window's timer and the error-log budget's time. */
  clock?: Clock;
  logger?: Logger;
}

export interface DeltaBatcherStats {
  batches: number;
  updates: number;
  /** Updates folded into a later update of the same key within a window. */
  coalesced: number;
  framesEncoded: number;
  bytesEncoded: number;
  encodeErrors: number;
  publishErrors: number;
  /** Variant frames made (e.g. `deflate-deltas`), and their bytes. */
  variantFrames: number;
  variantBytes: number;
  /** Runs of batches the fan-out had encoded again as one message (their frames count above too). */
  merged: number;
}

function checkRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new CacheOptionError(`batcher option ${name}: ${String(v)} is not an integer in ${min}..${max}`);
  }
  return v;
}

export class DeltaBatcher implements SyncCallbacks<Update> {
  readonly #next: SyncCallbacks<Update>;
  readonly #codecs: readonly Codec[];
  readonly #publish: PublishFn;
  readonly #recorder: FrameRecorder | undefined;
  #variants: readonly FrameVariant[];
  readonly #windowMs: number;
  readonly #maxBatch: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #errorLimiter: LogLimiter;
  readonly #flushFromTimer = (): void => {
    this.#timer = undefined;
    try {
      this.flush();
    } catch (err) {
      // Nothing may escape a timer callback; the cache refusing a batch (closed) lands here.
      this.#logError(err, this.#pendingRevision, 'flushing a delta batch failed');
    }
  };
  #pending = new Map<string, Update>();
  #pendingRevision = 0;
  #timer: TimerHandle | undefined = undefined;
  #live = false;
  #closed = false;
  readonly #stats: DeltaBatcherStats = {
    batches: 0,
    updates: 0,
    coalesced: 0,
    framesEncoded: 0,
    bytesEncoded: 0,
    encodeErrors: 0,
    publishErrors: 0,
    variantFrames: 0,
    variantBytes: 0,
    merged: 0,
  };

  constructor(opts: DeltaBatcherOptions) {
    if (opts.codecs.length === 0) throw new CacheOptionError('batcher option codecs: at least one codec is needed');
    this.#next = opts.next;
    this.#codecs = [...opts.codecs];
    this.#publish = opts.publish;
    this.#recorder = opts.recorder;
    this.#variants = opts.variants ?? [];
    this.#windowMs = checkRange('windowMs', opts.windowMs ?? 10, 0, 1000);
    this.#maxBatch = checkRange('maxBatch', opts.maxBatch ?? 1000, 1, 100_000);
    this.#clock = opts.clock ?? realClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#errorLimiter = createLogLimiter({ clock: this.#clock });
  }

  /** Replaces the variants made of each later batch. */
  setVariants(variants: readonly FrameVariant[]): void {
    this.#variants = [...variants];
  }

  /** Updates waiting for the window to close. */
  get pending(): number {
    return this.#pending.size;
  }

  onStatus(status: SyncStatus, revision: number): void {
    this.#assertOpen();
    this.flush();
    if (status === 'in-sync') this.#live = true;
    this.#next.onStatus(status, revision);
  }

  onUpdates(updates: Update[], revision: number): void {
    this.#assertOpen();
    if (!this.#live) {
      this.#next.onUpdates(updates, revision);
      return;
    }
    if (updates.length === 0) {
      if (this.#pending.size === 0) this.#next.onUpdates(updates, revision);
      else if (revision > this.#pendingRevision) this.#pendingRevision = revision;
      return;
    }
    for (const u of updates) {
      const key = updateKey(u);
      if (this.#pending.delete(key)) this.#stats.coalesced++;
      this.#pending.set(key, u);
    }
    if (revision > this.#pendingRevision) this.#pendingRevision = revision;
    if (this.#pending.size >= this.#maxBatch) this.flush();
    else if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(runFlush, this.#windowMs, this.#flushFromTimer);
  }

  /** Emits the pending batch now (no-op when nothing is pending). */
  flush(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.size === 0) return;
    const updates = [...this.#pending.values()];
    const revision = this.#pendingRevision;
    this.#pending = new Map();
    const deltas: Deltas = { type: 'deltas', revision, updates };
    const frames = this.#encodeCodecs(deltas);
    const allCodecs = frames.size === this.#codecs.length;
    this.#stats.batches++;
    this.#stats.updates += updates.length;

    // The cache is the source of truth for resume and snapshots: it applies the batch even if
    // an encoding failed (clients of that codec then miss it and must resume from the cache).
    // The variants come after it: the first one builds its dictionary from the cache's state.
    this.#next.onUpdates(updates, revision);
    this.#addVariants(frames, revision);
    if (allCodecs) this.#recorder?.recordFrames(revision, frames);
    try {
      this.#publish(frames, deltas, this.#encodeMerged);
    } catch (err) {
      this.#stats.publishErrors++;
      this.#logError(err, revision, 'publishing a delta batch failed');
    }
  }

  /** As a batch is encoded (every codec, every variant), for a run of batches merged into one. */
  readonly #encodeMerged = (deltas: Deltas): ReadonlyMap<string, Buffer> => {
    this.#stats.merged++;
    const frames = this.#encodeCodecs(deltas);
    this.#addVariants(frames, deltas.revision);
    return frames;
  };

  #encodeCodecs(deltas: Deltas): Map<string, Buffer> {
    const frames = new Map<string, Buffer>();
    for (const codec of this.#codecs) {
      try {
        const buf = codec.encode(deltas);
        frames.set(codec.name, buf);
        this.#stats.framesEncoded++;
        this.#stats.bytesEncoded += buf.byteLength;
      } catch (err) {
        this.#stats.encodeErrors++;
        this.#logError(err, deltas.revision, `cannot encode a delta batch with ${codec.name}; its clients will need to resume`);
      }
    }
    return frames;
  }

  #addVariants(frames: Map<string, Buffer>, revision: number): void {
    for (const v of this.#variants) {
      const base = frames.get(v.from);
      if (base === undefined) continue;
      try {
        const buf = v.make(base);
        if (buf !== undefined) {
          frames.set(v.name, buf);
          this.#stats.variantFrames++;
          this.#stats.variantBytes += buf.byteLength;
        }
      } catch (err) {
        this.#stats.encodeErrors++;
        this.#logError(err, revision, `cannot make the ${v.name} frame of a delta batch; its clients get the ${v.from} frame`);
      }
    }
  }

  stats(): DeltaBatcherStats {
    return { ...this.#stats };
  }

  /** Flushes what is pending and stops; later updates are refused. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }

  #logError(err: unknown, revision: number, msg: string): void {
    const suppressed = this.#errorLimiter.take();
    if (suppressed >= 0) this.#logger.error({ err, revision, suppressed }, msg);
  }

  #assertOpen(): void {
    if (this.#closed) throw new CacheClosedError('delta batcher');
  }
}

function runFlush(flushFromTimer: () => void): void {
  flushFromTimer();
}
