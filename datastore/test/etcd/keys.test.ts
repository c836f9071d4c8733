import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixEnd, rangeEndFor } from '../../src/etcd/keys.js';
import { rangeRequest, deleteRequest } from '../../src/etcd/requests.js';

test('prefixEnd increments the last byte below 0xff and drops the rest', () => {
  assert.deepEqual(prefixEnd('/calico/'), Buffer.from('/calico0'));
  assert.deepEqual(prefixEnd('aa'), Buffer.from('ab'));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixEnd(Buffer.from([0x01, 0xff, 0xff])), Buffer.from([0x02]));
});

test('prefixEnd of an all-0xff or empty prefix means every key after it ("\\0")', () => {
  assert.deepEqual(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
  assert.deepEqual(prefixEnd(''), Buffer.from([0]));
});

test('prefixEnd does not modify its input', () => {
  const key = Buffer.from('ab');
  prefixEnd(key);
  assert.deepEqual(key, Buffer.from('ab'));
});

test('rangeEndFor prefers an explicit rangeEnd, then prefix, else a single key', () => {
  assert.deepEqual(rangeEndFor('a', { rangeEnd: 'c', prefix: true }), Buffer.from('c'));
  assert.deepEqual(rangeEndFor('a', { prefix: true }), Buffer.from('b'));
  assert.equal(rangeEndFor('a', {}), undefined);
});

test('range and delete over every key use key "\\0", range_end "\\0"', () => {
  const r = rangeRequest('', { prefix: true });
  assert.deepEqual(r.key, Buffer.from([0]));
  assert.deepEqual(r.range_end, Buffer.from([0]));
  const d = deleteRequest('', { prefix: true, prevKv: true });
  assert.deepEqual(d.key, Buffer.from([0]));
  assert.equal(d.prev_kv, true);
});

test('rangeRequest carries only the options that were set', () => {
  assert.deepEqual(rangeRequest('k'), { key: Buffer.from('k') });
  assert.deepEqual(rangeRequest('k', { revision: 7, limit: 2, keysOnly: true, countOnly: true, serializable: true }), {
    key: Buffer.from('k'),
    revision: 7,
    limit: 2,
    keys_only: true,
    count_only: true,
    serializable: true,
  });
});
