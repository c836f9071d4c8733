import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValue, encodeValue, toKeyValue } from '../src/storage.js';
import { CorruptValueError } from '../src/errors.js';
import type { Resource } from '../src/resource.js';

const R = '/calico/resources/v3/projectcalico.org';

test('v3 resources are stored whole, without resourceVersion, and decode with it', () => {
  const pool: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'p', resourceVersion: '41', uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { cidr: '10.0.0.0/16', blockSize: 26 },
  };
  const { key, value } = toKeyValue(pool);
  assert.equal(key, `${R}/ippools/p`);
  const stored = JSON.parse(value);
  assert.equal(stored.metadata.resourceVersion, undefined);
  assert.equal(stored.kind, 'IPPool');
  const back = decodeValue(key, Buffer.from(value), 57);
  assert.deepEqual(back, { ...pool, metadata: { ...pool.metadata, resourceVersion: '57' } });
});

test('values written by Calico decode (namespace taken from the key)', () => {
  const calico =
    '{"kind":"NetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"allow","namespace":"ns1","uid":"x","creationTimestamp":"2020-01-01T00:00:00Z"},"spec":{"tier":"default","order":100,"selector":"all()","types":["Ingress"]}}';
  const res = decodeValue(`${R}/networkpolicies/ns1/allow`, calico, 9);
  assert.equal(res.metadata.namespace, 'ns1');
  assert.equal(res.metadata.resourceVersion, '9');
  assert.equal((res.spec as { order: number }).order, 100);
});

test('corrupt values are reported with the key and the reason', () => {
  const key = `${R}/ippools/p`;
  const cases: Array<[string, RegExp]> = [
    ['{not json', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"kind":"IPPool"}', /metadata is missing/],
    ['{"kind":"Node","metadata":{"name":"p"}}', /does not match the key/],
    ['{"kind":"IPPool","metadata":{"name":"q"}}', /metadata.name "q" does not match/],
    ['{"kind":"IPPool","metadata":{"name":"p"},"spec":"x"}', /spec is not an object/],
  ];
  for (const [raw, re] of cases) {
    assert.throws(
      () => decodeValue(key, raw, 1),
      (err: unknown) => {
        assert.ok(err instanceof CorruptValueError);
        assert.equal(err.key, key);
        assert.match(err.message, re);
        return true;
      },
      raw,
    );
  }
  assert.throws(() => decodeValue('/calico/unknown/x', '{}', 1), CorruptValueError);
});

test('IPAM records round-trip through libcalico-go model JSON', () => {
  const blockJson =
    '{"cidr":"10.0.0.0/26","affinity":"host:node-1","allocations":[0,null],"unallocated":[1],"attributes":[{"handle_id":"h1","secondary":{"node":"node-1"}}],"sequenceNumber":3,"sequenceNumberForAllocation":{"0":2},"deleted":false}';
  const blockKey = '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26';
  const block = decodeValue(blockKey, blockJson, 5);
  assert.equal(block.kind, 'IPAMBlock');
  assert.equal(block.metadata.name, '10-0-0-0-26');
  assert.deepEqual(JSON.parse(encodeValue(block)), JSON.parse(blockJson));
  assert.equal(toKeyValue(block).key, blockKey);

  const affKey = '/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.0-26';
  const aff = decodeValue(affKey, '{"state":"confirmed","deleted":false}', 6);
  assert.deepEqual(aff.spec, { state: 'confirmed', node: 'node-1', cidr: '10.0.0.0/26', deleted: false });
  assert.equal(toKeyValue(aff).key, affKey);
  assert.deepEqual(JSON.parse(encodeValue(aff)), { state: 'confirmed', deleted: false });

  const handle = decodeValue('/calico/ipam/v2/handle/h1', '{"block":{"10.0.0.0/26":1},"deleted":false}', 7);
  assert.deepEqual(handle.spec, { handleID: 'h1', block: { '10.0.0.0/26': 1 }, deleted: false });
  assert.deepEqual(JSON.parse(encodeValue(handle)), { block: { '10.0.0.0/26': 1 }, deleted: false });

  const cfg = decodeValue('/calico/ipam/v2/config', '{"strict_affinity":true,"auto_allocate_blocks":true}', 8);
  assert.deepEqual(cfg.spec, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
  assert.deepEqual(JSON.parse(encodeValue(cfg)), { strict_affinity: true, auto_allocate_blocks: true });
  assert.throws(() => decodeValue(blockKey, '{"allocations":[]}', 1), /block has no cidr/);
});
