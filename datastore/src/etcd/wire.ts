/**
 * The decoded shapes the codecs of proto.ts hand us for the messages in proto.ts (snake_case, int64 as
 * decimal strings, defaults filled in, absent sub-messages as null). Only convert.ts and the
 * callers that build requests see these; the public API speaks the camelCase types in types.ts.
 */

export type Int64 = string;

export interface WireHeader {
  cluster_id: Int64;
  member_id: Int64;
  revision: Int64;
  raft_term: Int64;
}

export interface WireKeyValue {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
  lease: Int64;
}

export interface WireEvent {
  type: 'PUT' | 'DELETE';
  kv: WireKeyValue | null;
  prev_kv: WireKeyValue | null;
}

export interface WireRangeRequest {
  key: Buffer;
  range_end?: Buffer;
  limit?: number;
  revision?: number;
  serializable?: boolean;
  keys_only?: boolean;
  count_only?: boolean;
  min_mod_revision?: number;
}

export interface WireRangeResponse {
  header: WireHeader | null;
  kvs: WireKeyValue[];
  more: boolean;
  count: Int64;
}

export interface WirePutRequest {
  key: Buffer;
  value: Buffer;
  lease?: Int64;
  prev_kv?: boolean;
}

export interface WirePutResponse {
  header: WireHeader | null;
  prev_kv: WireKeyValue | null;
}

export interface WireDeleteRangeRequest {
  key: Buffer;
  range_end?: Buffer;
  prev_kv?: boolean;
}

export interface WireDeleteRangeResponse {
  header: WireHeader | null;
  deleted: Int64;
  prev_kvs: WireKeyValue[];
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

export interface WireCompare {
  result: CompareResult;
  target: CompareTarget;
  key: Buffer;
  version?: number;
  create_revision?: number;
  mod_revision?: number;
  value?: Buffer;
  lease?: Int64;
  range_end?: Buffer;
}

export interface WireRequestOp {
  request_range?: WireRangeRequest;
  request_put?: WirePutRequest;
  request_delete_range?: WireDeleteRangeRequest;
}

export interface WireResponseOp {
  response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn';
  response_range?: WireRangeResponse | null;
  response_put?: WirePutResponse | null;
  response_delete_range?: WireDeleteRangeResponse | null;
}

export interface WireTxnRequest {
  compare: WireCompare[];
  success: WireRequestOp[];
  failure: WireRequestOp[];
}

export interface WireTxnResponse {
  header: WireHeader | null;
  succeeded: boolean;
  responses: WireResponseOp[];
}

export interface WireCompactionResponse {
  header: WireHeader | null;
}

export interface WireWatchCreateRequest {
  key: Buffer;
  range_end?: Buffer;
  start_revision: number;
  progress_notify: boolean;
  prev_kv: boolean;
  fragment: boolean;
}

export interface WireWatchRequest {
  create_request?: WireWatchCreateRequest;
  cancel_request?: { watch_id: Int64 };
  progress_request?: Record<string, never>;
}

export interface WireWatchResponse {
  header: WireHeader | null;
  watch_id: Int64;
  created: boolean;
  canceled: boolean;
  compact_revision: Int64;
  cancel_reason: string;
  fragment: boolean;
  events: WireEvent[];
}

export interface WireLeaseGrantResponse {
  header: WireHeader | null;
  ID: Int64;
  TTL: Int64;
  error: string;
}

export interface WireLeaseKeepAliveResponse {
  header: WireHeader | null;
  ID: Int64;
  TTL: Int64;
}

export interface WireLeaseTimeToLiveResponse {
  header: WireHeader | null;
  ID: Int64;
  TTL: Int64;
  grantedTTL: Int64;
  keys: Buffer[];
}

export interface WireStatusResponse {
  header: WireHeader | null;
  version: string;
  dbSize: Int64;
  leader: Int64;
  raftIndex: Int64;
  raftTerm: Int64;
  raftAppliedIndex: Int64;
  errors: string[];
  dbSizeInUse: Int64;
  isLearner: boolean;
}

export interface WireAuthenticateResponse {
  header: WireHeader | null;
  token: string;
}
