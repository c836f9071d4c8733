/**
 * Errors of the resource model. Each has a stable `code` a caller can branch on and a message
 * that names the resource, the field path and what to do, e.g.
 * `IPPool(pool-a): spec.blockSize: 33 is outside 20..32`.
 */
import type { ErrorCode, ErrorCodeOf } from './error-catalog.js';

export interface ValidationIssue {
  /** JSONPath-like field path: `spec.ingress[0].destination.ports[1]`. Empty for the whole object. */
  path: string;
  message: string;
}

/**
 * The base of every Cattail error: a stable `code` from the catalog (`error-catalog.ts`,
 * rendered as docs/ERRORS.md) and the low-level `cause`. Each package's errors.ts extends it
 * once, typed by that package's row of the catalog, so a class cannot raise an unlisted code.
 */
export class CattailError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Errors of @cattail/api: the resource model, selectors and configuration parameters. */
export class ApiError extends CattailError<ErrorCodeOf<'api'>> {}

/** A resource failed validation; `issues` lists every problem, not just the first. */
export class ValidationError extends ApiError {
  readonly resource: string;
  readonly issues: readonly ValidationIssue[];
  constructor(resource: string, issues: readonly ValidationIssue[]) {
    const lines = issues.map((i) => `${resource}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
    super('VALIDATION_FAILED', lines.join('\n'));
    this.resource = resource;
    this.issues = issues;
  }
}

/** A value stored in etcd could not be turned into a resource (not JSON, wrong shape, wrong key). */
export class CorruptValueError extends ApiError {
  readonly key: string;
  constructor(key: string, reason: string, options?: { cause?: unknown }) {
    super('CORRUPT_VALUE', `corrupt value at ${key}: ${reason}`, options);
    this.key = key;
  }
}

/** A kind name nobody knows, or a key outside the layout. */
export class UnknownKindError extends ApiError {
  constructor(what: string) {
    super('UNKNOWN_KIND', `unknown resource kind "${what}"`);
  }
}
