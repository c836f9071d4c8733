/**
 * What is queued for one client while it is not live, written by the connection's pump as the
 * socket drains: snapshot pages, then already-encoded delta frames (a snapshot's tail or a
 * replay), then coalesced catch-up pages. Nothing is encoded or copied ahead of the socket:
 * pages of a snapshot are encoded (once, for every client) when first asked for, coalesced
 * pages when their turn comes, and frames are references to the Buffers everyone else got.
 *
 *   setSnapshot ─┐
 *   setFrames   ─┼─▶ next() … next() ─▶ undefined   (`revision` = where the client then is)
 *   setPages    ─┘
 */
import type { SnapshotFrames } from '../cache/snapshot-frames.js';
import type { Codec } from '../protocol/codec.js';
import type { CoalescedPages } from './catch-up.js';

export class OutboundQueue {
  #snapshot: SnapshotFrames | undefined;
  #compressed = false;
  #page = 0;
  #frames: readonly Buffer[] | undefined;
  #frameIndex = 0;
  #framesRevision = -1;
  #pages: CoalescedPages | undefined;
  #revision = -1;
  /** Updates in the last frame `next()` encoded for this client alone (0 for shared frames). */
  encodedUpdates = 0;

  get empty(): boolean {
    return this.#snapshot === undefined && this.#frames === undefined && this.#pages === undefined;
  }

  /** The revision reached by the last source written out completely (-1: none yet). */
  get revision(): number {
    return this.#revision;
  }

  /** `compressed`: the client accepted `deflate-snapshot` and gets the pages' Compressed frames. */
  setSnapshot(snapshot: SnapshotFrames, compressed: boolean): void {
    this.#snapshot = snapshot;
    this.#compressed = compressed;
    this.#page = 0;
  }

  /** Encoded Deltas frames that take the client to `revision`. */
  setFrames(frames: readonly Buffer[], revision: number): void {
    this.#frames = frames;
    this.#frameIndex = 0;
    this.#framesRevision = revision;
  }

  setPages(pages: CoalescedPages): void {
    this.#pages = pages;
  }

  /** The next frame to write, or undefined when everything queued has been handed out. */
  next(codec: Codec): Buffer | undefined {
    this.encodedUpdates = 0;
    const snapshot = this.#snapshot;
    if (snapshot !== undefined) {
      if (this.#page < snapshot.pageCount) return snapshot.frame(this.#page++, this.#compressed);
      this.#snapshot = undefined;
    }
    const frames = this.#frames;
    if (frames !== undefined) {
      if (this.#frameIndex < frames.length) return frames[this.#frameIndex++];
      this.#frames = undefined;
      this.#revision = this.#framesRevision;
    }
    const pages = this.#pages;
    if (pages !== undefined) {
      if (!pages.done) {
        const { frame, count } = pages.next(codec);
        this.encodedUpdates = count;
        return frame;
      }
      this.#pages = undefined;
      this.#revision = pages.revision;
    }
    return undefined;
  }

  /** Drops everything queued (the connection is closing). */
  clear(): void {
    this.#snapshot = undefined;
    this.#frames = undefined;
    this.#pages = undefined;
  }
}
