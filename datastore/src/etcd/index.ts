/**
 * Public surface of the etcd client. Everything else in this folder is internal.
 */
export { EtcdClient } from './client.js';
export type { EtcdClientOptions } from './options.js';
export { EtcdWatch } from './watch.js';
export type { WatchOptions, WatchSink, WatchState } from './watch.js';
export { LeaseKeepAlive } from './lease-keepalive.js';
export type { KeepAliveOptions, LeaseKeepAliveEvents } from './lease-keepalive.js';
export { compare, op } from './txn.js';
export type { Compare, CompareOp, TxnOp, TxnRequest } from './txn.js';
export { prefixEnd } from './keys.js';
export { DEFAULT_BACKOFF } from './options.js';
export type {
  Bytes,
  DeleteOptions,
  DeleteResult,
  KeyValue,
  LeaseGrantResult,
  LeaseId,
  LeaseTimeToLiveResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  StatusResult,
  TxnOpResult,
  TxnResult,
  WatchEvent,
} from './types.js';
export {
  EtcdError,
  EtcdAuthFailedError,
  EtcdClosedError,
  EtcdCompactedError,
  EtcdConfigError,
  EtcdFutureRevisionError,
  EtcdLeaseLostError,
  EtcdLeaseNotFoundError,
  EtcdPermissionDeniedError,
  EtcdRequestError,
  EtcdTimeoutError,
  EtcdUnavailableError,
  EtcdWatchCanceledError,
} from './errors.js';
