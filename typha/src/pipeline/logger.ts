/**
 * What the pipeline and cache need of logging: the log methods of the common Logger (no child
 * loggers: these stages log per syncer, not per connection). Time is the common Clock
 * (../common/clock.ts), of which they read only `now`.
 */
import type { Logger as FullLogger } from '../common/logger.js';

export { silentLogger } from '../common/logger.js';
export type { LogFn } from '../common/logger.js';

export type Logger = Pick<FullLogger, 'error' | 'warn' | 'info' | 'debug'>;
