import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import {
  EtcdAuthFailedError,
  EtcdCompactedError,
  EtcdLeaseNotFoundError,
  EtcdRequestError,
  EtcdTimeoutError,
  EtcdUnavailableError,
  fromGrpcError,
  isInvalidTokenError,
} from '../../src/etcd/errors.js';

function grpcError(code: number, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

test('fromGrpcError maps etcd conditions to coded errors and keeps the cause', () => {
  const cases: Array<[ServiceError, new (...a: never[]) => Error, string]> = [
    [grpcError(status.UNAVAILABLE, 'No connection established'), EtcdUnavailableError, 'ETCD_UNAVAILABLE'],
    [grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), EtcdTimeoutError, 'ETCD_TIMEOUT'],
    [grpcError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'), EtcdCompactedError, 'ETCD_COMPACTED'],
    [grpcError(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'), EtcdAuthFailedError, 'ETCD_AUTH_FAILED'],
    [grpcError(status.INVALID_ARGUMENT, 'etcdserver: user name is empty'), EtcdAuthFailedError, 'ETCD_AUTH_FAILED'],
    [grpcError(status.NOT_FOUND, 'etcdserver: requested lease not found'), EtcdLeaseNotFoundError, 'ETCD_LEASE_NOT_FOUND'],
    [grpcError(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'), EtcdRequestError, 'ETCD_REQUEST_FAILED'],
  ];
  for (const [err, cls, code] of cases) {
    const mapped = fromGrpcError(err, 'range');
    assert.ok(mapped instanceof cls, `${err.details} -> ${mapped.name}`);
    assert.equal(mapped.code, code);
    assert.equal(mapped.cause, err);
    assert.match(mapped.message, /^etcd range failed: /);
  }
});

test('a compacted Range does not claim to know the compact revision', () => {
  const mapped = fromGrpcError(grpcError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'), 'range');
  assert.ok(mapped instanceof EtcdCompactedError);
  assert.equal(mapped.compactRevision, undefined);
});

test('invalid or outdated tokens are recognised for re-login; other auth errors are not', () => {
  assert.equal(isInvalidTokenError(grpcError(status.UNAUTHENTICATED, 'etcdserver: invalid auth token')), true);
  assert.equal(isInvalidTokenError(grpcError(status.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old')), true);
  assert.equal(isInvalidTokenError(grpcError(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password')), false);
  assert.equal(isInvalidTokenError(new Error('plain')), false);
});
