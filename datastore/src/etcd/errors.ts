/**
 * Errors of the etcd client. Each has a stable `code` a caller can branch on, and wraps the
 * gRPC error it came from as `cause`, so a log shows both what we concluded and what etcd said.
 *
 * gRPC status codes alone are too coarse (etcd answers InvalidArgument both for a bad password
 * and for an empty key), so `fromGrpcError` also looks at etcd's error descriptions, which are
 * stable strings in etcd's `api/v3rpc/rpctypes`.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

export class EtcdError extends CattailError<ErrorCodeOf<'datastore'>> {}

/** No endpoint answered, or the connection dropped mid-call. Retrying later may succeed. */
export class EtcdUnavailableError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_UNAVAILABLE', message, options);
  }
}

/** The request's deadline passed before etcd answered. */
export class EtcdTimeoutError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_TIMEOUT', message, options);
  }
}

/**
 * The requested revision was compacted away. A watcher that gets this must relist and start a
 * new watch from the list's revision + 1. `compactRevision` is known for watches (etcd sends
 * it); a compacted Range does not say, so there it is undefined.
 */
export class EtcdCompactedError extends EtcdError {
  readonly compactRevision: number | undefined;
  constructor(compactRevision: number | undefined, message?: string, options?: { cause?: unknown }) {
    super(
      'ETCD_COMPACTED',
      message ??
        (compactRevision === undefined
          ? 'etcd: required revision has been compacted; relist and watch again'
          : `etcd: required revision has been compacted (compact revision ${compactRevision}); relist and watch again`),
      options,
    );
    this.compactRevision = compactRevision;
  }
}

/** A revision newer than the store's current one was asked for. */
export class EtcdFutureRevisionError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_FUTURE_REVISION', message, options);
  }
}

/** Login failed: wrong user or password, or auth is not enabled on the server. */
export class EtcdAuthFailedError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_AUTH_FAILED', message, options);
  }
}

/** The authenticated user may not do this (check the user's roles and key permissions). */
export class EtcdPermissionDeniedError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_PERMISSION_DENIED', message, options);
  }
}

export class EtcdLeaseNotFoundError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_LEASE_NOT_FOUND', message, options);
  }
}

/** A kept-alive lease expired or could not be renewed in time; its keys are (or soon are) gone. */
export class EtcdLeaseLostError extends EtcdError {
  readonly leaseId: string;
  constructor(leaseId: string, reason: string, options?: { cause?: unknown }) {
    super('ETCD_LEASE_LOST', `etcd lease ${leaseId} lost: ${reason}`, options);
    this.leaseId = leaseId;
  }
}

/** etcd canceled a watch for a reason other than compaction. */
export class EtcdWatchCanceledError extends EtcdError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('ETCD_WATCH_CANCELED', `etcd canceled the watch: ${reason || 'no reason given'}`, options);
  }
}

/** The client was closed; nothing more can be sent through it. */
export class EtcdClosedError extends EtcdError {
  constructor() {
    super('ETCD_CLOSED', 'etcd client is closed');
  }
}

/** The options given to the client make no sense; says which one and why. */
export class EtcdConfigError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_CONFIG', message, options);
  }
}

/** Any other gRPC failure; `grpcCode` is the numeric gRPC status. */
export class EtcdRequestError extends EtcdError {
  readonly grpcCode: number | undefined;
  constructor(message: string, grpcCode: number | undefined, options?: { cause?: unknown }) {
    super('ETCD_REQUEST_FAILED', message, options);
    this.grpcCode = grpcCode;
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/** etcd says the token we sent is unknown or expired: log in again and retry once. */
export function isInvalidTokenError(err: unknown): boolean {
  if (!isServiceError(err)) return false;
  return (err.code === GrpcStatus.UNAUTHENTICATED && err.details.includes('invalid auth token')) || err.details.includes('revision of auth store is old');
}

/** Turns a gRPC error from `what` (a method name, for the message) into one of ours. */
export function fromGrpcError(err: unknown, what: string): EtcdError {
  if (err instanceof EtcdError) return err;
  if (!isServiceError(err)) {
    return new EtcdRequestError(`etcd ${what} failed: ${String(err)}`, undefined, { cause: err });
  }
  const details = err.details || err.message;
  const msg = `etcd ${what} failed: ${details}`;
  const options = { cause: err };
  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
      return new EtcdUnavailableError(msg, options);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new EtcdTimeoutError(msg, options);
    case GrpcStatus.UNAUTHENTICATED:
      return new EtcdAuthFailedError(msg, options);
    case GrpcStatus.PERMISSION_DENIED:
      return new EtcdPermissionDeniedError(msg, options);
    case GrpcStatus.NOT_FOUND:
      if (details.includes('lease not found')) return new EtcdLeaseNotFoundError(msg, options);
      break;
    case GrpcStatus.OUT_OF_RANGE:
      if (details.includes('compacted')) return new EtcdCompactedError(undefined, msg, options);
      if (details.includes('future revision')) return new EtcdFutureRevisionError(msg, options);
      break;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.FAILED_PRECONDITION:
      if (details.includes('authentication failed') || details.includes('authentication is not enabled')) {
        return new EtcdAuthFailedError(msg, options);
      }
      // What etcd says to a request without a token while auth is on.
      if (details.includes('user name is empty')) {
        return new EtcdAuthFailedError(`${msg} (etcd requires login: give username and password)`, options);
      }
      break;
    default:
      break;
  }
  return new EtcdRequestError(msg, err.code, options);
}
