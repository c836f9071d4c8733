import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValue, encodeValue } from '../src/storage.js';
import { keyFor } from '../src/keys.js';
import { applyDefaults, validateResource } from '../src/validation/index.js';
import type { Resource } from '../src/resource.js';
import { doc, expectIssue, expectValid, fixture, runTable } from './validation-helpers.js';

const block = (spec: Record<string, unknown>) => doc('IPAMBlock', { ...fixture('ipamblock.json').spec, ...spec }, '10-0-0-0-30');

test('IPAMBlock bookkeeping must hold together', () => {
  runTable([
    { name: 'sample', doc: fixture('ipamblock.json') },
    {
      name: 'empty v6 block',
      doc: doc('IPAMBlock', { cidr: 'fd00::/126', allocations: [null, null, null, null], unallocated: [0, 1, 2, 3], attributes: [] }, 'fd00---126'),
    },
    { name: 'wrong name', doc: { ...fixture('ipamblock.json'), metadata: { name: '10-0-0-4-30' } }, path: 'metadata.name', message: 'must be "10-0-0-0-30"' },
    { name: 'host bits', doc: block({ cidr: '10.0.0.1/30' }), path: 'spec.cidr', message: 'has host bits set' },
    { name: 'allocations length', doc: block({ allocations: [0, null, 1] }), path: 'spec.allocations', message: 'has 3 entries; a /30 block has 4 addresses' },
    { name: 'dangling attribute', doc: block({ allocations: [0, null, 5, null] }), path: 'spec.allocations[2]', message: 'refers to attributes[5]' },
    { name: 'allocated listed free', doc: block({ unallocated: [0, 1, 3] }), path: 'spec.unallocated[0]', message: 'ordinal 0 is allocated' },
    { name: 'free not listed', doc: block({ unallocated: [1] }), path: 'spec.unallocated', message: 'missing free ordinal 3' },
    { name: 'ordinal outside', doc: block({ unallocated: [1, 3, 4] }), path: 'spec.unallocated[2]', message: 'outside the block (0..3)' },
    { name: 'ordinal twice', doc: block({ unallocated: [1, 3, 3] }), path: 'spec.unallocated[2]', message: 'listed twice' },
    {
      name: 'sequence key',
      doc: block({ sequenceNumberForAllocation: { '7': 1 } }),
      path: 'spec.sequenceNumberForAllocation["7"]',
      message: 'not an ordinal of this block',
    },
    { name: 'affinity format', doc: block({ affinity: 'node1' }), path: 'spec.affinity', message: 'use host:<node> or virtual:<name>' },
    { name: 'negative attribute index', doc: block({ allocations: [-1, null, 1, null] }), path: 'spec.allocations[0]', message: '-1 is less than 0' },
    {
      name: 'attribute shape',
      doc: block({ attributes: [{ handle_id: 'h', secondary: { node: 1 } }, {}] }),
      path: 'spec.attributes[0].secondary.node',
      message: 'expected a string',
    },
    { name: 'cidr required', doc: doc('IPAMBlock', { allocations: [] }, 'x'), path: 'spec.cidr', message: 'is required' },
  ]);
  assert.equal(expectValid({ ...fixture('ipamblock.json'), metadata: {} }).metadata.name, '10-0-0-0-30', 'name filled from the CIDR');
});

test('IPAM records read from etcd validate after the storage round trip', () => {
  for (const file of ['ipamblock.json', 'blockaffinity.json', 'ipamhandle.json', 'ipamconfiguration.json']) {
    const res = expectValid(fixture(file), file) as unknown as Resource;
    const read = decodeValue(keyFor(res), encodeValue(res), 7);
    assert.deepEqual(validateResource(applyDefaults(read)), [], file);
  }
});

