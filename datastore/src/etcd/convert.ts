/**
 * Wire (proto.ts codec) shapes to the public types. int64s arrive as decimal strings; revisions
 * and counts become `number` here, at the one place that can check they fit.
 */
import { EtcdRequestError } from './errors.js';
import type { KeyValue, RangeResult, PutResult, DeleteResult, TxnResult, TxnOpResult, WatchEvent, StatusResult } from './types.js';
import type {
  Int64,
  WireHeader,
  WireKeyValue,
  WireRangeResponse,
  WirePutResponse,
  WireDeleteRangeResponse,
  WireTxnResponse,
  WireEvent,
  WireStatusResponse,
} from './wire.js';

export function toNumber(value: Int64 | number | null | undefined): number {
  if (value === null || value === undefined || value === '') return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new EtcdRequestError(`etcd returned ${String(value)}, beyond what this client can represent`, undefined);
  }
  return n;
}

export function headerRevision(header: WireHeader | null | undefined): number {
  return toNumber(header?.revision);
}

export function toKeyValue(kv: WireKeyValue): KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: toNumber(kv.create_revision),
    modRevision: toNumber(kv.mod_revision),
    version: toNumber(kv.version),
    lease: kv.lease || '0',
  };
}

export function toRangeResult(res: WireRangeResponse): RangeResult {
  return {
    kvs: res.kvs.map(toKeyValue),
    revision: headerRevision(res.header),
    more: res.more,
    count: toNumber(res.count),
  };
}

export function toPutResult(res: WirePutResponse): PutResult {
  return {
    revision: headerRevision(res.header),
    prevKv: res.prev_kv ? toKeyValue(res.prev_kv) : undefined,
  };
}

export function toDeleteResult(res: WireDeleteRangeResponse): DeleteResult {
  return {
    revision: headerRevision(res.header),
    deleted: toNumber(res.deleted),
    prevKvs: res.prev_kvs.map(toKeyValue),
  };
}

export function toTxnResult(res: WireTxnResponse): TxnResult {
  const responses: TxnOpResult[] = [];
  for (const r of res.responses) {
    if (r.response_range) responses.push({ type: 'range', range: toRangeResult(r.response_range) });
    else if (r.response_put) responses.push({ type: 'put', put: toPutResult(r.response_put) });
    else if (r.response_delete_range) responses.push({ type: 'delete', delete: toDeleteResult(r.response_delete_range) });
  }
  return { revision: headerRevision(res.header), succeeded: res.succeeded, responses };
}

export function toWatchEvent(ev: WireEvent): WatchEvent {
  if (ev.kv === null) throw new EtcdRequestError('etcd sent a watch event without a key-value', undefined);
  const out: WatchEvent = { type: ev.type === 'DELETE' ? 'delete' : 'put', kv: toKeyValue(ev.kv) };
  if (ev.prev_kv) out.prevKv = toKeyValue(ev.prev_kv);
  return out;
}

export function toStatusResult(res: WireStatusResponse): StatusResult {
  return {
    version: res.version,
    clusterId: res.header?.cluster_id ?? '0',
    memberId: res.header?.member_id ?? '0',
    leader: res.leader,
    revision: headerRevision(res.header),
    raftIndex: toNumber(res.raftIndex),
    raftTerm: toNumber(res.raftTerm),
    dbSize: toNumber(res.dbSize),
    errors: res.errors,
    isLearner: res.isLearner,
  };
}
