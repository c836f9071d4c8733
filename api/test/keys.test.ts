import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFor, keyForRef, listPrefix, parseKey, blockAffinityName } from '../src/keys.js';
import { findKind, allKinds } from '../src/kinds.js';
import type { Resource } from '../src/resource.js';

const R = '/calico/resources/v3/projectcalico.org';

test('v3 resource keys match libcalico-go etcdv3 paths', () => {
  assert.equal(keyForRef({ kind: 'IPPool', name: 'pool-a' }), `${R}/ippools/pool-a`);
  assert.equal(keyForRef({ kind: 'NetworkPolicy', name: 'p', namespace: 'ns1' }), `${R}/networkpolicies/ns1/p`);
  assert.equal(keyForRef({ kind: 'GlobalNetworkPolicy', name: 'g' }), `${R}/globalnetworkpolicies/g`);
  assert.equal(keyForRef({ kind: 'WorkloadEndpoint', name: 'w', namespace: 'n' }), `${R}/workloadendpoints/n/w`);
  assert.equal(keyForRef({ kind: 'ClusterInformation', name: 'default' }), `${R}/clusterinformations/default`);
  assert.throws(() => keyForRef({ kind: 'NetworkPolicy', name: 'p' }), /namespace is required/);
  assert.throws(() => keyForRef({ kind: 'Bogus', name: 'p' }), /unknown resource kind/);
});

test('IPAM keys match libcalico-go model paths', () => {
  assert.equal(keyForRef({ kind: 'IPAMBlock', name: '10-0-0-0-26' }), '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26');
  assert.equal(keyForRef({ kind: 'IPAMBlock', name: 'fd00---122' }), '/calico/ipam/v2/assignment/ipv6/block/fd00::-122');
  assert.equal(keyForRef({ kind: 'IPAMHandle', name: 'k8s-pod-network.abc' }), '/calico/ipam/v2/handle/k8s-pod-network.abc');
  assert.equal(keyForRef({ kind: 'IPAMConfiguration', name: 'default' }), '/calico/ipam/v2/config');
  assert.equal(keyForRef({ kind: 'BlockAffinity', name: 'x' }), undefined);
  const aff: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BlockAffinity',
    metadata: { name: blockAffinityName('node-1', '10.0.0.64/26') },
    spec: { node: 'node-1', cidr: '10.0.0.64/26', state: 'confirmed' },
  };
  assert.equal(keyFor(aff), '/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26');
  assert.equal(aff.metadata.name, 'node-1-10-0-0-64-26');
});

test('parseKey inverts every key kind and ignores foreign keys', () => {
  const nsKey = parseKey(`${R}/networkpolicies/ns1/allow`);
  assert.equal(nsKey?.kind.kind, 'NetworkPolicy');
  assert.equal(nsKey?.namespace, 'ns1');
  assert.equal(nsKey?.name, 'allow');
  assert.equal(parseKey(`${R}/ippools/a`)?.kind.kind, 'IPPool');
  const aff = parseKey('/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26');
  assert.deepEqual([aff?.kind.kind, aff?.node, aff?.cidr, aff?.name], ['BlockAffinity', 'node-1', '10.0.0.64/26', 'node-1-10-0-0-64-26']);
  const blk = parseKey('/calico/ipam/v2/assignment/ipv6/block/fd00::-122');
  assert.deepEqual([blk?.kind.kind, blk?.name, blk?.cidr], ['IPAMBlock', 'fd00---122', 'fd00::/122']);
  assert.equal(parseKey('/calico/ipam/v2/handle/h1')?.name, 'h1');
  assert.equal(parseKey('/calico/ipam/v2/config')?.kind.kind, 'IPAMConfiguration');
  // Wrong depth, unknown plural, other trees.
  assert.equal(parseKey(`${R}/networkpolicies/onlyname`), undefined);
  assert.equal(parseKey(`${R}/ippools/ns/name`), undefined);
  assert.equal(parseKey(`${R}/widgets/a`), undefined);
  assert.equal(parseKey('/calico/felix/v2/status'), undefined);
});

test('every kind has a list prefix that its keys fall under', () => {
  for (const k of allKinds()) {
    const prefix = listPrefix(k.kind);
    assert.ok(prefix.startsWith('/calico/'), k.kind);
  }
  assert.equal(listPrefix('NetworkPolicy', 'ns1'), `${R}/networkpolicies/ns1/`);
});

test('kinds are found by calicoctl names in any case', () => {
  for (const [name, kind] of [
    ['ippools', 'IPPool'],
    ['IPPool', 'IPPool'],
    ['pool', 'IPPool'],
    ['gnp', 'GlobalNetworkPolicy'],
    ['NetworkPolicies', 'NetworkPolicy'],
    ['wep', 'WorkloadEndpoint'],
    ['hep', 'HostEndpoint'],
    ['felixconfig', 'FelixConfiguration'],
    ['bgpconfigurations', 'BGPConfiguration'],
    ['nodes', 'Node'],
  ]) {
    assert.equal(findKind(name)?.kind, kind, name);
  }
  assert.equal(findKind('widgets'), undefined);
});
