/**
 * Errors of the sync client, one class per condition with a stable `code` and the low-level
 * `cause`. They reach the agent through `onStatus('disconnected', { error })` and the log;
 * protocol violations are the protocol package's ProtocolError subclasses.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class TyphaClientError extends CattailError<ErrorCodeOf<'typha'>> {}

/** An option is missing or out of range; thrown by the constructor, never later. */
export class ClientConfigError extends TyphaClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TYPHA_CLIENT_CONFIG', message, options);
  }
}

/** Discovery could not produce a list (DNS failure, API server error). */
export class DiscoveryError extends TyphaClientError {
  /** HTTP status, when the Kubernetes API answered with an error. */
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('TYPHA_DISCOVERY_FAILED', message, options);
    this.status = options?.status;
  }
}

/** Discovery worked but found no Typha to connect to. */
export class NoEndpointsError extends TyphaClientError {
  constructor(message = 'discovery found no Typha endpoints') {
    super('TYPHA_NO_ENDPOINTS', message);
  }
}

/** The TCP/TLS connection or the WebSocket upgrade failed. */
export class ConnectError extends TyphaClientError {
  readonly url: string;
  /** HTTP status of a refused upgrade (401/403 are treated like CloseCode.Unauthorized). */
  readonly status: number | undefined;
  constructor(url: string, message: string, options?: { cause?: unknown; status?: number }) {
    super('TYPHA_CONNECT_FAILED', `${url}: ${message}`, options);
    this.url = url;
    this.status = options?.status;
  }
}

/** No ServerHello within handshakeTimeoutMs of starting to connect. */
export class HandshakeTimeoutError extends TyphaClientError {
  constructor(url: string, ms: number) {
    super('TYPHA_HANDSHAKE_TIMEOUT', `${url}: no server hello within ${ms} ms`);
  }
}

/** No frame at all (not even a ping or pong) within readTimeoutMs: a half-open connection. */
export class ReadTimeoutError extends TyphaClientError {
  constructor(url: string, ms: number) {
    super('TYPHA_READ_TIMEOUT', `${url}: nothing received for ${ms} ms`);
  }
}

/** The server closed the connection with a code other than Normal/GoingAway. */
export class ServerClosedError extends TyphaClientError {
  readonly closeCode: number;
  readonly reason: string;
  constructor(url: string, closeCode: number, reason: string) {
    super('TYPHA_SERVER_CLOSED', `${url}: closed by server with ${closeCode}${reason ? ` "${reason}"` : ''}`);
    this.closeCode = closeCode;
    this.reason = reason;
  }
}

/** The server's certificate is valid but not the Typha we were told to expect (CN / URI SAN). */
export class TlsIdentityError extends TyphaClientError {
  constructor(message: string) {
    super('TYPHA_TLS_IDENTITY', message);
  }
}
