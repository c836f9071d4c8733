/**
 * Errors of the sync cache, each with a stable `code` from the `typha` row of @cattail/api's
 * error catalog.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class CacheError extends CattailError<ErrorCodeOf<'typha'>> {}

/** A snapshot was asked for before the cache first reached `in-sync` with the datastore. */
export class CacheNotReadyError extends CacheError {
  constructor(syncer: string) {
    super('TYPHA_CACHE_NOT_READY', `${syncer} cache is not in sync with the datastore yet: wait for readiness before serving clients`);
  }
}

/** The cache or batcher was used after `close()`. */
export class CacheClosedError extends CacheError {
  constructor(what: string) {
    super('TYPHA_CACHE_CLOSED', `${what} is closed`);
  }
}

/** An option is out of range; says which, the value and the accepted range. */
export class CacheOptionError extends CacheError {
  constructor(message: string) {
    super('TYPHA_CACHE_BAD_OPTION', message);
  }
}
