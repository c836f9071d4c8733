/**
 * Datastore errors, one class per condition with a stable `code` and the low-level `cause`.
 * Callers branch on the class (or code), never on message text.
 */
import { CattailError, describeRef, type ErrorCodeOf, type ResourceRef } from '@cattail/api';

export class DatastoreError extends CattailError<ErrorCodeOf<'datastore'>> {}

export class NotFoundError extends DatastoreError {
  constructor(ref: ResourceRef, options?: { cause?: unknown }) {
    super('DATASTORE_NOT_FOUND', `${describeRef(ref)} does not exist`, options);
  }
}

export class AlreadyExistsError extends DatastoreError {
  constructor(ref: ResourceRef) {
    super('DATASTORE_ALREADY_EXISTS', `${describeRef(ref)} already exists`);
  }
}

/** The resourceVersion precondition failed: someone else wrote it first. */
export class ConflictError extends DatastoreError {
  constructor(ref: ResourceRef, expected: string | undefined, actual: string | undefined) {
    super(
      'DATASTORE_CONFLICT',
      `${describeRef(ref)} was modified concurrently (resourceVersion ${expected ?? '?'} is stale, current ${actual ?? 'deleted'}): get it again and retry`,
    );
  }
}

/** The requested revision has been compacted; relist and watch from the list's revision. */
export class CompactedError extends DatastoreError {
  readonly compactRevision: number;
  constructor(compactRevision: number, options?: { cause?: unknown }) {
    super('DATASTORE_COMPACTED', `revision compacted (oldest available is ${compactRevision}): relist`, options);
    this.compactRevision = compactRevision;
  }
}

export class UnavailableError extends DatastoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATASTORE_UNAVAILABLE', message, options);
  }
}

/** The backend cannot serve this request as asked (e.g. a Kubernetes-datastore watch spanning several kinds). */
export class UnsupportedError extends DatastoreError {
  constructor(message: string) {
    super('DATASTORE_UNSUPPORTED', message);
  }
}

/**
 * A write the Kubernetes datastore refuses because the resource is derived from a Kubernetes
 * object (a Profile from a Namespace, a WorkloadEndpoint from a Pod, …). The message begins with
 * calicoctl's wording (`operation Create is not supported on Profile(kns.web)`) and says what to
 * change instead.
 */
export class ReadOnlyError extends DatastoreError {
  constructor(operation: 'Create' | 'Update' | 'Delete', ref: ResourceRef, reason: string) {
    super('DATASTORE_READ_ONLY', `operation ${operation} is not supported on ${describeRef(ref)}: ${reason}`);
  }
}
