/** The sync cache: per-syncer state, delta log, tombstones, snapshots and fan-out batching. */
export { SyncCache, type SyncCacheOptions, type SyncCacheStats, type ChangesResult, type SnapshotJoin } from './sync-cache.js';
export { DeltaBatcher, type DeltaBatcherOptions, type DeltaBatcherStats, type FrameRecorder, type PublishFn, type EncodeFn } from './delta-batcher.js';
export type { SnapshotFrames } from './snapshot-frames.js';
export type { Gap } from './resync-gaps.js';
export { CACHE_LIMITS, resolveCacheLimits, type CacheLimits, type CacheLimitName } from './options.js';
export { CacheError, CacheClosedError, CacheNotReadyError, CacheOptionError } from './errors.js';
export type { HistogramData } from './histogram.js';
export { estimateJsonBytes } from './size.js';
