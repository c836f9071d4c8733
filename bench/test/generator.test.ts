import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { checkResource, keyFor, type Resource } from '@cattail/api';
import { clusterMix, generateCluster, k8sWorkloadEndpointName, mixTotal, withTimestamp, TS_LABEL } from '../src/generator.js';

/** One of each kind plus every 97th resource: every kind is covered, the test stays fast. */
function sample(resources: Resource[]): Resource[] {
  const firstOfKind = new Map<string, Resource>();
  for (const r of resources) if (!firstOfKind.has(r.kind)) firstOfKind.set(r.kind, r);
  return [...firstOfKind.values(), ...resources.filter((_, i) => i % 97 === 0)];
}

test('generated resources pass checkResource unchanged (they are stored in their defaulted form)', () => {
  const { resources } = generateCluster({ resources: 3500, seed: 7 });
  const kinds = new Set(resources.map((r) => r.kind));
  assert.deepEqual([...kinds].sort(), [
    'BlockAffinity',
    'ClusterInformation',
    'FelixConfiguration',
    'GlobalNetworkPolicy',
    'IPAMBlock',
    'IPPool',
    'NetworkPolicy',
    'NetworkSet',
    'Node',
    'Profile',
    'WorkloadEndpoint',
  ]);
  for (const r of sample(resources)) {
    const res = checkResource(JSON.parse(JSON.stringify(r)));
    assert.ok(res.ok, `${r.kind} ${r.metadata.name}: ${res.ok ? '' : JSON.stringify(res.issues)}`);
    assert.ok(isDeepStrictEqual(res.resource, r), `${r.kind} ${r.metadata.name} changes when defaulted`);
  }
});

test('the resource count is exactly R, with distinct etcd keys, for several sizes', () => {
  for (const R of [16, 100, 3500, 35_000]) {
    const c = generateCluster({ resources: R, seed: 1 });
    assert.equal(c.resources.length, R);
    assert.equal(mixTotal(c.mix), R);
    assert.equal(new Set(c.resources.map(keyFor)).size, R);
    assert.equal(c.workloadEndpoints.length, c.mix.workloadEndpoints);
  }
  const m = clusterMix(35_000);
  assert.equal(m.nodes, 1000);
  assert.equal(m.workloadEndpoints, 29_996);
  assert.equal(m.networkPolicies + m.globalNetworkPolicies + m.profiles + m.networkSets, 2000);
  assert.throws(() => clusterMix(15), RangeError);
});

test('the same seed gives the same cluster; another seed a different one', () => {
  const a = generateCluster({ resources: 2000, seed: 42 });
  const b = generateCluster({ resources: 2000, seed: 42 });
  const c = generateCluster({ resources: 2000, seed: 43 });
  assert.equal(JSON.stringify(a.resources), JSON.stringify(b.resources));
  assert.notEqual(JSON.stringify(a.resources), JSON.stringify(c.resources));
});

test('endpoint names are Calico’s, with every dash in a segment doubled', () => {
  assert.equal(k8sWorkloadEndpointName('worker-0001', 'web-5d8f7c9b6d-x7k2p'), 'worker--0001-k8s-web--5d8f7c9b6d--x7k2p-eth0');
  const { workloadEndpoints } = generateCluster({ resources: 500, seed: 3 });
  for (const w of workloadEndpoints.slice(0, 50)) {
    // Left out, the name is derived by Calico's rule; it must come out as ours.
    const doc = JSON.parse(JSON.stringify(w)) as Resource;
    delete (doc.metadata as { name?: string }).name;
    const res = checkResource(doc);
    assert.ok(res.ok);
    assert.equal(res.resource.metadata.name, w.metadata.name);
  }
});

test('each node has one /26 block holding exactly its endpoints’ addresses', () => {
  const { resources, workloadEndpoints } = generateCluster({ resources: 3500, seed: 5 });
  const blocks = resources.filter((r) => r.kind === 'IPAMBlock');
  const allocated = blocks.reduce((n, b) => n + (b.spec?.allocations as Array<number | null>).filter((a) => a !== null).length, 0);
  assert.equal(allocated, workloadEndpoints.length);
  const ips = new Set(workloadEndpoints.map((w) => (w.spec?.ipNetworks as string[])[0]));
  assert.equal(ips.size, workloadEndpoints.length);
});

test('withTimestamp sets the churn label and leaves the original alone', () => {
  const { workloadEndpoints } = generateCluster({ resources: 100, seed: 1 });
  const w = workloadEndpoints[0];
  const stamped = withTimestamp(w, '123456789');
  assert.equal(stamped.metadata.labels?.[TS_LABEL], '123456789');
  assert.equal(w.metadata.labels?.[TS_LABEL], undefined);
  assert.ok(checkResource(JSON.parse(JSON.stringify(stamped))).ok);
});
