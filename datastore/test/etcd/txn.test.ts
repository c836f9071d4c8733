import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, op, toWireTxn } from '../../src/etcd/txn.js';
import { etcdMethods } from '../../src/etcd/proto.js';

test('compare builders map to etcd targets, results and the right oneof field', () => {
  const wire = toWireTxn({
    compare: [
      compare.modRevision('/k', '=', 5),
      compare.createRevision('/k', '<', 3),
      compare.version('/k', '>', 1),
      compare.value('/k', '!=', 'v'),
      compare.lease('/k', '=', '42'),
    ],
  });
  assert.deepEqual(wire.compare, [
    { result: 'EQUAL', key: Buffer.from('/k'), target: 'MOD', mod_revision: 5 },
    { result: 'LESS', key: Buffer.from('/k'), target: 'CREATE', create_revision: 3 },
    { result: 'GREATER', key: Buffer.from('/k'), target: 'VERSION', version: 1 },
    { result: 'NOT_EQUAL', key: Buffer.from('/k'), target: 'VALUE', value: Buffer.from('v') },
    { result: 'EQUAL', key: Buffer.from('/k'), target: 'LEASE', lease: '42' },
  ]);
  assert.deepEqual(wire.success, []);
  assert.deepEqual(wire.failure, []);
});

test('ops map to RequestOp members', () => {
  const wire = toWireTxn({
    success: [op.put('/a', 'x', { lease: '9', prevKv: true }), op.delete('/p/', { prefix: true })],
    failure: [op.range('/a')],
  });
  assert.deepEqual(wire.success, [
    { request_put: { key: Buffer.from('/a'), value: Buffer.from('x'), lease: '9', prev_kv: true } },
    { request_delete_range: { key: Buffer.from('/p/'), range_end: Buffer.from('/p0') } },
  ]);
  assert.deepEqual(wire.failure, [{ request_range: { key: Buffer.from('/a') } }]);
});

test('a txn request encodes with the embedded proto and decodes back', () => {
  const m = etcdMethods();
  const bytes = m.txn.serialize(toWireTxn({ compare: [compare.modRevision('/k', '=', 0)], success: [op.put('/k', 'v')] }));
  assert.ok(bytes.length > 0);
  // Field 1 (compare, length-delimited) starts the message: tag 0x0a.
  assert.equal(bytes[0], 0x0a);
});
