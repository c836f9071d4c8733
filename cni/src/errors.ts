/**
 * CNI errors. The spec (1.0, "Error") gives the runtime a JSON object on stdout
 * `{ cniVersion, code, msg, details }` and a non-zero exit; codes 0–99 are the spec's, 100+ are
 * the plugin's own. One class per condition, each with its CNI code and the low-level `cause`.
 *
 *    1  incompatible CNI version          (spec)
 *    4  invalid necessary environment variables: the message names them   (spec)
 *    6  failed to decode content: stdin is not JSON                        (spec)
 *    7  invalid network configuration                                      (spec)
 *   11  try again later: the datastore is unreachable or a write kept losing races (spec)
 *  100  internal error (a bug, or something unexpected from the system)
 *  101  IPAM could not assign addresses (no pool for the node, pools full, bad pool request)
 *  102  the pod's interface could not be set up or torn down (`ip` failed)
 *  103  CHECK found the pod's network different from what ADD made
 *  104  the datastore refused a write for a reason retrying will not fix
 *
 * The same list, one line each, is the `cni` row of @cattail/api's error catalog.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export const CNI_ERR = Object.freeze({
  INCOMPATIBLE_VERSION: 1,
  INVALID_ENV: 4,
  DECODE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  INTERNAL: 100,
  IPAM: 101,
  INTERFACE: 102,
  CHECK: 103,
  DATASTORE: 104,
} as const satisfies Record<string, ErrorCodeOf<'cni'>>);

export class CniError extends CattailError<ErrorCodeOf<'cni'>> {
  readonly details: string;
  constructor(code: ErrorCodeOf<'cni'>, message: string, options?: { cause?: unknown; details?: string }) {
    super(code, message, options);
    this.details = options?.details ?? causeText(options?.cause);
  }
}

export class IncompatibleVersionError extends CniError {
  constructor(version: string, supported: readonly string[]) {
    super(CNI_ERR.INCOMPATIBLE_VERSION, `incompatible CNI version "${version}": this plugin supports ${supported.join(', ')}`);
  }
}

export class InvalidEnvError extends CniError {
  constructor(message: string) {
    super(CNI_ERR.INVALID_ENV, message);
  }
}

export class DecodeError extends CniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CNI_ERR.DECODE, message, options);
  }
}

export class InvalidConfigError extends CniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CNI_ERR.INVALID_CONFIG, message, options);
  }
}

export class TryAgainLaterError extends CniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CNI_ERR.TRY_AGAIN_LATER, message, options);
  }
}

export class IpamFailedError extends CniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CNI_ERR.IPAM, message, options);
  }
}

export class InterfaceError extends CniError {
  constructor(message: string, options?: { cause?: unknown; details?: string }) {
    super(CNI_ERR.INTERFACE, message, options);
  }
}

export class CheckFailedError extends CniError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(CNI_ERR.CHECK, `CHECK: the pod's network differs from what ADD set up: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

export class DatastoreWriteError extends CniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CNI_ERR.DATASTORE, message, options);
  }
}

export class InternalError extends CniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CNI_ERR.INTERNAL, message, options);
  }
}

/** `cattail cni-daemon` could not start serving (daemon.ts): not a CNI error, nobody's call failed. */
export class DaemonSocketError extends CattailError<ErrorCodeOf<'cni-daemon'>> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CNI_DAEMON_SOCKET', message, options);
  }
}

/** The Go shim is not built, or was built from older source (shim-binary.ts). */
export class ShimMissingError extends CattailError<ErrorCodeOf<'cni-daemon'>> {
  constructor(message: string) {
    super('CNI_SHIM_MISSING', message);
  }
}

function causeText(cause: unknown): string {
  if (cause === undefined) return '';
  return cause instanceof Error ? cause.message : String(cause);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
