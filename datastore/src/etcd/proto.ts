/**
 * Our own subset of etcd's v3 gRPC API, written from etcd's `api/mvccpb/kv.proto` and
 * `api/etcdserverpb/rpc.proto`. Only the services and messages Cattail calls are here; every
 * message name, field name and field number is etcd's, so the bytes on the wire are exactly what
 * etcd 3.4+ sends and expects. Fields we never set are still listed when a later field we do use
 * follows them, which keeps the file easy to diff against upstream. No gogoproto annotations.
 *
 * Why embedded text and not a `.proto` file beside the code: `tsc` does not copy `.proto` files
 * into `dist/`, and resolving `../../src/...` from compiled code breaks as soon as `dist/` is
 * shipped alone. The text is parsed once per process, in memory.
 *
 * The codecs are built straight from protobufjs types, with exactly what @grpc/proto-loader's
 * serializers do (`Type.encode(Type.fromObject(req))`, `Type.toObject(Type.decode(buf), opts)`),
 * without proto-loader itself: its `fromJSON` re-creates the whole root and builds a
 * FileDescriptorProto per file, which cost a short-lived process (the CNI plugin) some 15 ms
 * of start-up for nothing it uses.
 */
import protobuf from 'protobufjs';

const KV_PROTO = `syntax = "proto3";
package mvccpb;

message KeyValue {
  bytes key = 1;
  int64 create_revision = 2;
  int64 mod_revision = 3;
  int64 version = 4;
  bytes value = 5;
  int64 lease = 6;
}

message Event {
  enum EventType {
    PUT = 0;
    DELETE = 1;
  }
  EventType type = 1;
  KeyValue kv = 2;
  KeyValue prev_kv = 3;
}
`;

