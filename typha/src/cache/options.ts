/**
 * The cache's limits, validated once at construction: every key with its default and range
 * beside it. These are the memory bounds of a Typha replica (per syncer type):
 *
 *   current state          the data set itself (unbounded by design: it is what agents need)
 *   delta log              <= maxLogBatches batches, <= maxLogBytes (updates + their encoded
 *                          frames), none older than maxLogAgeMs
 *   tombstones             <= maxTombstones, none older than tombstoneRetentionMs
 *   snapshot cache         <= snapshotCacheEntries handles, <= snapshotCacheBytes estimated
 *
 * Evicting from the log only makes resumes slower (they fall back to a scan of the state);
 * evicting a tombstone raises `oldestResumableRevision`, below which a client gets a snapshot.
 */
import { SNAPSHOT_DEFLATE_LEVEL } from '../protocol/compressed.js';
import { CacheOptionError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const MINUTE = 60_000;

interface Limit {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export const CACHE_LIMITS = Object.freeze({
  /** Updates per snapshot page. */
  pageSize: { default: 500, min: 1, max: 100_000 },
  /** Estimated bytes per snapshot page (a page holds at least one update). */
  pageBytes: { default: 256 * KiB, min: 1 * KiB, max: 64 * MiB },
  /** Delta batches kept for fast resume and for replaying encoded frames. */
  maxLogBatches: { default: 10_000, min: 0, max: 1_000_000 },
  /** Bytes of the delta log: estimated update bytes plus recorded frames. */
  maxLogBytes: { default: 64 * MiB, min: 0, max: 4 * GiB },
  maxLogAgeMs: { default: 10 * MINUTE, min: 0, max: 24 * 60 * MINUTE },
  /** Deletions remembered for resume; past this, the oldest are forgotten. */
  maxTombstones: { default: 100_000, min: 0, max: 10_000_000 },
  tombstoneRetentionMs: { default: 10 * MINUTE, min: 0, max: 24 * 60 * MINUTE },
  /** Snapshot handles kept in the LRU (each holds its encoded pages). */
  snapshotCacheEntries: { default: 4, min: 1, max: 64 },
  snapshotCacheBytes: { default: 512 * MiB, min: 1 * MiB, max: 16 * GiB },
  /**
   * How long `join()` may hand out an existing snapshot whose revision has moved on, plus the
   * encoded delta frames since, instead of building a new one (0: only an exact match).
   */
  snapshotReuseMs: { default: 1_000, min: 0, max: 10 * MINUTE },
  /** DEFLATE level of the snapshot pages compressed once for `deflate-snapshot` clients. */
  snapshotDeflateLevel: { default: SNAPSHOT_DEFLATE_LEVEL, min: 1, max: 9 },
} satisfies Record<string, Limit>);

export type CacheLimitName = keyof typeof CACHE_LIMITS;
export type CacheLimits = { readonly [K in CacheLimitName]: number };

/** Fills defaults and checks ranges; throws {@link CacheOptionError} naming the bad key. */
export function resolveCacheLimits(given: Partial<Record<CacheLimitName, number | undefined>>): CacheLimits {
  const out = {} as Record<CacheLimitName, number>;
  for (const name of Object.keys(CACHE_LIMITS) as CacheLimitName[]) {
    const limit: Limit = CACHE_LIMITS[name];
    const v = given[name] ?? limit.default;
    if (!Number.isInteger(v) || v < limit.min || v > limit.max) {
      throw new CacheOptionError(`cache option ${name}: ${String(v)} is not an integer in ${limit.min}..${limit.max}`);
    }
    out[name] = v;
  }
  return Object.freeze(out);
}
