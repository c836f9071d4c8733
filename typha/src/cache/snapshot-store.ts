/**
 * The snapshot handles of one syncer, in an LRU keyed `${revision}:${codec}` and bounded by
 * count and estimated bytes, so a thousand clients joining at the same revision share one
 * handle (and each page is encoded once). Handles of superseded revisions are purged as soon
 * as `join` may no longer reuse them: no new client can ask for them, and clients still
 * downloading one hold their own reference.
 */
import { LRUCache } from 'lru-cache';
import type { Codec } from '../protocol/codec.js';
import type { Update } from '../protocol/messages.js';
import { createSnapshotFrames, type SnapshotFrames } from './snapshot-frames.js';

export interface SnapshotStoreLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly reuseMs: number;
  readonly pageSize: number;
  readonly pageBytes: number;
  /** DEFLATE level of compressed pages. */
  readonly deflateLevel: number;
}

/** The state to snapshot: updates and their size estimates, captured by the caller. */
export interface CapturedState {
  updates: readonly Update[];
  sizes: readonly number[];
}

export interface SnapshotStoreStats {
  generated: number;
  reused: number;
  cached: number;
  pagesEncoded: number;
  bytesEncoded: number;
  /** Pages compressed for `deflate-snapshot` clients, and their sizes before and after. */
  pagesCompressed: number;
  bytesBeforeCompression: number;
  bytesCompressed: number;
  /**
   * Calico's typha_snapshot_raw_bytes / _compressed_bytes: the size of the most recently
   * completed snapshot of a binary codec (every page encoded), and of its compressed pages
   * (every page compressed for `deflate-snapshot` clients); 0 until one is.
   */
  lastRawBytes: number;
  lastCompressedBytes: number;
}

export class SnapshotStore {
  readonly #limits: SnapshotStoreLimits;
  readonly #lru: LRUCache<string, SnapshotFrames>;
  #generated = 0;
  #reused = 0;
  #pagesEncoded = 0;
  #bytesEncoded = 0;
  #pagesCompressed = 0;
  #bytesBeforeCompression = 0;
  #bytesCompressed = 0;
  #lastRawBytes = 0;
  #lastCompressedBytes = 0;
  readonly #onEncoded = (bytes: number): void => {
    this.#lastRawBytes = bytes;
  };
  readonly #onCompressed = (bytes: number): void => {
    this.#lastCompressedBytes = bytes;
  };
  readonly #onEncode = (bytes: number): void => {
    this.#pagesEncoded++;
    this.#bytesEncoded += bytes;
  };
  readonly #onCompress = (plain: number, compressed: number): void => {
    this.#pagesCompressed++;
    this.#bytesBeforeCompression += plain;
    this.#bytesCompressed += compressed;
  };

  constructor(limits: SnapshotStoreLimits) {
    this.#limits = limits;
    this.#lru = new LRUCache<string, SnapshotFrames>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      sizeCalculation: (s) => Math.max(1, s.estimatedBytes),
    });
  }

  has(revision: number, codec: string): boolean {
    return this.#lru.has(`${revision}:${codec}`);
  }

  /** The handle for (revision, codec), built from `capture()` only if there is none. */
  getOrBuild(revision: number, codec: Codec, now: number, capture: () => CapturedState): SnapshotFrames {
    const key = `${revision}:${codec.name}`;
    const cached = this.#lru.get(key);
    if (cached !== undefined) {
      this.#reused++;
      return cached;
    }
    const { updates, sizes } = capture();
    const frames = createSnapshotFrames({
      revision,
      codec,
      createdAt: now,
      updates,
      sizes,
      pageSize: this.#limits.pageSize,
      pageBytes: this.#limits.pageBytes,
      deflateLevel: this.#limits.deflateLevel,
      onEncode: this.#onEncode,
      onCompress: this.#onCompress,
      ...(codec.binary ? { onEncoded: this.#onEncoded, onCompressed: this.#onCompressed } : {}),
    });
    this.#generated++;
    this.#lru.set(key, frames);
    return frames;
  }

  /** The newest handle for `codec` built within the reuse window, counted as a reuse. */
  takeRecent(codec: string, now: number): SnapshotFrames | undefined {
    if (this.#limits.reuseMs === 0) return undefined;
    const notBefore = now - this.#limits.reuseMs;
    let best: SnapshotFrames | undefined;
    for (const s of this.#lru.values()) {
      if (s.codec === codec && s.createdAt >= notBefore && (best === undefined || s.revision > best.revision)) best = s;
    }
    return best;
  }

  /** Counts a handle returned by `takeRecent` as reused (and refreshes its LRU position). */
  markReused(s: SnapshotFrames): void {
    this.#reused++;
    this.#lru.get(`${s.revision}:${s.codec}`);
  }

  /** Drops handles not at `current` that are past the reuse window. */
  purge(current: number, now: number): void {
    const oldest = now - this.#limits.reuseMs;
    const reuse = this.#limits.reuseMs > 0;
    this.#dropWhere((s) => s.revision !== current && (!reuse || s.createdAt < oldest));
  }

  /** Drops the handles of one revision (its content changed without a new revision). */
  dropRevision(revision: number): void {
    this.#dropWhere((s) => s.revision === revision);
  }

  clear(): void {
    this.#lru.clear();
  }

  stats(): SnapshotStoreStats {
    return {
      generated: this.#generated,
      reused: this.#reused,
      cached: this.#lru.size,
      pagesEncoded: this.#pagesEncoded,
      bytesEncoded: this.#bytesEncoded,
      pagesCompressed: this.#pagesCompressed,
      bytesBeforeCompression: this.#bytesBeforeCompression,
      bytesCompressed: this.#bytesCompressed,
      lastRawBytes: this.#lastRawBytes,
      lastCompressedBytes: this.#lastCompressedBytes,
    };
  }

  #dropWhere(pred: (s: SnapshotFrames) => boolean): void {
    if (this.#lru.size === 0) return;
    const stale: string[] = [];
    for (const [key, s] of this.#lru.entries()) if (pred(s)) stale.push(key);
    for (const key of stale) this.#lru.delete(key);
  }
}
