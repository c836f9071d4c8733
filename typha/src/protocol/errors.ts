/**
 * Protocol errors: one class per condition, each with a stable `code` for callers and logs and
 * the `closeCode` the receiving side closes the WebSocket with. `reason` is the close reason:
 * it says what was wrong in terms a person running `websocat` understands, and is cut to fit the
 * 123 bytes RFC 6455 allows in a close frame (ws throws on longer reasons).
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
import { CloseCode, type CloseCodeValue } from './messages.js';
import { MAX_CLOSE_REASON_BYTES } from './transport.js';

export class ProtocolError extends CattailError<ErrorCodeOf<'typha'>> {
  readonly closeCode: CloseCodeValue;
  /** The WebSocket close reason: `message`, at most 123 UTF-8 bytes. */
  readonly reason: string;
  constructor(code: ErrorCodeOf<'typha'>, closeCode: CloseCodeValue, reason: string, options?: { cause?: unknown }) {
    const r = truncateReason(reason);
    super(code, r, options);
    this.closeCode = closeCode;
    this.reason = r;
  }
}

/** The frame does not decode, or a field has the wrong type or range. */
export class MalformedFrameError extends ProtocolError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('TYPHA_MALFORMED_FRAME', CloseCode.MalformedFrame, `malformed frame: ${detail}`, options);
  }
}

/** The peer speaks a protocol version outside the range this side supports. */
export class UnsupportedVersionError extends ProtocolError {
  readonly version: number;
  readonly min: number;
  readonly max: number;
  constructor(version: number, min: number, max: number, side: 'server' | 'client') {
    super('TYPHA_UNSUPPORTED_VERSION', CloseCode.UnsupportedVersion, `unsupported protocol version ${version} (this ${side} speaks ${min}..${max})`);
    this.version = version;
    this.min = min;
    this.max = max;
  }
}

/** The client asked for a syncer type this server does not serve. */
export class UnknownSyncerError extends ProtocolError {
  readonly syncer: string;
  constructor(syncer: string, known: readonly string[]) {
    super('TYPHA_UNKNOWN_SYNCER', CloseCode.UnknownSyncer, `unknown syncer type ${quote(syncer)} (expected ${known.join(', ')})`);
    this.syncer = syncer;
  }
}

/** A well-formed message of a type the receiver does not accept (at all, or at this point). */
export class UnexpectedMessageError extends ProtocolError {
  constructor(detail: string) {
    super('TYPHA_UNEXPECTED_MESSAGE', CloseCode.UnexpectedMessage, detail);
  }
}

/** Cuts `reason` to at most `max` UTF-8 bytes on a character boundary, marking the cut with "…". */
export function truncateReason(reason: string, max: number = MAX_CLOSE_REASON_BYTES): string {
  if (Buffer.byteLength(reason, 'utf8') <= max) return reason;
  const ellipsis = '…'; // 3 bytes
  let bytes = 0;
  let end = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max - 3) break;
    bytes += n;
    end += ch.length;
  }
  return reason.slice(0, end) + ellipsis;
}

/** A peer-supplied string, shortened to `maxBytes` and JSON-quoted, so it cannot crowd out the rest of a reason. */
export function quote(s: string, maxBytes = 40): string {
  return JSON.stringify(truncateReason(s, maxBytes));
}
