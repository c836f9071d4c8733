/**
 * Public options to wire requests, shared by the direct calls and the ops inside a txn.
 */
import { rangeEndFor, toBuffer } from './keys.js';
import type { Bytes, DeleteOptions, PutOptions, RangeOptions } from './types.js';
import type { WireDeleteRangeRequest, WirePutRequest, WireRangeRequest } from './wire.js';

const NUL = Buffer.from([0]);

/** etcd rejects an empty key; "every key" is spelled key "\0", range_end "\0". */
function keyFor(key: Bytes, rangeEnd: Buffer | undefined): Buffer {
  const k = toBuffer(key);
  return k.length === 0 && rangeEnd !== undefined ? NUL : k;
}

export function rangeRequest(key: Bytes, opts: RangeOptions = {}): WireRangeRequest {
  const rangeEnd = rangeEndFor(key, opts);
  const req: WireRangeRequest = { key: keyFor(key, rangeEnd) };
  if (rangeEnd !== undefined) req.range_end = rangeEnd;
  if (opts.limit !== undefined) req.limit = opts.limit;
  if (opts.revision !== undefined) req.revision = opts.revision;
  if (opts.keysOnly === true) req.keys_only = true;
  if (opts.countOnly === true) req.count_only = true;
  if (opts.minModRevision !== undefined) req.min_mod_revision = opts.minModRevision;
  if (opts.serializable === true) req.serializable = true;
  return req;
}

export function putRequest(key: Bytes, value: Bytes, opts: PutOptions = {}): WirePutRequest {
  const req: WirePutRequest = { key: toBuffer(key), value: toBuffer(value) };
  if (opts.lease !== undefined) req.lease = opts.lease;
  if (opts.prevKv === true) req.prev_kv = true;
  return req;
}

export function deleteRequest(key: Bytes, opts: DeleteOptions = {}): WireDeleteRangeRequest {
  const rangeEnd = rangeEndFor(key, opts);
  const req: WireDeleteRangeRequest = { key: keyFor(key, rangeEnd) };
  if (rangeEnd !== undefined) req.range_end = rangeEnd;
  if (opts.prevKv === true) req.prev_kv = true;
  return req;
}
