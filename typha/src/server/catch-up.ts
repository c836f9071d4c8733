/**
 * Bringing one client from revision R to the cache's current revision, without a snapshot.
 * Used twice: for a reconnecting client that sent `resume.revision` (before its InSync), and
 * for a live client that fell behind (after it).
 *
 *   planCatchUp(cache, codec, R)
 *     R > cache.revision                 → 'ahead'    (wait for this replica to get there)
 *     log holds encoded frames after R   → 'frames'   replay the very Buffers every live client
 *       and they total <= replayMaxBytes                got: no encoding, no copy
 *     cache can coalesce since R         → 'updates'  latest value per key changed after R, or
 *                                                     its deletion: bytes bounded by the state
 *                                                     size whatever the length of the lag
 *     R below oldestResumableRevision    → 'too-old'  (deletions since were forgotten)
 *     nothing changed since R            → 'current'
 *
 * Replaying frames costs nothing but may send a key many times; coalescing costs one pass and
 * one encoding for this client but sends each key once. Frames win while they are few, so they
 * are used up to `replayMaxBytes` (the server passes 4 × its high-water mark); past that, a
 * client that is behind gets the smaller coalesced form.
 *
 * Coalesced updates go out as Deltas pages encoded one at a time as the socket drains
 * (`CoalescedPages`), so a catch-up never holds more than one encoded page per client. Every
 * page but the last is stamped with the revision the client started from and the last with the
 * target: a client cut off half-way resumes from a revision at which it has everything, and
 * re-applying the latest values it already has is harmless.
 */
import type { SyncCache } from '../cache/sync-cache.js';
import { estimateJsonBytes } from '../cache/size.js';
import type { Codec } from '../protocol/codec.js';
import type { Deltas, Update } from '../protocol/messages.js';
import { TARGET_PAGE_BYTES } from '../protocol/transport.js';

export type CatchUpPlan =
  | { kind: 'current'; revision: number }
  | { kind: 'frames'; frames: readonly Buffer[]; revision: number }
  | { kind: 'updates'; updates: readonly Update[]; revision: number }
  | { kind: 'too-old'; oldestResumableRevision: number }
  | { kind: 'ahead'; revision: number };

/** Updates per coalesced page, and estimated bytes (half the target leaves room for the estimate's error). */
export const CATCH_UP_PAGE_UPDATES = 500;
const CATCH_UP_PAGE_BYTES = TARGET_PAGE_BYTES / 2;

/** `frameKind`: the client's delta frames (its codec's name, or `<codec>+deflate`). */
export function planCatchUp(cache: SyncCache, frameKind: string, from: number, replayMaxBytes: number): CatchUpPlan {
  if (from > cache.revision) return { kind: 'ahead', revision: cache.revision };
  const frames = cache.deltaFramesSince(from, frameKind);
  if (frames !== undefined) {
    if (frames.length === 0) return { kind: 'current', revision: cache.revision };
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    if (bytes <= replayMaxBytes) return { kind: 'frames', frames, revision: cache.revision };
  }
  const r = cache.changesSince(from);
  switch (r.mode) {
    case 'resume':
      return r.updates.length === 0 ? { kind: 'current', revision: r.revision } : { kind: 'updates', updates: r.updates, revision: r.revision };
    case 'snapshot':
      return { kind: 'too-old', oldestResumableRevision: r.oldestResumableRevision };
    case 'wait':
      return { kind: 'ahead', revision: cache.revision };
  }
}

/** Coalesced updates cut into Deltas pages, each encoded when it is about to be written. */
export class CoalescedPages {
  readonly #updates: readonly Update[];
  readonly #from: number;
  readonly #to: number;
  #next = 0;

  constructor(updates: readonly Update[], from: number, to: number) {
    this.#updates = updates;
    this.#from = from;
    this.#to = to;
  }

  get done(): boolean {
    return this.#next >= this.#updates.length;
  }

  /** The revision the client is at once every page is applied. */
  get revision(): number {
    return this.#to;
  }

  /** Encodes the next page; `count` is its number of updates. Call only while `!done`. */
  next(codec: Codec): { frame: Buffer; count: number } {
    const all = this.#updates;
    const start = this.#next;
    let end = start;
    let bytes = 0;
    while (end < all.length && end - start < CATCH_UP_PAGE_UPDATES) {
      const size = estimateJsonBytes(all[end]);
      if (end > start && bytes + size > CATCH_UP_PAGE_BYTES) break;
      bytes += size;
      end++;
    }
    this.#next = end;
    const msg: Deltas = { type: 'deltas', revision: end >= all.length ? this.#to : this.#from, updates: all.slice(start, end) };
    return { frame: codec.encode(msg), count: end - start };
  }
}