const RPC_PROTO = `syntax = "proto3";
package etcdserverpb;

import "mvccpb/kv.proto";

service KV {
  rpc Range(RangeRequest) returns (RangeResponse);
  rpc Put(PutRequest) returns (PutResponse);
  rpc DeleteRange(DeleteRangeRequest) returns (DeleteRangeResponse);
  rpc Txn(TxnRequest) returns (TxnResponse);
  rpc Compact(CompactionRequest) returns (CompactionResponse);
}

service Watch {
  rpc Watch(stream WatchRequest) returns (stream WatchResponse);
}

service Lease {
  rpc LeaseGrant(LeaseGrantRequest) returns (LeaseGrantResponse);
  rpc LeaseRevoke(LeaseRevokeRequest) returns (LeaseRevokeResponse);
  rpc LeaseKeepAlive(stream LeaseKeepAliveRequest) returns (stream LeaseKeepAliveResponse);
  rpc LeaseTimeToLive(LeaseTimeToLiveRequest) returns (LeaseTimeToLiveResponse);
}

service Maintenance {
  rpc Status(StatusRequest) returns (StatusResponse);
}

service Auth {
  rpc Authenticate(AuthenticateRequest) returns (AuthenticateResponse);
}

message ResponseHeader {
  uint64 cluster_id = 1;
  uint64 member_id = 2;
  int64 revision = 3;
  uint64 raft_term = 4;
}

message RangeRequest {
  enum SortOrder {
    NONE = 0;
    ASCEND = 1;
    DESCEND = 2;
  }
  enum SortTarget {
    KEY = 0;
    VERSION = 1;
    CREATE = 2;
    MOD = 3;
    VALUE = 4;
  }
  bytes key = 1;
  bytes range_end = 2;
  int64 limit = 3;
  int64 revision = 4;
  SortOrder sort_order = 5;
  SortTarget sort_target = 6;
  bool serializable = 7;
  bool keys_only = 8;
  bool count_only = 9;
  int64 min_mod_revision = 10;
  int64 max_mod_revision = 11;
  int64 min_create_revision = 12;
  int64 max_create_revision = 13;
}

message RangeResponse {
  ResponseHeader header = 1;
  repeated mvccpb.KeyValue kvs = 2;
  bool more = 3;
  int64 count = 4;
}

message PutRequest {
  bytes key = 1;
  bytes value = 2;
  int64 lease = 3;
  bool prev_kv = 4;
  bool ignore_value = 5;
  bool ignore_lease = 6;
}

message PutResponse {
  ResponseHeader header = 1;
  mvccpb.KeyValue prev_kv = 2;
}

message DeleteRangeRequest {
  bytes key = 1;
  bytes range_end = 2;
  bool prev_kv = 3;
}

message DeleteRangeResponse {
  ResponseHeader header = 1;
  int64 deleted = 2;
  repeated mvccpb.KeyValue prev_kvs = 3;
}

message RequestOp {
  oneof request {
    RangeRequest request_range = 1;
    PutRequest request_put = 2;
    DeleteRangeRequest request_delete_range = 3;
    TxnRequest request_txn = 4;
  }
}

message ResponseOp {
  oneof response {
    RangeResponse response_range = 1;
    PutResponse response_put = 2;
    DeleteRangeResponse response_delete_range = 3;
    TxnResponse response_txn = 4;
  }
}

message Compare {
  enum CompareResult {
    EQUAL = 0;
    GREATER = 1;
    LESS = 2;
    NOT_EQUAL = 3;
  }
  enum CompareTarget {
    VERSION = 0;
    CREATE = 1;
    MOD = 2;
    VALUE = 3;
    LEASE = 4;
  }
  CompareResult result = 1;
  CompareTarget target = 2;
  bytes key = 3;
  oneof target_union {
    int64 version = 4;
    int64 create_revision = 5;
    int64 mod_revision = 6;
    bytes value = 7;
    int64 lease = 8;
  }
  bytes range_end = 64;
}

message TxnRequest {
  repeated Compare compare = 1;
  repeated RequestOp success = 2;
  repeated RequestOp failure = 3;
}

message TxnResponse {
  ResponseHeader header = 1;
  bool succeeded = 2;
  repeated ResponseOp responses = 3;
}

message CompactionRequest {
  int64 revision = 1;
  bool physical = 2;
}

message CompactionResponse {
  ResponseHeader header = 1;
}

message WatchRequest {
  oneof request_union {
    WatchCreateRequest create_request = 1;
    WatchCancelRequest cancel_request = 2;
    WatchProgressRequest progress_request = 3;
  }
}

message WatchCreateRequest {
  enum FilterType {
    NOPUT = 0;
    NODELETE = 1;
  }
  bytes key = 1;
  bytes range_end = 2;
  int64 start_revision = 3;
  bool progress_notify = 4;
  repeated FilterType filters = 5;
  bool prev_kv = 6;
  int64 watch_id = 7;
  bool fragment = 8;
}

message WatchCancelRequest {
  int64 watch_id = 1;
}

message WatchProgressRequest {
}

message WatchResponse {
  ResponseHeader header = 1;
  int64 watch_id = 2;
  bool created = 3;
  bool canceled = 4;
  int64 compact_revision = 5;
  string cancel_reason = 6;
  bool fragment = 7;
  repeated mvccpb.Event events = 11;
}

message LeaseGrantRequest {
  int64 TTL = 1;
  int64 ID = 2;
}

message LeaseGrantResponse {
  ResponseHeader header = 1;
  int64 ID = 2;
  int64 TTL = 3;
  string error = 4;
}

message LeaseRevokeRequest {
  int64 ID = 1;
}

message LeaseRevokeResponse {
  ResponseHeader header = 1;
}

message LeaseKeepAliveRequest {
  int64 ID = 1;
}

message LeaseKeepAliveResponse {
  ResponseHeader header = 1;
  int64 ID = 2;
  int64 TTL = 3;
}

message LeaseTimeToLiveRequest {
  int64 ID = 1;
  bool keys = 2;
}

message LeaseTimeToLiveResponse {
  ResponseHeader header = 1;
  int64 ID = 2;
  int64 TTL = 3;
  int64 grantedTTL = 4;
  repeated bytes keys = 5;
}

message StatusRequest {
}

message StatusResponse {
  ResponseHeader header = 1;
  string version = 2;
  int64 dbSize = 3;
  uint64 leader = 4;
  uint64 raftIndex = 5;
  uint64 raftTerm = 6;
  uint64 raftAppliedIndex = 7;
  repeated string errors = 8;
  int64 dbSizeInUse = 9;
  bool isLearner = 10;
}

message AuthenticateRequest {
  string name = 1;
  string password = 2;
}

message AuthenticateResponse {
  ResponseHeader header = 1;
  string token = 2;
}
`;

