/**
 * Errors of the sync server, each with a stable `code` for callers and logs. Protocol
 * violations by a client are not thrown out of the server: they close that client's socket with
 * the ProtocolError's close code (see `connection.ts`). These are the server's own failures.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class ServerError extends CattailError<ErrorCodeOf<'typha'>> {}

/** An option is missing or out of range; the message names the key, the value and the range. */
export class ServerOptionError extends ServerError {
  constructor(message: string) {
    super('TYPHA_SERVER_BAD_OPTION', message);
  }
}

/** A method was called in a state that does not allow it (start twice, shed before start…). */
export class ServerStateError extends ServerError {
  constructor(message: string) {
    super('TYPHA_SERVER_BAD_STATE', message);
  }
}

/** The listener could not be opened (port in use, bad TLS material…). */
export class ServerListenError extends ServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TYPHA_SERVER_LISTEN_FAILED', message, options);
  }
}
