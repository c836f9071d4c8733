/**
 * The public data types of the etcd client. Keys and values are Buffers (etcd keys are bytes;
 * a string argument is taken as UTF-8). Revisions, versions and counts are `number`: etcd's
 * int64 revisions stay far below 2^53 in any real cluster and convert.ts refuses one that does
 * not. Lease IDs use all 64 bits, so they are decimal strings.
 */

/** A key or value as the caller gives it; strings are UTF-8. */
export type Bytes = Buffer | string;

/** A lease ID in decimal; "0" means no lease. */
export type LeaseId = string;

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  /** Writes since creation; 0 only for a deleted key's tombstone in a watch event. */
  version: number;
  lease: LeaseId;
}

export interface RangeOptions {
  /** Exclusive end of the range; exclusive with `prefix`. */
  rangeEnd?: Bytes;
  /** Every key that starts with `key`. */
  prefix?: boolean;
  /** Read as of this revision (must not be compacted); the latest when omitted. */
  revision?: number;
  /** At most this many keys; `more` tells whether there were more. */
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  /**
   * Only keys last modified at or after this revision are returned; `count` still counts every
   * key in the range (etcd filters after counting). Not with `countOnly`, which ignores it.
   */
  minModRevision?: number;
  /** Serve from the local member without a quorum read: faster, possibly stale. */
  serializable?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** The store's revision when the read was served (header revision). */
  revision: number;
  more: boolean;
  /** Keys in the whole range, regardless of `limit`. */
  count: number;
}

export interface PutOptions {
  lease?: LeaseId;
  prevKv?: boolean;
}

export interface PutResult {
  revision: number;
  prevKv: KeyValue | undefined;
}

export interface DeleteOptions {
  rangeEnd?: Bytes;
  prefix?: boolean;
  prevKv?: boolean;
}

export interface DeleteResult {
  revision: number;
  deleted: number;
  prevKvs: KeyValue[];
}

export type TxnOpResult = { type: 'range'; range: RangeResult } | { type: 'put'; put: PutResult } | { type: 'delete'; delete: DeleteResult };

export interface TxnResult {
  revision: number;
  succeeded: boolean;
  /** One per op of the branch that ran, in order. */
  responses: TxnOpResult[];
}

export interface StatusResult {
  version: string;
  clusterId: string;
  memberId: string;
  leader: string;
  revision: number;
  raftIndex: number;
  raftTerm: number;
  dbSize: number;
  errors: string[];
  isLearner: boolean;
}

export interface LeaseGrantResult {
  id: LeaseId;
  /** TTL in seconds the server chose (may exceed the requested one). */
  ttl: number;
  revision: number;
}

export interface LeaseTimeToLiveResult {
  id: LeaseId;
  /** Seconds left; -1 when the lease has expired or never existed. */
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete, the key with modRevision set to the deletion's revision and an empty value. */
  kv: KeyValue;
  /** Only when the watch asked for `prevKv` and the previous version was not compacted. */
  prevKv?: KeyValue;
}
