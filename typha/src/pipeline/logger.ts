/**
 * What the pipeline and cache need of logging and time: the log methods of the common Logger
 * (no child loggers: these stages log per syncer, not per connection) and a plain monotonic
 * `now` function.
 */
import type { Logger as FullLogger } from '../common/logger.js';

export { silentLogger } from '../common/logger.js';
export type { LogFn } from '../common/logger.js';

export type Logger = Pick<FullLogger, 'error' | 'warn' | 'info' | 'debug'>;

/** Milliseconds on a monotonic clock; injected so tests control time. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();
