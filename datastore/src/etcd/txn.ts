/**
 * A small typed vocabulary for etcd transactions: `compare.*` builds the guard terms and `op.*`
 * the operations of each branch. They are plain data (easy to log, compare in tests, and build
 * in loops); `toWireTxn` is the only place that knows etcd's wire spelling.
 *
 *   await client.txn({
 *     compare: [compare.modRevision('/k', '=', rev)],   // nobody wrote since we read
 *     success: [op.put('/k', next)],
 *     failure: [op.range('/k')],                        // tell us what is there instead
 *   });
 *
 * Create-if-absent is `compare.createRevision(key, '=', 0)`.
 */
import { toBuffer } from './keys.js';
import { deleteRequest, putRequest, rangeRequest } from './requests.js';
import type { Bytes, DeleteOptions, LeaseId, PutOptions, RangeOptions } from './types.js';
import type { CompareResult, WireCompare, WireRequestOp, WireTxnRequest } from './wire.js';

export type CompareOp = '=' | '!=' | '<' | '>';

export type Compare =
  | { target: 'version' | 'createRevision' | 'modRevision'; key: Bytes; op: CompareOp; value: number }
  | { target: 'value'; key: Bytes; op: CompareOp; value: Bytes }
  | { target: 'lease'; key: Bytes; op: CompareOp; value: LeaseId };

export type TxnOp =
  | { type: 'put'; key: Bytes; value: Bytes; options?: PutOptions }
  | { type: 'delete'; key: Bytes; options?: DeleteOptions }
  | { type: 'range'; key: Bytes; options?: RangeOptions };

export interface TxnRequest {
  compare?: Compare[];
  success?: TxnOp[];
  failure?: TxnOp[];
}

export const compare = {
  version: (key: Bytes, op: CompareOp, value: number): Compare => ({ target: 'version', key, op, value }),
  createRevision: (key: Bytes, op: CompareOp, value: number): Compare => ({ target: 'createRevision', key, op, value }),
  modRevision: (key: Bytes, op: CompareOp, value: number): Compare => ({ target: 'modRevision', key, op, value }),
  value: (key: Bytes, op: CompareOp, value: Bytes): Compare => ({ target: 'value', key, op, value }),
  lease: (key: Bytes, op: CompareOp, value: LeaseId): Compare => ({ target: 'lease', key, op, value }),
} as const;

export const op = {
  put: (key: Bytes, value: Bytes, options?: PutOptions): TxnOp => ({ type: 'put', key, value, options }),
  delete: (key: Bytes, options?: DeleteOptions): TxnOp => ({ type: 'delete', key, options }),
  range: (key: Bytes, options?: RangeOptions): TxnOp => ({ type: 'range', key, options }),
} as const;

const RESULT: Record<CompareOp, CompareResult> = { '=': 'EQUAL', '!=': 'NOT_EQUAL', '<': 'LESS', '>': 'GREATER' };

function toWireCompare(c: Compare): WireCompare {
  const base = { result: RESULT[c.op], key: toBuffer(c.key) };
  switch (c.target) {
    case 'version':
      return { ...base, target: 'VERSION', version: c.value };
    case 'createRevision':
      return { ...base, target: 'CREATE', create_revision: c.value };
    case 'modRevision':
      return { ...base, target: 'MOD', mod_revision: c.value };
    case 'value':
      return { ...base, target: 'VALUE', value: toBuffer(c.value) };
    case 'lease':
      return { ...base, target: 'LEASE', lease: c.value };
  }
}

function toWireOp(o: TxnOp): WireRequestOp {
  switch (o.type) {
    case 'put':
      return { request_put: putRequest(o.key, o.value, o.options) };
    case 'delete':
      return { request_delete_range: deleteRequest(o.key, o.options) };
    case 'range':
      return { request_range: rangeRequest(o.key, o.options) };
  }
}

export function toWireTxn(req: TxnRequest): WireTxnRequest {
  return {
    compare: (req.compare ?? []).map(toWireCompare),
    success: (req.success ?? []).map(toWireOp),
    failure: (req.failure ?? []).map(toWireOp),
  };
}
