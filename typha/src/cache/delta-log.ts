/**
 * The recent delta batches of one syncer, in revision order, each with the encoded frames the
 * batcher sent to every client (when recorded). Two uses:
 *
 *  - fast resume: the changes since a revision are the keys touched by the batches after it,
 *    coalesced to their latest update, at a cost proportional to what changed rather than to
 *    the size of the state;
 *  - replay without encoding: a client that joins on a slightly older snapshot is brought up to
 *    date with the very Buffers already written to everyone else.
 *
 * Invariant: the log holds every change with a revision in (base, newest]. Evicting the oldest
 * batch moves `base` up to its revision. Bounded by batch count, bytes and age.
 */
import type { Update } from '../protocol/messages.js';
import { baseFrameKind } from '../protocol/deflated-deltas.js';
import { updateKey } from '../common/update-key.js';

export interface LogEntry {
  readonly revision: number;
  readonly updates: readonly Update[];
  readonly at: number;
  /** Estimated bytes of the updates plus the recorded frames. */
  bytes: number;
  frames: ReadonlyMap<string, Buffer> | undefined;
}

export interface DeltaLogLimits {
  readonly maxBatches: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

const COMPACT_AFTER = 1024;

export class DeltaLog {
  #entries: LogEntry[] = [];
  #head = 0;
  #bytes = 0;
  #base = 0;
  readonly #limits: DeltaLogLimits;

  constructor(limits: DeltaLogLimits) {
    this.#limits = limits;
  }

  /** Every change after this revision (up to the newest batch) is in the log. */
  get base(): number {
    return this.#base;
  }

  get length(): number {
    return this.#entries.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Empties the log; it then covers everything after `base`. */
  reset(base: number): void {
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#base = base;
  }

  append(revision: number, updates: readonly Update[], bytes: number, now: number): void {
    this.#entries.push({ revision, updates, at: now, bytes, frames: undefined });
    this.#bytes += bytes;
    this.trim(now);
  }

  /** Attaches encoded frames to the newest batch if it has this revision; false otherwise. */
  attachFrames(revision: number, frames: ReadonlyMap<string, Buffer>, now: number): boolean {
    const last = this.length > 0 ? this.#entries[this.#entries.length - 1] : undefined;
    if (!last || last.revision !== revision || last.frames) return false;
    let extra = 0;
    for (const b of frames.values()) extra += b.byteLength;
    last.frames = frames;
    last.bytes += extra;
    this.#bytes += extra;
    this.trim(now);
    return true;
  }

  /** Evicts the oldest batches until count, bytes and age are within limits. */
  trim(now: number): void {
    const { maxBatches, maxBytes, maxAgeMs } = this.#limits;
    const oldest = now - maxAgeMs;
    while (this.length > 0) {
      const e = this.#entries[this.#head];
      if (this.length <= maxBatches && this.#bytes <= maxBytes && e.at >= oldest) break;
      this.#bytes -= e.bytes;
      this.#base = e.revision;
      this.#entries[this.#head++] = undefined as unknown as LogEntry;
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The latest update of every key changed after `revision`, oldest change first. */
  coalesceSince(revision: number): Update[] {
    const latest = new Map<string, Update>();
    for (let i = this.#firstAfter(revision); i < this.#entries.length; i++) {
      for (const u of this.#entries[i].updates) {
        const key = updateKey(u);
        latest.delete(key);
        latest.set(key, u);
      }
    }
    return [...latest.values()];
  }

  /**
   * The frames of `kind` (a codec's name, or `<codec>+deflate`: a batch without that variant
   * gives its codec's plain frame) for every batch after `revision`, in order; undefined when
   * the log does not reach back that far or a batch has no frame for that codec.
   */
  framesSince(revision: number, kind: string): Buffer[] | undefined {
    if (revision < this.#base) return undefined;
    const base = baseFrameKind(kind);
    const out: Buffer[] = [];
    for (let i = this.#firstAfter(revision); i < this.#entries.length; i++) {
      const frames = this.#entries[i].frames;
      const frame = frames?.get(kind) ?? frames?.get(base);
      if (frame === undefined) return undefined;
      out.push(frame);
    }
    return out;
  }

  /** Index of the first batch with a revision above `revision` (binary search). */
  #firstAfter(revision: number): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid].revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
