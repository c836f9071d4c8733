/**
 * Felix's errors: one class per condition with a stable `code` and the low-level `cause`. They
 * surface in the log (under `err`) and in `/status`, so an operator can tell a resource Felix
 * refused from a dataplane that failed.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class FelixError extends CattailError<ErrorCodeOf<'felix'>> {}

/**
 * A resource from the felix syncer that the calculation graph cannot use (a selector that does
 * not parse, a CIDR that is not one). Typha validates on write, so this means data written
 * around it. Like Calico's validation filter, the graph treats the resource as deleted: a
 * policy that cannot be understood is not half-applied.
 */
export class InvalidResourceError extends FelixError {
  readonly resource: string;
  constructor(resource: string, problem: string, options?: { cause?: unknown }) {
    super('FELIX_INVALID_RESOURCE', `${resource}: ${problem}; ignoring it (treated as deleted) until it is fixed`, options);
    this.resource = resource;
  }
}
