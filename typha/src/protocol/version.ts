/**
 * Version negotiation. The client sends the version it speaks; a server that supports it answers
 * with the same number in its ServerHello, otherwise it closes with UnsupportedVersion naming the
 * range it speaks. The client checks the ServerHello the same way. Upgrade Typha before the
 * agents: a server keeps speaking MIN_PROTOCOL_VERSION for at least one release after a bump.
 */
import { MalformedFrameError, UnsupportedVersionError } from './errors.js';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from './messages.js';

export interface VersionRange {
  min: number;
  max: number;
}

export const SUPPORTED_VERSIONS: Readonly<VersionRange> = Object.freeze({
  min: MIN_PROTOCOL_VERSION,
  max: PROTOCOL_VERSION,
});

/**
 * Returns `version` if it lies in `range`; throws MalformedFrameError if it is not a positive
 * integer and UnsupportedVersionError if it is out of range. `side` names who is checking, for
 * the reason: `unsupported protocol version 7 (this server speaks 1..1)`.
 */
export function checkVersion(
  version: unknown,
  side: 'server' | 'client' = 'server',
  range: VersionRange = SUPPORTED_VERSIONS,
  field = 'hello.protocolVersion',
): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new MalformedFrameError(`${field} must be a positive integer`);
  }
  if (version < range.min || version > range.max) {
    throw new UnsupportedVersionError(version, range.min, range.max, side);
  }
  return version;
}