test('BlockAffinity', () => {
  const aff = (spec: unknown, name = 'node1-10-0-0-0-26') => doc('BlockAffinity', spec, name);
  const filled = expectValid({ ...aff({ node: 'node1', cidr: '10.0.0.0/26' }), metadata: {} });
  assert.equal(filled.metadata.name, 'node1-10-0-0-0-26');
  assert.equal(filled.spec.state, 'confirmed');
  assert.equal(filled.spec.deleted, false);
  runTable([
    { name: 'sample', doc: fixture('blockaffinity.json') },
    { name: 'pending', doc: aff({ node: 'node1', cidr: '10.0.0.0/26', state: 'pendingDeletion' }) },
    { name: 'deleted as libcalico string', doc: aff({ node: 'node1', cidr: '10.0.0.0/26', deleted: 'false' }) },
    {
      name: 'deleted garbage',
      doc: aff({ node: 'node1', cidr: '10.0.0.0/26', deleted: 'no' }),
      path: 'spec.deleted',
      message: 'expected true or false, got "no"',
    },
    {
      name: 'state',
      doc: aff({ node: 'node1', cidr: '10.0.0.0/26', state: 'claimed' }),
      path: 'spec.state',
      message: 'is not one of confirmed, pending, pendingDeletion',
    },
    { name: 'name mismatch', doc: aff({ node: 'node2', cidr: '10.0.0.0/26' }), path: 'metadata.name', message: 'must be "node2-10-0-0-0-26"' },
    { name: 'node required', doc: aff({ cidr: '10.0.0.0/26' }), path: 'spec.node', message: 'is required' },
    { name: 'cidr host bits', doc: aff({ node: 'node1', cidr: '10.0.0.1/26' }), path: 'spec.cidr', message: 'host bits' },
  ]);
});

test('IPAMHandle', () => {
  const handle = (spec: unknown, name = 'k8s-pod-network.abc') => doc('IPAMHandle', spec, name);
  const filled = expectValid({ ...handle({ block: { '10.0.0.0/26': 1 } }), metadata: { name: 'ipip-tunnel-addr-Node1' } });
  assert.equal(filled.spec.handleID, 'ipip-tunnel-addr-Node1', 'handleID filled from the name; handle IDs are not DNS names');
  assert.equal(expectValid({ ...handle({ handleID: 'h-1' }), metadata: {} }).metadata.name, 'h-1');
  runTable([
    { name: 'sample', doc: fixture('ipamhandle.json') },
    { name: 'id mismatch', doc: handle({ handleID: 'other' }), path: 'spec.handleID', message: 'must equal metadata.name' },
    {
      name: 'block key',
      doc: handle({ handleID: 'k8s-pod-network.abc', block: { '10.0.0.0-26': 1 } }),
      path: 'spec.block["10.0.0.0-26"]',
      message: 'is not a CIDR',
    },
    {
      name: 'block count',
      doc: handle({ handleID: 'k8s-pod-network.abc', block: { '10.0.0.0/26': -1 } }),
      path: 'spec.block["10.0.0.0/26"]',
      message: '-1 is less than 0',
    },
    { name: 'slash in name', doc: handle({ handleID: 'a/b' }, 'a/b'), path: 'metadata.name', message: "must not contain '/'" },
  ]);
});

test('IPAMConfiguration', () => {
  assert.deepEqual(expectValid(doc('IPAMConfiguration', {}, 'default')).spec, { strictAffinity: false, autoAllocateBlocks: true });
  assert.deepEqual(expectValid(doc('IPAMConfiguration', { strictAffinity: true, autoAllocateBlocks: false }, 'default')).spec, {
    strictAffinity: true,
    autoAllocateBlocks: false,
  });
  runTable([
    { name: 'docs sample', doc: fixture('ipamconfiguration.json') },
    { name: 'name', doc: doc('IPAMConfiguration', {}, 'cluster'), path: 'metadata.name', message: 'the only IPAMConfiguration is named "default"' },
    {
      name: 'negative blocks',
      doc: doc('IPAMConfiguration', { maxBlocksPerHost: -1 }, 'default'),
      path: 'spec.maxBlocksPerHost',
      message: '-1 is outside 0..2147483647',
    },
    {
      name: 'strictAffinity type',
      doc: doc('IPAMConfiguration', { strictAffinity: 'true' }, 'default'),
      path: 'spec.strictAffinity',
      message: 'expected true or false',
    },
  ]);
  expectIssue(doc('IPAMConfiguration', { kubeVirtVMAddressPersistence: 'On' }, 'default'), 'spec.kubeVirtVMAddressPersistence', 'Enabled, Disabled');
});