/** How a method is called: its HTTP/2 path and its codec pair. */
export interface MethodCodec {
  readonly path: string;
  readonly serialize: (value: object) => Buffer;
  readonly deserialize: (bytes: Buffer) => unknown;
}

/** Every etcd method Cattail calls, by a short name. */
export interface EtcdMethods {
  readonly range: MethodCodec;
  readonly put: MethodCodec;
  readonly deleteRange: MethodCodec;
  readonly txn: MethodCodec;
  readonly compact: MethodCodec;
  readonly watch: MethodCodec;
  readonly leaseGrant: MethodCodec;
  readonly leaseRevoke: MethodCodec;
  readonly leaseKeepAlive: MethodCodec;
  readonly leaseTimeToLive: MethodCodec;
  readonly status: MethodCodec;
  readonly authenticate: MethodCodec;
}

/**
 * Decoding choices: snake_case names as in the .proto; int64 as decimal strings because lease
 * and member IDs use all 64 bits (revisions are converted to `number` at the edge, see
 * convert.ts); enums by name; absent scalars filled with their defaults so callers never see
 * `undefined` for a proto3 zero; oneofs get a virtual field naming the member that is set.
 */
const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

let cached: EtcdMethods | undefined;

/** Loads the embedded protos once per process. */
export function etcdMethods(): EtcdMethods {
  if (cached === undefined) cached = load();
  return cached;
}

/**
 * Parsed in memory (protobufjs): no file is written, so the client starts on a read-only root
 * filesystem with no /tmp (the chart's Typha and kube-controllers).
 */
function load(): EtcdMethods {
  const root = new protobuf.Root();
  protobuf.parse(KV_PROTO, root, { keepCase: true });
  protobuf.parse(RPC_PROTO, root, { keepCase: true });
  root.resolveAll();
  const method = (service: string, name: string): MethodCodec => {
    const m = root.lookupService(`etcdserverpb.${service}`).methods[name];
    const req = m?.resolvedRequestType;
    const res = m?.resolvedResponseType;
    if (!m || !req || !res) throw new Error(`embedded etcd proto lacks ${service}.${name}`);
    return {
      path: `/etcdserverpb.${service}/${name}`,
      serialize: (value: object) => {
        if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${req.name} structure, got array instead`);
        const bytes = req.encode(req.fromObject(value)).finish();
        return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
      },
      deserialize: (buf: Buffer) => res.toObject(res.decode(buf), TO_OBJECT_OPTIONS),
    };
  };
  return {
    range: method('KV', 'Range'),
    put: method('KV', 'Put'),
    deleteRange: method('KV', 'DeleteRange'),
    txn: method('KV', 'Txn'),
    compact: method('KV', 'Compact'),
    watch: method('Watch', 'Watch'),
    leaseGrant: method('Lease', 'LeaseGrant'),
    leaseRevoke: method('Lease', 'LeaseRevoke'),
    leaseKeepAlive: method('Lease', 'LeaseKeepAlive'),
    leaseTimeToLive: method('Lease', 'LeaseTimeToLive'),
    status: method('Maintenance', 'Status'),
    authenticate: method('Auth', 'Authenticate'),
  };
}
